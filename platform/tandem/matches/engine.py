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
from dataclasses import dataclass
from datetime import date, timedelta
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
    import numpy as np

    from matching.availability import local_quarter_of_utc, unpack, utc_bitmaps

    bitmaps = utc_bitmaps([first[0], second[0]], [first[1], second[1]], week)
    shared_utc = unpack(bitmaps[0] & bitmaps[1])
    local = np.zeros(7 * 96, dtype=np.bool_)
    local[local_quarter_of_utc(view_zone, week)[shared_utc]] = True
    hours = local.reshape(7, 24, 4).any(axis=2)
    return [np.flatnonzero(hours[day]).tolist() for day in range(7)]


def explanation(
    ranked: RankedMentor, newcomer: Newcomer, mentor: Mentor, policy: Policy
) -> dict[str, Any]:
    """Everything a reviewer needs to see why, stored as plain JSON with the proposal."""
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
        "shared_grid": shared_grid(
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


def propose_for(
    newcomer: Newcomer, index: MentorIndex, policy: Policy, mentor_id: int
) -> list[dict[str, Any]]:
    """The chosen mentor explained first, then the next best as alternatives (batch matching
    picks the mentor for the whole queue, so it need not be this newcomer's first choice)."""
    wanted, k = str(mentor_id), 1 + ALTERNATIVES
    while True:
        ranked = matching.rank(newcomer, index, policy, k=k)
        if any(r.mentor_id == wanted for r in ranked) or len(ranked) < k:
            break
        k *= 4
    by_id = {m.id: m for m in index.mentors}
    chosen = [r for r in ranked if r.mentor_id == wanted]
    others = [r for r in ranked if r.mentor_id != wanted][:ALTERNATIVES]
    return [explanation(r, newcomer, by_id[r.mentor_id], policy) for r in (*chosen, *others)]


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
