"""The training rules as pure functions: grading, drawing, module states, renewal and the gate.

No database or web imports here (a test holds it), like `matching/`: `services.py` loads records,
calls these and writes what they decide. Everything a mentor may see or do is worked out by one
function, `evaluate_module`, so the mentor pages, the supervisor view and the gate
(`services.eligible_mentor_ids`) can never disagree about who is trained.
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol

import msgspec

from tandem.core.statuses import MembershipStatus
from tandem.training.content import Module, Question, Track

EXPIRING_WINDOW = timedelta(days=30)
THIRD_ATTEMPT_WAIT = timedelta(hours=24)
FAILURES_BEFORE_LOCK = 3
# At most this many tries of one module in any window, a supervisor's reopening included: the
# standards' cap (training-standards.md, attempt policy), so repeated tries turn into support.
ATTEMPTS_PER_WINDOW = 4
ATTEMPT_WINDOW = timedelta(days=90)
_random = random.SystemRandom()

ModuleStatusName = Literal[
    "not_started", "in_progress", "passed", "expiring_soon", "expired", "locked"
]
RetakeReason = Literal["renewal_due", "new_version"]
LockReason = Literal["prerequisites", "failures"]
ComplianceState = Literal[
    "complete", "expiring_soon", "expired", "locked", "in_progress", "not_started"
]


# --- renewal --------------------------------------------------------------------------------


class RenewalSettings(Protocol):
    """The two renewal periods a program may set (`accounts.ProgramSettings` has them)."""

    @property
    def full_track_renewal_months(self) -> int: ...

    @property
    def safety_module_renewal_months(self) -> int: ...


def add_months(moment: datetime, months: int) -> datetime:
    """Same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def renewal_months(
    track: Track, settings: RenewalSettings, defaults: RenewalSettings
) -> dict[str, int]:
    """Months each pass stays current in this program.

    The module's front matter sets the default. Modules that renew more often than the longest
    one (overdose and suicide) are the safety modules; a program that changed
    `safety_module_renewal_months` or `full_track_renewal_months` from the service `defaults`
    overrides the front matter for that group.
    """
    result = {}
    for module in track.modules:
        if module.renewal_months < track.full_track_months:
            chosen = settings.safety_module_renewal_months
            default = defaults.safety_module_renewal_months
        else:
            chosen, default = settings.full_track_renewal_months, defaults.full_track_renewal_months
        result[module.id] = chosen if chosen != default else module.renewal_months
    return result


# --- content versions -----------------------------------------------------------------------


@dataclass(frozen=True)
class VersionRule:
    """The oldest content version whose pass still counts, and since when that is so."""

    required_version: int
    since: datetime | None


@dataclass(frozen=True)
class SeenVersion:
    """A module version this installation has served (the `training_content_version` rows)."""

    module_id: str
    version: int
    material_change: bool
    first_seen_at: datetime | None


def version_rules(track: Track, seen: Iterable[SeenVersion]) -> dict[str, VersionRule]:
    """Which content versions still count for each module of `track`.

    The front matter only says whether *its own* version is a material change; the history of
    earlier material changes comes from `seen`. A version not registered yet still counts with
    its own flag (since unknown), so a process that skipped the start-up registration is safe.
    """
    history = list(seen)
    rules = {}
    for module in track.modules:
        mine = {s.version: s for s in history if s.module_id == module.id}
        mine.setdefault(
            module.version, SeenVersion(module.id, module.version, module.material_change, None)
        )
        material = [s for s in mine.values() if s.material_change and s.version <= module.version]
        latest = max(material, key=lambda s: s.version, default=None)
        rules[module.id] = VersionRule(
            required_version=latest.version if latest else 0,
            since=latest.first_seen_at if latest else None,
        )
    return rules


# --- quizzes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grade:
    right: int
    total: int
    score: float
    critical_missed: int
    passed: bool


class AnswerSheetError(ValueError):
    """An answer sheet that cannot be graded: the message says what to change."""


def draw_questions(module: Module, rng: random.Random = _random) -> list[Question]:
    """A random quiz of `quiz_length` from the pool, with at least one critical item when the
    pool has any, so nobody passes a safety module without meeting a safety-critical question."""
    critical = [q for q in module.questions if q.critical]
    drawn = [rng.choice(critical)] if critical else []
    rest = [q for q in module.questions if q not in drawn]
    drawn += rng.sample(rest, module.quiz_length - len(drawn))
    rng.shuffle(drawn)
    return drawn


