"""The engine's plain input and output records.

Frozen dataclasses, so a record can be hashed, shared between threads and never changed behind the
engine's back. The `matches` slice translates database rows into these and stores what comes back.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, fields
from typing import Final, Literal

from matching.vocabulary import (
    RECOVERY_STAGE_DAYS,
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
    In `assign`, each matched newcomer adds `match_bonus` plus up to `waiting_bonus` (reached after
    `waiting_full_days` of waiting relative to the newest request), so the queue is served in
    order of waiting when places are scarce; the bonus defaults to the largest possible score so
    that matching one more person outweighs any gain in fit.
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
    match_bonus: float | None = None
    waiting_bonus: float = 2.0
    waiting_full_days: int = 90
    max_weight: float = 5.0
    min_history: int = 200
    min_auc_gain: float = 0.01

    def bonus_base(self) -> float:
        """The per-match bonus: explicit, or the largest total a pair can score."""
        if self.match_bonus is not None:
            return self.match_bonus
        return sum(self.weights.as_tuple())


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
    """The result of `assign`: pairs, the people left waiting, and the summed pair scores."""

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
