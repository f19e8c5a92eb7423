"""The one module that talks to the matching engine: rows in, explained proposals out.

It turns intakes and mentor profiles into the engine's records and the program's settings into a
`Policy` (one source for the minimum recovery time and the weights), and keeps each program's
`MentorIndex` between requests. The index is rebuilt only when its key changes: the key holds
every gated mentor's profile version and places left plus the policy, so a changed profile,
a training pass or lapse, a pause or a new match each give a new key, in every process alike.

`matching` is imported lazily (its public names load numpy and scipy on first use), so the
service starts without paying for the engine until someone asks for a mentor.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import matching
from matching.vocabulary import FORMAT_LABELS
from tandem.accounts.services import ProgramSettings
from tandem.profiles import services as profiles
from tandem.profiles.schemas import MentorProfileOut, NewcomerIntakeOut, Slot

if TYPE_CHECKING:
    from matching import Mentor, MentorIndex, Newcomer, PastMatch, Policy, RankedMentor, WeightFit

ALTERNATIVES = 3  # shown beside the best proposal


def week_of(day: date) -> date:
    """The Monday of `day`'s week: availability is lined up on the current week's calendar."""
    return day - timedelta(days=day.weekday())


def policy_for(
    settings: ProgramSettings, today: date, weights: Mapping[str, float] | None = None
) -> Policy:
    """The program's matching rules, as the engine reads them; `weights` are the program's
    adopted version (None: the engine's defaults, version 0)."""
    return matching.Policy(
        weights=matching.Weights(**weights) if weights else matching.Weights(),
        min_mentor_recovery_days=settings.min_mentor_recovery_days,
        reference_week=week_of(today),
    )


def weights_of(policy: Policy) -> dict[str, float]:
    return {name: float(getattr(policy.weights, name)) for name in matching.FACTORS}


def default_weights() -> dict[str, float]:
    """The engine's own weights: version 0."""
    return {name: float(getattr(matching.Weights(), name)) for name in matching.FACTORS}


def _minutes(time_of_day: str) -> int:
    hours, mins = time_of_day.split(":")
    return int(hours) * 60 + int(mins)


def slots(availability: Iterable[Slot]) -> tuple[tuple[int, int, int], ...]:
    return tuple((s.day, _minutes(s.start), _minutes(s.end)) for s in availability)


def newcomer_record(
    intake: NewcomerIntakeOut, today: date, excluded: Iterable[int], waiting_since: date
) -> Newcomer:
    """The intake as the engine's `Newcomer` (one translation, in `profiles`); `excluded` are
    mentors they left or declined."""
    return profiles.newcomer_record(
        intake,
        today=today,
        excluded_mentor_ids=frozenset(str(m) for m in excluded),
        waiting_since=waiting_since,
    )


def mentor_record(profile: MentorProfileOut, today: date, places: int, load: int) -> Mentor:
    """The profile as the engine's `Mentor`, with the places the caseload rule leaves."""
    return profiles.mentor_record(profile, today=today, current_load=load, places=places)


# --- the cached mentor index ------------------------------------------------------------------


@dataclass(frozen=True)
class _Cached:
    key: Hashable
    index: MentorIndex


_indexes: dict[int, _Cached] = {}
_lock = threading.Lock()


def cached_index(program_id: int, key: Hashable) -> MentorIndex | None:
    """The program's index if it was built for exactly this key, else None (rebuild it)."""
    with _lock:
        cached = _indexes.get(program_id)
    return cached.index if cached is not None and cached.key == key else None


def build_index(
    program_id: int, key: Hashable, mentors: Sequence[Mentor], policy: Policy
) -> MentorIndex:
    index = matching.MentorIndex.build(mentors, policy)
    with _lock:
        _indexes[program_id] = _Cached(key, index)
    return index


def forget(program_id: int | None = None) -> None:
    """Drop the cached index of one program (or all): the next request rebuilds it."""
    with _lock:
        if program_id is None:
            _indexes.clear()
        else:
            _indexes.pop(program_id, None)


# --- explained proposals ------------------------------------------------------------------------


def shared_grid(
    first: tuple[Sequence[tuple[int, int, int]], str],
    second: tuple[Sequence[tuple[int, int, int]], str],
    view_zone: str,
    week: date,
) -> list[list[int]]:
    """For each weekday in `view_zone`, the hours (0-23) both people are free in at least a
    quarter of: the week grid on the review page and the match page."""
    grid = _shared_grid((tuple(first[0]), first[1]), (tuple(second[0]), second[1]), view_zone, week)
    return [list(hours) for hours in grid]


_Week = tuple[tuple[tuple[int, int, int], ...], str]


@lru_cache(maxsize=4096)
def _shared_grid(
    first: _Week, second: _Week, view_zone: str, week: date
) -> tuple[tuple[int, ...], ...]:
    """`shared_grid`, worked out once per pair of weeks: every view of a match page and every
    match on a mentor's home draws it, and people change their hours far less often."""
    from matching.availability import utc_bitmaps

    bitmaps = utc_bitmaps([first[0], second[0]], [first[1], second[1]], week)
    return tuple(tuple(hours) for hours in _grid_of(bitmaps[0] & bitmaps[1], view_zone, week))


def _grid_of(shared: Any, view_zone: str, week: date) -> list[list[int]]:
    """`shared_grid` from the packed UTC bitmap of the quarters two people share."""
    import numpy as np

    from matching.availability import local_quarter_of_utc, unpack

    shared_utc = unpack(shared)
    local = np.zeros(7 * 96, dtype=np.bool_)
    local[local_quarter_of_utc(view_zone, week)[shared_utc]] = True
    hours = local.reshape(7, 24, 4).any(axis=2)
    return [np.flatnonzero(hours[day]).tolist() for day in range(7)]


def explanation(
    ranked: RankedMentor,
    newcomer: Newcomer,
    mentor: Mentor,
    policy: Policy,
    grid: list[list[int]] | None = None,
) -> dict[str, Any]:
    """Everything a reviewer needs to see why, stored as plain JSON with the proposal (`grid`
    when the caller already has the week grid from the engine's bitmaps)."""
    return {
        "mentor_id": int(ranked.mentor_id),
        "score": round(ranked.score, 4),
        "contributions": [
            {
                "factor": c.factor,
                "value": round(c.value, 4),
                "weight": c.weight,
                "points": round(c.points, 4),
            }
            for c in ranked.contributions
        ],
        "reasons": list(ranked.reasons),
        "shared_hours": ranked.shared_hours,
        "shared_grid": grid
        if grid is not None
        else shared_grid(
            (newcomer.availability, newcomer.time_zone),
            (mentor.availability, mentor.time_zone),
            newcomer.time_zone,
            policy.reference_week,
        ),
        "rules_held": list(matching.RULE_LABELS),
        "time_zone": newcomer.time_zone,  # the zone `shared_grid` is drawn in
    }


def propose(newcomer: Newcomer, index: MentorIndex, policy: Policy) -> list[dict[str, Any]]:
    """The best mentor and up to `ALTERNATIVES` more, explained; empty when none fits."""
    ranked = matching.rank(newcomer, index, policy, k=1 + ALTERNATIVES)
    by_id = {m.id: m for m in index.mentors}
    return [explanation(r, newcomer, by_id[r.mentor_id], policy) for r in ranked]


BLOCK = 128  # newcomers evaluated against every usable mentor at once in `propose_many`


def propose_many(
    newcomers: Sequence[Newcomer], index: MentorIndex, policy: Policy, chosen: Sequence[str]
) -> list[list[dict[str, Any]]]:
    """For each newcomer, the mentor batch matching chose for them explained first, then the
    next `ALTERNATIVES` best feasible mentors: what `propose` and `matching.rank` say of those
    mentors (same factors, scores and id tie-break), for a whole queue at once.

    Ranking one newcomer at a time costs about a millisecond each against 2,500 mentors, most
    of it per call; here every rule and factor is evaluated for a block of newcomers against
    every usable mentor in one go (the engine's own `evaluate`), and the week grids come from
    the engine's bitmaps instead of being rebuilt from slots.
    """
    import numpy as np

    from matching.index import Evaluation, NewcomerBatch, evaluate
    from matching.ranking import explain

    if not newcomers:
        return []
    batch = NewcomerBatch.build(newcomers, index)
    cols = index.usable(policy)  # ascending, like `rank`'s candidates: ties go to the lower id
    at_col = {index.mentors[col].id: at for at, col in enumerate(cols.tolist())}
    proposals: list[list[dict[str, Any]]] = []
    for first in range(0, len(newcomers), BLOCK):
        rows = np.arange(first, min(first + BLOCK, len(newcomers)))
        evaluation = evaluate(batch, rows, index, cols, policy)
        scores = np.where(evaluation.feasible(), evaluation.score(policy), -np.inf)
        for r, row in enumerate(rows.tolist()):
            newcomer = newcomers[row]
            mine = at_col[chosen[row]]
            row_scores = scores[r].copy()
            row_scores[mine] = -np.inf
            k = min(ALTERNATIVES, int(np.isfinite(row_scores).sum()))
            others: list[int] = []
            if k:
                floor = np.partition(row_scores, len(row_scores) - k)[len(row_scores) - k]
                kept = np.flatnonzero(row_scores >= floor)
                order = np.lexsort((cols[kept], -row_scores[kept]))[:k]
                others = kept[order].tolist()
            one = Evaluation(
                failures={},
                values={name: values[r : r + 1] for name, values in evaluation.values.items()},
                shared_quarters=evaluation.shared_quarters[r : r + 1],
            )
            single = replace(
                batch,
                newcomers=(newcomer,),
                availability=batch.availability[:, row : row + 1],
                hopes=None if batch.hopes is None else batch.hopes[row : row + 1],
            )
            picked = [mine, *others]
            ranked = explain(newcomer, index, single, one, cols, picked, policy)
            grids = _grids(
                batch.availability[:, row : row + 1] & index.availability[:, cols[picked]],
                newcomer.time_zone,
                policy.reference_week,
            )
            proposals.append(
                [
                    explanation(found, newcomer, index.mentors[int(cols[at])], policy, grid)
                    for found, at, grid in zip(ranked, picked, grids, strict=True)
                ]
            )
    return proposals


def _grids(shared: Any, view_zone: str, week: date) -> list[list[list[int]]]:
    """`_grid_of` for several pairs at once: `shared` is word-major (words x pairs)."""
    import numpy as np

    from matching.availability import QUARTERS_PER_WEEK, local_quarter_of_utc

    pairs = shared.shape[1]
    packed = np.ascontiguousarray(shared.T).astype("<u8").view(np.uint8).reshape(pairs, -1)
    utc = np.unpackbits(packed, axis=1, bitorder="little")[:, :QUARTERS_PER_WEEK]
    which, quarter = np.nonzero(utc)
    local = np.zeros((pairs, QUARTERS_PER_WEEK), dtype=np.bool_)
    local[which, local_quarter_of_utc(view_zone, week)[quarter]] = True
    grids: list[list[list[int]]] = [[[] for _ in range(7)] for _ in range(pairs)]
    for pair, day, hour in zip(
        *(a.tolist() for a in np.nonzero(local.reshape(pairs, 7, 24, 4).any(axis=3))), strict=True
    ):
        grids[pair][day].append(hour)
    return grids


def assign(newcomers: Sequence[Newcomer], index: MentorIndex, policy: Policy) -> Any:
    """The whole queue at once under the mentors' places (`matching.assign`)."""
    return matching.assign(newcomers, index, policy)


def unmatched_reasons(
    newcomer: Newcomer, mentors: Sequence[Mentor], policy: Policy
) -> dict[str, int]:
    """For a newcomer no mentor fits: how many mentors each hard rule ruled out, over all of
    them (`mentors` is the total), so staff can see what the program is short of."""
    counts: Counter[str] = Counter()
    for mentor in mentors:
        counts.update(matching.check(newcomer, mentor, policy))
    return {"mentors": len(mentors), **dict(counts.most_common())}


def ways_to_meet(intake: NewcomerIntakeOut, mentor: MentorProfileOut) -> list[str]:
    """The meeting formats both chose, in words; in person only when they name the same area
    (the engine's own format rule)."""
    area = intake.area.strip().lower()
    same_area = bool(area) and area == mentor.area.strip().lower()
    return [
        label + (f" ({mentor.area})" if code == "in_person" else "")
        for code, label in FORMAT_LABELS.items()
        if code in intake.formats and code in mentor.formats and (code != "in_person" or same_area)
    ]


def rule_label(rule: str) -> str:
    labels: dict[str, str] = dict(matching.RULE_LABELS)
    return labels.get(rule, rule.replace("_", " "))


# --- the outcome loop ---------------------------------------------------------------------------


def past_match(newcomer: Newcomer, mentor: Mentor, outcome: str) -> PastMatch:
    """One past match as `fit_weights` learns from it."""
    return matching.PastMatch(newcomer, mentor, outcome)


def history_needed(policy: Policy) -> tuple[int, int]:
    """How many past matches `fit_weights` needs, and how many of each outcome."""
    from matching.learning import MIN_PER_OUTCOME

    return policy.min_history, MIN_PER_OUTCOME


def fit_weights(history: Sequence[PastMatch], policy: Policy) -> WeightFit:
    """Learn weights from past matches (`matching.fit_weights`: held out, within guardrails)."""
    return matching.fit_weights(history, policy)