def option_order(question: Question, rng: random.Random = _random) -> list[int]:
    """The order one attempt shows a question's options in: shown position -> index in the file.

    Shuffled per attempt, so the best option's place tells nothing; the server keeps the order.
    """
    order = list(range(len(question.options)))
    rng.shuffle(order)
    return order


def shown_order(orders: Mapping[str, Sequence[int]], question: Question) -> list[int]:
    """The order an attempt showed `question` in (the file's order for attempts made before
    options were shuffled)."""
    return list(orders.get(question.id) or range(len(question.options)))


def read_answer_sheet(
    questions: Sequence[Question],
    orders: Mapping[str, Sequence[int]],
    answers: Mapping[str, int],
) -> dict[str, int]:
    """The mentor's choices (shown positions) as indices into the file's options.

    Refuses answers to questions not in the quiz, options that do not exist and an incomplete
    sheet: an unanswered question is a slip to point out, not a wrong answer to grade.
    """
    by_id = {q.id: q for q in questions}
    for question_id, choice in answers.items():
        question = by_id.get(question_id)
        if question is None:
            raise AnswerSheetError(f"{question_id!r} is not a question of this quiz.")
        if not 0 <= choice < len(question.options):
            raise AnswerSheetError(f"{question_id!r} has no option {choice}.")
    missing = [(n, q.id) for n, q in enumerate(questions, start=1) if q.id not in answers]
    if missing:
        numbers = ", ".join(str(n) for n, _ in missing)
        ids = ", ".join(question_id for _, question_id in missing)
        noun = "Question" if len(missing) == 1 else "Questions"
        raise AnswerSheetError(
            f"Please answer every question before you submit. {noun} {numbers} "
            f"({ids}) {'has' if len(missing) == 1 else 'have'} no answer yet."
        )
    return {q.id: shown_order(orders, q)[answers[q.id]] for q in questions}


def grade(questions: Sequence[Question], answers: Mapping[str, int], pass_mark: float) -> Grade:
    """Score a sitting (answers as indices into the file's options): pass needs `pass_mark`
    overall AND every critical item answered well."""
    right = sum(answers.get(q.id) == q.correct_index for q in questions)
    critical_missed = sum(q.critical and answers.get(q.id) != q.correct_index for q in questions)
    score = right / len(questions)
    # A tiny tolerance keeps 4/5 = 0.8 a pass despite floating point.
    passed = score + 1e-9 >= pass_mark and critical_missed == 0
    return Grade(right, len(questions), round(score, 4), critical_missed, passed)


# --- module states --------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptRecord:
    id: int
    module_id: str
    content_version: int
    submitted_at: datetime | None
    passed: bool | None


@dataclass
class MentorRecords:
    """What one mentor did: attempts (open and submitted), lessons read, supervisor unlocks."""

    attempts: list[AttemptRecord] = field(default_factory=list)
    visits: dict[str, datetime] = field(default_factory=dict)
    unlocks: dict[str, datetime] = field(default_factory=dict)


class ModuleState(msgspec.Struct, kw_only=True, frozen=True):
    """Where a mentor stands with one module, and whether (and when) they may take its quiz.

    The one type for it: the rules build it, the pages show it and the API returns it.
    """

    module_id: str
    title: str
    summary: str
    estimated_minutes: int
    version: int
    status: ModuleStatusName
    passed_at: datetime | None = None
    passed_version: int | None = None
    expires_at: datetime | None = None
    lapsed_at: datetime | None = None  # when a once-valid pass stopped counting
    retake_reason: RetakeReason | None = None
    locked_reason: LockReason | None = None
    missing_prerequisites: tuple[str, ...] = ()
    failures: int = 0
    needs_review: bool = False
    wait_until: datetime | None = None
    attempt_limit_until: datetime | None = None
    can_take_quiz: bool = False
    open_attempt_id: int | None = None
    ever_passed: bool = False

    @property
    def current(self) -> bool:
        return self.status in ("passed", "expiring_soon")


def _submitted(attempt: AttemptRecord) -> datetime:
    assert attempt.submitted_at is not None  # noqa: S101 - only submitted attempts get here
    return attempt.submitted_at


