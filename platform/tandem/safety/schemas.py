"""Shapes of the safety slice at the HTTP edge. Who reported a concern is in `ConcernOut` only,
which only supervisors and admins receive; a reporter reading their own concern gets
`FiledConcernOut`, which names nobody."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import Meta, Struct

from tandem.core.edge import NoNul
from tandem.safety.rules import Action, Category, Outcome, UrgentSituation

Description = Annotated[str, NoNul, Meta(max_length=4000)]
NoteText = Annotated[str, NoNul, Meta(min_length=1, max_length=4000)]
Id = Annotated[int, Meta(ge=1, le=2_147_483_647)]


class SeverityCount(Struct, frozen=True):
    """Open concerns of one severity, and how many of them are past their response time."""

    severity: str
    open: int
    overdue: int


class ConcernCreate(Struct, kw_only=True, forbid_unknown_fields=True):
    """A concern about a match (`match_id`) or a person (`about_membership_id`, staff only)."""

    category: Annotated[Category, Meta(title="What the concern is about")]
    match_id: Id | None = None
    about_membership_id: Id | None = None
    # Keys of the category's yes/no questions answered yes (see GET /api/v1/concerns/categories).
    answers: list[Annotated[str, Meta(max_length=40)]] = []
    urgent: bool = False
    description: Description = ""
    # A newcomer reporting their mentor may ask for another mentor in the same step.
    ask_for_another_mentor: bool = False


class UrgentEscalation(Struct, kw_only=True, forbid_unknown_fields=True):
    situation: Annotated[UrgentSituation, Meta(title="What is happening")]
    match_id: Id | None = None
    description: Description = ""


class ConcernNote(Struct, forbid_unknown_fields=True):
    note: NoteText


class ConcernAct(Struct, kw_only=True, forbid_unknown_fields=True):
    action: Action
    # For `require_retake`: the training module the mentor must pass again.
    module_id: Annotated[str, Meta(min_length=1, max_length=64)] | None = None


class ConcernClose(Struct, kw_only=True, forbid_unknown_fields=True):
    outcome: Outcome
    note: Description = ""


class QuestionOut(Struct, frozen=True):
    key: str
    text: str
    raises_to: str


class CategoryOut(Struct, frozen=True):
    value: str
    label: str
    description: str
    default_severity: str
    questions: list[QuestionOut]


class FiledConcernOut(Struct, kw_only=True):
    """What the reporter is told: what happens next, and by when."""

    id: int
    category: str
    category_label: str
    severity: str
    status: str
    filed_at: datetime
    due_at: datetime
    due_local: str
    what_happens_next: str
    rematch_requested: bool = False


class StepOut(Struct, kw_only=True):
    step: str
    action: str | None
    actor_name: str
    note: str
    at: datetime


class ConcernOut(Struct, kw_only=True):
    """A concern as supervisors see it (the reporter included)."""

    id: int
    category: str
    category_label: str
    severity: str
    status: str
    urgent: bool
    situation: str | None
    answers: list[str]
    description: str
    reporter_membership_id: int | None
    reporter_name: str
    reporter_role: str | None
    about_membership_id: int | None
    about_name: str
    match_id: int | None
    rematch_requested: bool
    from_pattern: bool
    mentor_paused: bool
    retake_module: str | None
    filed_at: datetime
    due_at: datetime
    due_local: str
    overdue: bool
    acknowledged_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    steps: list[StepOut] = []


class QueueItem(Struct, kw_only=True):
    """A line of the supervisor queue (no reporter, no words: open the concern to read them)."""

    id: int
    category: str
    category_label: str
    severity: str
    status: str
    urgent: bool
    about_name: str
    match_id: int | None
    filed_at: datetime
    due_at: datetime
    due_local: str
    overdue: bool


class SafetySettings(Struct, kw_only=True, forbid_unknown_fields=True):
    """The program's concern settings: its calendar, the response time per severity, who is
    on call for urgent concerns (a supervisor's membership id; none means every supervisor;
    the on-call webhook is an endpoint marked "on call" at /admin/webhooks), and how long a
    closed concern is kept."""

    time_zone: Annotated[str, Meta(min_length=1, max_length=64)]
    s1_response_minutes: Annotated[int, Meta(ge=1, le=120)]
    s2_response_hours: Annotated[int, Meta(ge=1, le=48)]
    s3_response_business_days: Annotated[int, Meta(ge=1, le=10)]
    s4_response_business_days: Annotated[int, Meta(ge=1, le=20)]
    on_call_supervisor_id: Id | None = None
    closed_concern_retention_days: Annotated[int, Meta(ge=30, le=3650)]


# --- check-ins and self-care (`care_schemas`): the shapes other slices read -----------------------

from tandem.safety.care_schemas import (  # noqa: E402 - the re-export block closes the module
    QuietMatch as QuietMatch,
)
