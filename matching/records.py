"""The engine's plain input and output records.

Frozen dataclasses, so a record can be hashed, shared between threads and never changed behind the
engine's back. The `matches` slice translates database rows into these and stores what comes back.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Final, Literal, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from matching.vocabulary import (
    GENDERS,
    MEETING_FORMATS,
    PATHWAY_STRICTNESS,
    PATHWAYS,
    RECOVERY_STAGE_DAYS,
    RECOVERY_STAGES,
    WANTED_GENDERS,
    Gender,
    MeetingFormat,
    Pathway,
    PathwayStrictness,
    RecoveryStage,
    WantedGender,
)

# One weekly slot in the person's own time: (weekday 0=Mon..6=Sun, start minute, end minute).
# End may be 1440 (midnight); a slot never crosses midnight, split it in two instead.
Slot = tuple[int, int, int]

HardRule = Literal[
    "mentor_recovery_below_minimum",
    "no_remaining_capacity",
    "no_shared_language",
    "no_shared_format",
    "gender_choice",
    "strict_pathway",
    "excluded_by_newcomer",
    "conflict_of_interest",
    "too_few_shared_hours",
]
RULE_LABELS: Final[dict[HardRule, str]] = {
    "mentor_recovery_below_minimum": "The mentor's recovery time is below the program's minimum",
    "no_remaining_capacity": "The mentor has no place left",
    "no_shared_language": "No language in common",
    "no_shared_format": "No way of meeting in common (in person needs the same area)",
    "gender_choice": "The mentor's gender is not the one the newcomer asked for",
    "strict_pathway": "The newcomer asked for their pathway only, and the mentor follows another",
    "excluded_by_newcomer": "The newcomer left, blocked or reported this mentor",
    "conflict_of_interest": "The program recorded a conflict of interest for this pair",
    "too_few_shared_hours": "Fewer shared hours a week than the program's minimum",
}

Factor = Literal[
    "pathway",
    "recovery_gap",
    "availability",
    "format",
    "area",
    "lived_experience",
    "hopes_bio",
    "load_balance",
]

Outcome = Literal["active_at_90_days", "ended_early", "concern_raised"]
UnmatchedReason = Literal["no_feasible_mentor", "capacity_exhausted"]


@lru_cache(maxsize=1024)
def _known_time_zone(name: object) -> bool:
    """Whether zoneinfo has the zone (cached: a queue has a handful of zones, people by the
    hundred thousand)."""
    if not isinstance(name, str) or not name.strip():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


class _Checker:
    """Collects the first bad field of a record and refuses it by field name and record id.

    Records are checked when built, so a bad value surfaces where it came from (the service's
    edge turns the ValueError into a 400) rather than as a KeyError deep inside the engine or,
    worse, as a silently wrong score.
    """

    def __init__(self, kind: str, record_id: object) -> None:
        if not isinstance(record_id, str) or not record_id.strip():
            raise ValueError(f"{kind} id must be a non-empty string, got {record_id!r}")
        self.where = f"{kind} {record_id!r}"

    def fail(self, name: str, problem: str, value: object) -> NoReturn:
        raise ValueError(f"{self.where}: {name} {problem}, got {value!r}")

    def one_of(self, name: str, value: object, allowed: Collection[object]) -> None:
        if value not in allowed:
            self.fail(name, f"must be one of {', '.join(map(str, allowed))}", value)

    def words(self, name: str, value: object, allowed: frozenset[str] | None = None) -> None:
        """A frozenset of non-empty strings, each in `allowed` when given."""
        if not isinstance(value, frozenset) or not all(
            isinstance(word, str) and word.strip() for word in value
        ):
            self.fail(name, "must be a frozenset of non-empty strings", value)
        if allowed is not None and not value <= allowed:
            self.fail(name, f"may only hold {', '.join(map(str, allowed))}", value)

    def count(self, name: str, value: object, *, optional: bool = False) -> None:
        """A whole number >= 0 (None too when optional)."""
        if optional and value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail(name, "must be a whole number >= 0", value)

    def time_zone(self, value: object) -> None:
        if not _known_time_zone(value):
            self.fail("time_zone", "must be a known IANA time zone, such as America/Chicago", value)

    def slots(self, value: object) -> None:
        """Weekly slots (weekday 0-6, start minute, end minute), 0 <= start < end <= 1440."""
        if not isinstance(value, tuple):
            self.fail("availability", "must be a tuple of (weekday, start, end) slots", value)
        for slot in value:
            if not _good_slot(slot):
                self.fail(
                    "availability",
                    "slots need weekday 0-6 and whole minutes 0 <= start < end <= 1440",
                    slot,
                )


def _good_slot(slot: object) -> bool:
    if not isinstance(slot, tuple) or len(slot) != 3:
        return False
    if not all(isinstance(part, int) and not isinstance(part, bool) for part in slot):
        return False
    weekday, start, end = slot
    return bool(0 <= weekday <= 6 and 0 <= start < end <= 1440)


def _check_person(check: _Checker, person: Newcomer | Mentor) -> None:
    """The fields newcomers and mentors share."""
    check.one_of("gender", person.gender, GENDERS)
    check.time_zone(person.time_zone)
    check.words("languages", person.languages)
    check.words("formats", person.formats, frozenset(MEETING_FORMATS))
    check.words("pathways", person.pathways, frozenset(PATHWAYS))
    check.words("lived_experience", person.lived_experience)
    check.slots(person.availability)
    check.count("recovery_days", person.recovery_days, optional=True)


def _texts(check: _Checker, items: Iterable[tuple[str, object]]) -> None:
    for name, value in items:
        if not isinstance(value, str):
            check.fail(name, "must be a string", value)


@dataclass(frozen=True, slots=True)
class Newcomer:
    """A person asking for a mentor, as the intake recorded them.

    `recovery_days` wins over `recovery_stage` when both are given; with neither, the engine reads
    the newcomer as starting today. `waiting_since` only orders the queue in `assign`.
    """

    id: str
    gender: Gender
    time_zone: str
    languages: frozenset[str]
    formats: frozenset[MeetingFormat]
    availability: tuple[Slot, ...] = ()
    pathways: frozenset[Pathway] = frozenset()
    pathway_strictness: PathwayStrictness = "preferred"
    wanted_gender: WantedGender = "same"
    recovery_days: int | None = None
    recovery_stage: RecoveryStage | None = None
    area: str | None = None
    hopes: str = ""
    lived_experience: frozenset[str] = frozenset()
    excluded_mentor_ids: frozenset[str] = frozenset()
    waiting_since: dt.date = dt.date(2026, 1, 1)

    def __post_init__(self) -> None:
        """Refuse a bad value by field name and id (see `_Checker`)."""
        check = _Checker("newcomer", self.id)
        _check_person(check, self)
        check.one_of("wanted_gender", self.wanted_gender, WANTED_GENDERS)
        check.one_of("pathway_strictness", self.pathway_strictness, PATHWAY_STRICTNESS)
        if self.recovery_stage is not None:
            check.one_of("recovery_stage", self.recovery_stage, RECOVERY_STAGES)
        check.words("excluded_mentor_ids", self.excluded_mentor_ids)
        if self.area is not None:
            _texts(check, [("area", self.area)])
        _texts(check, [("hopes", self.hopes)])
        if not isinstance(self.waiting_since, dt.date):
            check.fail("waiting_since", "must be a date", self.waiting_since)

    @property
    def recovery_days_or_stage(self) -> int:
        """Days in recovery from the date or, failing that, the stage; 0 when neither is given."""
        if self.recovery_days is not None:
            return self.recovery_days
        if self.recovery_stage is not None:
            return RECOVERY_STAGE_DAYS[self.recovery_stage]
        return 0


@dataclass(frozen=True, slots=True)
class Mentor:
    """An eligible mentor (approved, trained, not paused: the service filters before calling).

    `recovery_days` counts time on prescribed medication for opioid use disorder as recovery; None
    means not given, which fails the minimum-recovery rule.
    """

    id: str
    gender: Gender
    time_zone: str
    languages: frozenset[str]
    formats: frozenset[MeetingFormat]
    remaining_capacity: int
    recovery_days: int | None
    availability: tuple[Slot, ...] = ()
    pathways: frozenset[Pathway] = frozenset()
    area: str | None = None
    bio: str = ""
    lived_experience: frozenset[str] = frozenset()
    current_load: int = 0

    def __post_init__(self) -> None:
        """Refuse a bad value by field name and id (see `_Checker`): a negative capacity or load
        would otherwise put the load-balance factor outside [0, 1]."""
        check = _Checker("mentor", self.id)
        _check_person(check, self)
        check.count("remaining_capacity", self.remaining_capacity)
        check.count("current_load", self.current_load)
        if self.area is not None:
            _texts(check, [("area", self.area)])
        _texts(check, [("bio", self.bio)])


@dataclass(frozen=True, slots=True)
class Weights:
    """How much each factor counts; each factor is in [0, 1] and contributes value x weight."""

    pathway: float = 3.0
    recovery_gap: float = 1.0
    availability: float = 2.0
    format: float = 1.0
    area: float = 1.0
    lived_experience: float = 1.5
    hopes_bio: float = 1.0
    load_balance: float = 0.5

    def __post_init__(self) -> None:
        """Refuse a weight below 0 or not finite: a factor may count for nothing, never against
        a mentor (`rank` relies on it to skip mentors that cannot reach the top)."""
        for name in FACTORS:
            weight = getattr(self, name)
            if not (math.isfinite(weight) and weight >= 0):
                raise ValueError(f"weight {name} must be a finite number >= 0, got {weight!r}")

    def as_tuple(self) -> tuple[float, ...]:
        """The weights in `FACTORS` order, for vector arithmetic.

        Read field by field: `dataclasses.astuple` deep-copies and costs 30 microseconds, a
        noticeable share of `rank`'s budget.
        """
        return tuple(float(getattr(self, name)) for name in FACTORS)


FACTORS: Final[tuple[Factor, ...]] = tuple(f.name for f in fields(Weights))  # type: ignore[misc]


@dataclass(frozen=True, slots=True)
class Policy:
    """The program's matching settings.

    `reference_week` is the Monday of the week whose calendar (daylight-saving state) is used to
    line up everyone's local availability in UTC; the service passes the current week.
    `conflicts` holds (newcomer id, mentor id) pairs the program says must never be matched.
    In `assign`, serving the most people comes first; among assignments that serve that many,
    each matched newcomer adds their pair score plus up to `waiting_bonus` (reached after
    `waiting_full_days` of waiting relative to the newest request), so the longest-waiting are
    served first when places are scarce.
    `fit_weights` adopts learned weights only with at least `min_history` past matches, a
    held-out AUC at least `min_auc_gain` above the current weights', and each weight in
    [0, `max_weight`].
    """

    weights: Weights = field(default_factory=Weights)
    min_mentor_recovery_days: int = 730
    min_shared_hours: float = 0.0
    full_shared_hours: float = 6.0
    reference_week: dt.date = dt.date(2026, 1, 5)
    conflicts: frozenset[tuple[str, str]] = frozenset()
    waiting_bonus: float = 2.0
    waiting_full_days: int = 90
    max_weight: float = 5.0
    min_history: int = 200
    min_auc_gain: float = 0.01

    def __post_init__(self) -> None:
        """Refuse settings the engine would misread, by field name."""
        for name, low, strict in (
            ("min_shared_hours", 0.0, False),
            ("full_shared_hours", 0.0, True),
            ("waiting_bonus", 0.0, False),
            ("max_weight", 0.0, False),
        ):
            value = getattr(self, name)
            if not (
                isinstance(value, int | float)
                and math.isfinite(value)
                and (value > low if strict else value >= low)
            ):
                bound = f"> {low:g}" if strict else f">= {low:g}"
                raise ValueError(f"policy: {name} must be a finite number {bound}, got {value!r}")
        for name, least in (("min_mentor_recovery_days", 0), ("waiting_full_days", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"policy: {name} must be a whole number >= {least}, got {value!r}")


@dataclass(frozen=True, slots=True)
class Contribution:
    """One factor's share of a score: its value in [0, 1], times its weight."""

    factor: Factor
    value: float
    weight: float

    @property
    def points(self) -> float:
        """The factor's points in the total score."""
        return self.value * self.weight