def evaluate_module(
    module: Module,
    months: int,
    rule: VersionRule,
    records: MentorRecords,
    ever_passed: set[str],
    at: datetime,
) -> ModuleState:
    """Where a mentor stands with one module at `at`: every training rule in one place."""
    mine = [
        a
        for a in records.attempts
        if a.module_id == module.id and a.submitted_at is not None and a.submitted_at <= at
    ]
    passes = [a for a in mine if a.passed]
    valid = [a for a in passes if a.content_version >= rule.required_version]
    latest_pass = max(passes, key=_submitted, default=None)
    latest_valid = max(valid, key=_submitted, default=None)
    expires_at = add_months(_submitted(latest_valid), months) if latest_valid else None
    current = expires_at is not None and at < expires_at
    lapsed_at: datetime | None = None
    retake_reason: RetakeReason | None = None
    if latest_pass is not None and not current:
        if latest_valid is not None and expires_at is not None:
            lapsed_at, retake_reason = expires_at, "renewal_due"
        else:
            lapsed_at, retake_reason = rule.since or _submitted(latest_pass), "new_version"

    since_pass = sorted(
        _submitted(a)
        for a in mine
        if not a.passed and (latest_pass is None or _submitted(a) > _submitted(latest_pass))
    )
    # A supervisor's reopening restarts the count towards the lock, not towards the cap below.
    unlocked = records.unlocks.get(module.id)
    failures = [t for t in since_pass if unlocked is None or unlocked > at or t > unlocked]
    missing = tuple(p for p in module.prerequisites if p not in ever_passed)
    locked_reason: LockReason | None = None
    if len(failures) >= FAILURES_BEFORE_LOCK:
        locked_reason = "failures"
    elif missing:
        locked_reason = "prerequisites"
    visit = records.visits.get(module.id)
    needs_review = 0 < len(failures) < FAILURES_BEFORE_LOCK and (
        visit is None or visit <= failures[-1]
    )
    wait_until = None
    if len(failures) == FAILURES_BEFORE_LOCK - 1 and at < failures[-1] + THIRD_ATTEMPT_WAIT:
        wait_until = failures[-1] + THIRD_ATTEMPT_WAIT
    # The cap lifts when the oldest of the last ATTEMPTS_PER_WINDOW failures leaves the window.
    recent = [t for t in since_pass if t > at - ATTEMPT_WINDOW]
    attempt_limit_until = None
    if len(recent) >= ATTEMPTS_PER_WINDOW:
        attempt_limit_until = recent[-ATTEMPTS_PER_WINDOW] + ATTEMPT_WINDOW
    open_attempt = next(
        (
            a.id
            for a in records.attempts
            if a.module_id == module.id
            and a.submitted_at is None
            and a.content_version == module.version
        ),
        None,
    )
    status: ModuleStatusName
    if current and expires_at is not None:
        status = "expiring_soon" if expires_at - at <= EXPIRING_WINDOW else "passed"
    elif locked_reason:
        status = "locked"
    elif latest_pass is not None:
        status = "expired"
    elif mine or visit or open_attempt:
        status = "in_progress"
    else:
        status = "not_started"
    open_attempt_id = open_attempt if locked_reason != "failures" else None
    return ModuleState(
        module_id=module.id,
        title=module.title,
        summary=module.summary,
        estimated_minutes=module.estimated_minutes,
        version=module.version,
        status=status,
        passed_at=_submitted(latest_valid) if latest_valid else None,
        passed_version=latest_valid.content_version if latest_valid else None,
        expires_at=expires_at,
        lapsed_at=lapsed_at,
        retake_reason=retake_reason,
        locked_reason=locked_reason,
        missing_prerequisites=missing,
        failures=len(failures),
        needs_review=needs_review,
        wait_until=wait_until,
        attempt_limit_until=attempt_limit_until,
        can_take_quiz=open_attempt_id is not None
        or (
            locked_reason is None
            and not needs_review
            and wait_until is None
            and attempt_limit_until is None
        ),
        open_attempt_id=open_attempt_id,
        ever_passed=latest_pass is not None,
    )


def evaluate_track(
    track: Track,
    months: dict[str, int],
    rules: dict[str, VersionRule],
    records: MentorRecords,
    at: datetime,
) -> list[ModuleState]:
    ever_passed = {
        a.module_id
        for a in records.attempts
        if a.passed and a.submitted_at is not None and a.submitted_at <= at
    }
    return [
        evaluate_module(module, months[module.id], rules[module.id], records, ever_passed, at)
        for module in track.modules
    ]


