"""The fixed tables behind the soft factors, so the scalar and vectorised paths share one truth.

Every factor is a value in [0, 1]; the policy's weight turns it into points.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

import numpy as np
import numpy.typing as npt

from matching.vocabulary import MEETING_FORMATS, PATHWAYS, Pathway

# How well a mentor on one pathway can walk with a newcomer on another (symmetric; the same
# pathway is 1.0). The numbers encode what peers in the field say: SMART and secular recovery are
# close cousins; medication for OUD sits comfortably with harm reduction and with most mutual-help
# groups; faith-based groups (Celebrate Recovery) build on the 12 steps; harm reduction and
# abstinence-only traditions fit least. "other" says too little to be more than a weak fit.
_PAIRS: Final[dict[tuple[Pathway, Pathway], float]] = {
    ("twelve_step", "smart_recovery"): 0.4,
    ("twelve_step", "faith_based"): 0.6,
    ("twelve_step", "mindfulness"): 0.5,
    ("twelve_step", "medication_supported"): 0.5,
    ("twelve_step", "harm_reduction"): 0.2,
    ("twelve_step", "secular"): 0.3,
    ("smart_recovery", "faith_based"): 0.2,
    ("smart_recovery", "mindfulness"): 0.5,
    ("smart_recovery", "medication_supported"): 0.6,
    ("smart_recovery", "harm_reduction"): 0.5,
    ("smart_recovery", "secular"): 0.8,
    ("faith_based", "mindfulness"): 0.4,
    ("faith_based", "medication_supported"): 0.4,
    ("faith_based", "harm_reduction"): 0.1,
    ("faith_based", "secular"): 0.1,
    ("mindfulness", "medication_supported"): 0.5,
    ("mindfulness", "harm_reduction"): 0.5,
    ("mindfulness", "secular"): 0.6,
    ("medication_supported", "harm_reduction"): 0.8,
    ("medication_supported", "secular"): 0.5,
    ("harm_reduction", "secular"): 0.6,
}
PATHWAY_COMPATIBILITY: Final[dict[frozenset[Pathway], float]] = {
    frozenset(pair): value for pair, value in _PAIRS.items()
}
OTHER_PATHWAY_FIT: Final = 0.3  # "other" against anything, including another "other"
NO_PATHWAY_GIVEN_FIT: Final = 0.5  # a newcomer who names no pathway: neutral for every mentor


def pathway_pair_fit(a: Pathway, b: Pathway) -> float:
    """The table's value for one pair of pathways."""
    if a == b and a != "other":
        return 1.0
    if "other" in (a, b):
        return OTHER_PATHWAY_FIT
    return PATHWAY_COMPATIBILITY[frozenset((a, b))]


def _pathway_mask_table() -> npt.NDArray[np.float64]:
    """Fit between every pair of pathway sets (as 8-bit masks): the best pair across the sets.

    Built with array operations: a loop over the 65,536 pairs of sets cost 60 ms at import.
    """
    n = len(PATHWAYS)
    pair = np.array([[pathway_pair_fit(a, b) for b in PATHWAYS] for a in PATHWAYS])
    members = (np.arange(1 << n)[:, None] >> np.arange(n)) & 1 == 1  # masks x pathways
    # Best fit of each set with each single pathway, then with each set: -inf where not a member.
    best_per_pathway = np.where(members[:, :, None], pair[None, :, :], -np.inf).max(axis=1)
    table: npt.NDArray[np.float64] = np.where(
        members[None, :, :], best_per_pathway[:, None, :], -np.inf
    ).max(axis=2)
    table[0, :] = table[:, 0] = 0.0  # an empty set fits nothing
    return table


PATHWAY_MASK_FIT: Final = _pathway_mask_table()

# Recovery-stage gap, in days the mentor is further along: nothing when not ahead, rising to full
# once a year ahead (meaningfully further along), full up to 10 years, then easing to 0.8 at 20
# years, since a very long gap can make early recovery harder to remember. Evaluated per whole
# week of gap, so scalar and vectorised paths read one table.
GAP_POINTS_DAYS: Final = (0.0, 365.0, 3650.0, 7300.0)
GAP_POINTS_VALUE: Final = (0.0, 1.0, 1.0, 0.8)
GAP_TABLE_WEEKS: Final = int(GAP_POINTS_DAYS[-1] // 7) + 1
GAP_BY_WEEK: Final = np.interp(
    np.arange(GAP_TABLE_WEEKS + 1) * 7.0, GAP_POINTS_DAYS, GAP_POINTS_VALUE
)


# The same points from a gap of -1 week (anything below: not ahead, so 0), for one clipped gather.
GAP_FROM_MINUS_ONE_WEEK: Final = np.concatenate(([0.0], GAP_BY_WEEK))


def recovery_gap_fit(gap_days: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """The recovery-gap factor for gaps in days (negative gaps score 0)."""
    gap: npt.NDArray[np.float64] = GAP_FROM_MINUS_ONE_WEEK[
        np.clip(gap_days // 7, -1, GAP_TABLE_WEEKS) + 1
    ]
    return gap


IN_PERSON_BIT: Final = 1 << MEETING_FORMATS.index("in_person")
ALL_FORMATS: Final = (1 << len(MEETING_FORMATS)) - 1


def _format_fit_table() -> npt.NDArray[np.float64]:
    """Share of the newcomer's formats the mentor can actually offer, by (wanted, usable) masks."""
    size = 1 << len(MEETING_FORMATS)
    table = np.zeros((size, size))
    for wanted in range(1, size):
        for usable in range(size):
            table[wanted, usable] = (wanted & usable).bit_count() / wanted.bit_count()
    return table


FORMAT_FIT: Final = _format_fit_table()


@lru_cache(maxsize=4096)
def mask_of(values: frozenset[str], vocabulary: tuple[str, ...]) -> int:
    """Bit i set when vocabulary[i] is in values (cached: people share a few hundred sets)."""
    return sum(1 << i for i, word in enumerate(vocabulary) if word in values)


def pathway_pairs_text(newcomer: frozenset[Pathway], mentor: frozenset[Pathway]) -> list[Pathway]:
    """The pathways both follow, else the best-fitting pair, for a reason sentence."""
    shared: list[Pathway] = [p for p in PATHWAYS if p in newcomer and p in mentor and p != "other"]
    if shared:
        return shared
    best = max(
        ((pathway_pair_fit(a, b), a, b) for a in sorted(newcomer) for b in sorted(mentor)),
        default=None,
    )
    return [] if best is None else [best[1], best[2]]