@dataclass(frozen=True, slots=True)
class RankedMentor:
    """A feasible mentor for one newcomer, with the score explained factor by factor."""

    mentor_id: str
    score: float
    contributions: tuple[Contribution, ...]
    reasons: tuple[str, ...]
    shared_hours: float


@dataclass(frozen=True, slots=True)
class Match:
    """One pair in an assignment; `score` excludes the waiting bonus."""

    newcomer_id: str
    mentor_id: str
    score: float


@dataclass(frozen=True, slots=True)
class Unmatched:
    """A newcomer left without a mentor, and why."""

    newcomer_id: str
    reason: UnmatchedReason


@dataclass(frozen=True, slots=True)
class Assignment:
    """The result of `assign`: pairs and the people left waiting (each in newcomer id order),
    and the summed pair scores (a float, 0.0 when nobody is matched)."""

    matches: tuple[Match, ...]
    unmatched: tuple[Unmatched, ...]
    total_score: float


@dataclass(frozen=True, slots=True)
class PastMatch:
    """A match that ran, with the profiles as they were then and how it turned out."""

    newcomer: Newcomer
    mentor: Mentor
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class WeightFit:
    """What `fit_weights` decided, with its evidence.

    `held_out_auc` compares the current and the learned weights on matches the fit never saw;
    `changed` is False (and `weights` the current ones) whenever the reason says why not.
    """

    weights: Weights
    changed: bool
    reason: str
    training_size: int
    held_out_size: int
    held_out_auc_current: float | None
    held_out_auc_learned: float | None
