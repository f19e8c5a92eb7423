"""Shapes of the match journey at the HTTP edge. Each view shows only what its reader may see:
a newcomer never learns who declined, a mentor sees only what the newcomer agreed to share."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from msgspec import Meta, Struct

from tandem.core.edge import NoNul
from tandem.matches.lifecycle import EndReason

WeekGrid = list[list[int]]  # per weekday (0 = Monday), the shared hours 0-23 in the reader's zone


class WaitOut(Struct):
    based_on: int
    low_days: int | None
    high_days: int | None
    sentence: str


class MatchOut(Struct, kw_only=True):
    """An active (or ended) match as one of its two people, or staff, see it."""

    id: int
    status: str
    started_at: datetime
    ended_at: datetime | None = None
    partner_membership_id: int
    partner_name: str
    partner_role: str
    shared_grid: WeekGrid
    shared_hours: float
    time_zone: str
    ways_to_meet: list[str]
    # For the mentor: the parts of the intake the newcomer agreed to share, and nothing else.
    shared: dict[str, Any] = {}
    end_reason: str | None = None


class ActiveMatchOut(Struct, kw_only=True):
    """A line of the staff list of active matches."""

    id: int
    newcomer_name: str
    mentor_name: str
    started_at: datetime


class RequestOut(Struct, kw_only=True):
    """Where the newcomer's request stands, in words they can act on."""

    id: int
    status: str
    created_at: datetime
    wait: WaitOut
    no_mentor_fits_yet: bool
    match: MatchOut | None = None


class MentorLoad(Struct):
    active: int
    open_offers: int
    limit: int
    places_left: int


class Candidate(Struct, kw_only=True):
    mentor_id: int
    mentor_name: str
    score: float
    reasons: list[str]
    contributions: list[dict[str, Any]]
    shared_hours: float
    shared_grid: WeekGrid
    rules_held: list[str]
    load: MentorLoad | None


class ProposalOut(Struct, kw_only=True):
    id: int
    request_id: int
    newcomer_id: int
    newcomer_name: str
    newcomer_time_zone: str
    requested_at: datetime
    waited_days: float
    status: str
    auto_approved: bool
    best: Candidate
    alternatives: list[Candidate]
    weights: dict[str, float]
    staff_note: str = ""
    weights_version: int = 0


class WaitingRequestOut(Struct, kw_only=True):
    """A request no mentor fits yet, with the hard rules that ruled mentors out."""

    id: int
    newcomer_id: int
    newcomer_name: str
    requested_at: datetime
    waited_days: float
    mentors_considered: int
    reasons: list[tuple[str, int]]


class OfferOut(Struct, kw_only=True):
    id: int
    status: str
    newcomer_name: str
    created_at: datetime
    expires_at: datetime
    shared_grid: WeekGrid
    shared_hours: float
    time_zone: str
    ways_to_meet: list[str]
    shared: dict[str, Any]


class ProposalApproval(Struct, forbid_unknown_fields=True):
    """Approve the proposed mentor, or pass `mentor_id` to choose one of the alternatives."""

    mentor_id: int | None = None


class ProposalDecline(Struct, forbid_unknown_fields=True):
    note: Annotated[str, NoNul, Meta(max_length=1000, description="Only staff ever read this.")] = (
        ""
    )


class OfferDecline(Struct, forbid_unknown_fields=True):
    reason: Annotated[
        str, NoNul, Meta(max_length=500, description="Optional and private: only staff read it.")
    ] = ""


class MatchEnd(Struct, forbid_unknown_fields=True):
    reason: EndReason


class BatchRunOut(Struct, kw_only=True):
    """One batch-matching run: who was waiting, how many got a proposal, who not and why."""

    started_at: datetime
    seconds: float
    waiting: int
    proposed: int
    unmatched: dict[str, int]
    timings: dict[str, float]


class SettingsForm(Struct, kw_only=True):
    """The matching rules a program may change on its settings page, each within sane bounds."""

    min_mentor_recovery_days: Annotated[
        int, Meta(ge=0, le=3650, title="Minimum mentor recovery time (days)")
    ]
    new_mentor_months: Annotated[int, Meta(ge=0, le=36, title="The months a mentor counts as new")]
    caseload_new_mentor: Annotated[int, Meta(ge=1, le=10, title="Mentees at once for a new mentor")]
    caseload_experienced_mentor: Annotated[
        int, Meta(ge=1, le=10, title="Mentees at once for an experienced mentor")
    ]
    offer_hours: Annotated[int, Meta(ge=1, le=336, title="Hours a mentor has to answer an offer")]
    batch_interval_minutes: Annotated[
        int, Meta(ge=0, le=10080, title="The batch matching interval (minutes)")
    ]
    auto_approve_matches: bool = False
    auto_approve_min_score: Annotated[
        float, Meta(ge=0, le=50, title="Score for automatic approval")
    ]
    # Ended matches keep who was in them this long; then only the anonymous outcome stays.
    ended_match_retention_days: Annotated[
        int, Meta(ge=30, le=3650, title="Days an ended match keeps who was in it")
    ]


class OpenRequestOut(Struct, kw_only=True):
    """A newcomer who asked and is not matched yet, for the supervisor's waiting list."""

    id: int
    newcomer_id: int
    newcomer_name: str
    status: str
    requested_at: datetime
    waited_days: float


class RetentionWeek(Struct, kw_only=True, frozen=True):
    """Matches that started in one week, and how many were still going 30 and 90 days on.
    `known_30`/`known_90` count only matches old enough for the answer to be known."""

    week: date
    started: int
    known_30: int
    lasted_30: int
    known_90: int
    lasted_90: int


class WeightsVersionOut(Struct, kw_only=True):
    """One version of a program's matching weights, with the held-out evaluation that led to it
    (`summary` in plain words; the figures beside it)."""

    version: int
    status: str
    weights: dict[str, float]
    summary: str
    history: int
    held_out: int
    auc_current: float | None
    auc_suggested: float | None
    based_on_version: int
    created_at: datetime | None
    decided_at: datetime | None


class WeightsSuggestionOut(Struct, kw_only=True):
    """What looking for better weights gave: a suggestion to review, or why there is none."""

    suggested: WeightsVersionOut | None
    refused: str | None
    history: int
    lasting: int


class WeightsReviewOut(Struct, kw_only=True):
    """The weights in use, the suggestion waiting for a decision (if any), and past versions."""

    current: WeightsVersionOut
    pending: WeightsVersionOut | None
    versions: list[WeightsVersionOut]
