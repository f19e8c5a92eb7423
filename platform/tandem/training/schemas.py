"""Training shapes at the HTTP edge.

A quiz on its way to the browser is a `QuizQuestion`: stem and option texts only. Which option is
best, and why, exists only in `QuestionFeedback`, built after the server has graded a submission.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from msgspec import Meta, Struct

from tandem.training.rules import ComplianceState, ModuleState

Remediation = Literal["supervision_conversation", "remediation_plan", "supervised_review"]
QuestionId = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")]


class TrackProgress(Struct, kw_only=True):
    track_id: str
    title: str
    version: int
    summary: str
    modules: list[ModuleState]
    current: int
    total: int
    complete: bool
    eligible: bool  # may get new matches now: approved, not paused and the track current


class SourceOut(Struct):
    tag: str
    title: str
    url: str


class Lesson(Struct, kw_only=True):
    """A module to read. `html` is rendered from the lesson with raw HTML escaped."""

    module: ModuleState
    html: str
    sources: list[SourceOut]
    quiz_length: int
    pass_mark: float


class QuizQuestion(Struct, kw_only=True):
    """A question as the mentor sees it before answering: no key, no rationale."""

    id: str
    stem: str
    critical: bool
    options: list[str]


class QuestionFeedback(Struct, kw_only=True):
    id: str
    stem: str
    critical: bool
    options: list[str]
    chosen: int | None
    best_option: int
    answered_well: bool
    rationale: str


class AttemptResult(Struct, kw_only=True):
    right: int
    total: int
    score: float
    critical_missed: int
    passed: bool
    feedback: list[QuestionFeedback]


class Attempt(Struct, kw_only=True):
    """A quiz attempt. While `state` is open it carries only the questions; once submitted,
    `result` holds the grading with every rationale."""

    id: int
    module_id: str
    module_title: str
    content_version: int
    state: Literal["open", "passed", "not_passed"]
    pass_mark: float
    started_at: datetime
    submitted_at: datetime | None
    questions: list[QuizQuestion]
    result: AttemptResult | None = None


class AnswerSheet(Struct, forbid_unknown_fields=True):
    """The mentor's choices: question id -> position of the chosen option as shown (0-based).

    Positions are JSON integers; `"2"` is refused, not read as a number.
    """

    answers: Annotated[dict[QuestionId, Annotated[int, Meta(ge=0, le=9)]], Meta(max_length=50)]


class CertificateModule(Struct, kw_only=True):
    module_id: str
    title: str
    passed_at: datetime
    content_version: int
    expires_at: datetime


class Certificate(Struct, kw_only=True):
    mentor: str
    program: str
    track_title: str
    track_version: int
    complete: bool
    issued_at: datetime
    expires_at: datetime | None
    modules: list[CertificateModule]


class MentorCompliance(Struct, kw_only=True):
    membership_id: int
    display_name: str
    membership_status: str
    paused: bool
    eligible: bool
    state: ComplianceState
    current: int
    total: int
    next_expiry: datetime | None
    expired_modules: list[str]
    locked_modules: list[str]
    in_grace_until: datetime | None


class ComplianceReport(Struct, kw_only=True):
    at: datetime
    counts: dict[str, int]
    mentors: list[MentorCompliance]


class MentorProgress(Struct, kw_only=True):
    """One mentor's track, as their supervisor sees it."""

    membership_id: int
    display_name: str
    progress: TrackProgress


class UnlockRequest(Struct, forbid_unknown_fields=True):
    """What remediation took place before the supervisor lifts the lock (an enum, for audit)."""

    remediation: Remediation