def track_holds_until(
    states: Iterable[ModuleState], records: MentorRecords, at: datetime
) -> datetime | None:
    """The first moment after `at` at which `evaluate_track` over the same records may answer
    differently than it did at `at` (its `states`); None when no time to come changes them.

    Every comparison with the time in `evaluate_module` turns at one of these: a pass expiring
    or entering the expiring window, the day's wait before a third try and the attempt cap
    lifting, and an attempt or a supervisor's reopening recorded for a later time (a clock set
    back, backdated data) starting to count. So a mentor's track worked out at `at` is theirs
    until then, whatever the records, as long as the records stay the same.
    """
    moments = [
        moment
        for state in states
        for moment in (
            state.expires_at,
            state.expires_at - EXPIRING_WINDOW if state.expires_at else None,
            state.wait_until,
            state.attempt_limit_until,
        )
        if moment is not None
    ]
    moments += [a.submitted_at for a in records.attempts if a.submitted_at is not None]
    moments += records.unlocks.values()
    return min((moment for moment in moments if moment > at), default=None)


def grace_ends(states: Iterable[ModuleState], grace_days: int) -> datetime | None:
    """When existing matches must stop, for a once fully trained mentor whose training lapsed.

    None when the mentor is current (no grace needed) or never held every module.
    """
    states = list(states)
    if all(state.current for state in states) or not all(s.ever_passed for s in states):
        return None
    lapsed = [s.lapsed_at for s in states if not s.current and s.lapsed_at is not None]
    return min(lapsed) + timedelta(days=grace_days) if lapsed else None


def compliance_state(states: Sequence[ModuleState], visited: bool) -> ComplianceState:
    if any(s.locked_reason == "failures" for s in states):
        return "locked"
    if any(s.status == "expired" for s in states):
        return "expired"
    if all(s.current for s in states):
        return "expiring_soon" if any(s.status == "expiring_soon" for s in states) else "complete"
    # A module locked only by its prerequisites is no sign of activity.
    if visited or any(s.status not in ("not_started", "locked") for s in states):
        return "in_progress"
    return "not_started"


def track_current_until(
    track: Track,
    months: Mapping[str, int],
    rules: Mapping[str, VersionRule],
    latest_passes: Mapping[tuple[str, int], datetime],
) -> datetime | None:
    """Until when a mentor's whole track is current, from their latest pass of each (module,
    content version): the earliest expiry of each module's latest pass that still counts, or
    None when a module has no such pass. `evaluate_module`'s currency for the whole track at
    once (current at `at` exactly when `at` is before this), for the gate over many mentors."""
    latest: dict[str, datetime] = {}
    for (module_id, version), passed in latest_passes.items():
        rule = rules.get(module_id)
        if rule is not None and version >= rule.required_version:
            latest[module_id] = max(passed, latest.get(module_id, passed))
    if any(module.id not in latest for module in track.modules):
        return None
    return min(add_months(latest[module.id], months[module.id]) for module in track.modules)


def may_be_matched(
    membership_status: MembershipStatus | str, paused: bool, states: Iterable[ModuleState]
) -> bool:
    """The eligibility rule itself: approved and active, not paused, every module current."""
    return may_take_matches(membership_status, paused, all(s.current for s in states))


def may_take_matches(
    membership_status: MembershipStatus | str, paused: bool, current: bool
) -> bool:
    """`may_be_matched` when the track's currency is known already (`track_current_until`)."""
    return membership_status == MembershipStatus.ACTIVE and not paused and current


def why_not(state: ModuleState, track: Track) -> str:
    """Why a mentor cannot take a quiz right now, in words they can act on."""
    if state.locked_reason == "failures":
        return (
            "This quiz is paused after three tries. Your supervisor will talk it through with "
            "you and then reopen it."
        )
    if state.locked_reason == "prerequisites":
        titles = [module.title for p in state.missing_prerequisites if (module := track.module(p))]
        return "Please pass these modules first: " + "; ".join(titles) + "."
    if state.attempt_limit_until is not None:
        return (
            f"You have taken this quiz {ATTEMPTS_PER_WINDOW} times in "
            f"{ATTEMPT_WINDOW.days} days. You can take it again from "
            f"{state.attempt_limit_until:%d %b %Y, %H:%M} UTC; until then your supervisor can "
            "help you prepare."
        )
    if state.needs_review:
        return (
            "Please read the module again and press \u201cMark as read\u201d before you retake "
            "the quiz."
        )
    if state.wait_until is not None:
        return (
            "You can take the quiz again after "
            f"{state.wait_until:%d %b %Y, %H:%M} UTC; a day's rest helps it sink in."
        )
    return "The quiz cannot be started right now."
