"""The training rules: quizzes graded on the server, retake waits, renewal, and the matching gate.

Time comes from `tandem.training.clock`, so a test can stand at any moment. Everything a mentor
may see or do is worked out by one pure function, `evaluate_module`, from their records; the
mentor pages, the supervisor view and the gate (`eligible_mentor_ids`) all use it, so they can
never disagree about who is trained.
"""

from __future__ import annotations

import calendar
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec

from tandem.accounts import services as accounts
from tandem.accounts.services import ProgramSettings, membership_in_program
from tandem.core import audit
from tandem.core.auth import Caller, MembershipStatus, Role
from tandem.core.clock import clock
from tandem.core.database import transaction
from tandem.core.errors import Conflict, Invalid, NotFound
from tandem.notifications import services as notifications
from tandem.profiles.services import paused_mentor_ids
from tandem.training.content import Module, Question, Track, current_track
from tandem.training.events import TrainingEvent
from tandem.training.schemas import (
    Attempt,
    AttemptResult,
    Certificate,
    CertificateModule,
    ComplianceReport,
    ComplianceState,
    Lesson,
    MentorCompliance,
    MentorProgress,
    ModuleStatus,
    QuestionFeedback,
    QuizQuestion,
    Remediation,
    SourceOut,
    TrackProgress,
)
from tandem.training.tables import AttemptUnlock, ContentVersion, LessonVisit, QuizAttempt

EXPIRING_WINDOW = timedelta(days=30)
THIRD_ATTEMPT_WAIT = timedelta(hours=24)
FAILURES_BEFORE_LOCK = 3
# At most this many tries of one module in any window, a supervisor's reopening included: the
# standards' cap (training-standards.md, attempt policy), so repeated tries turn into support.
ATTEMPTS_PER_WINDOW = 4
ATTEMPT_WINDOW = timedelta(days=90)
_random = random.SystemRandom()


# --- pure rules -----------------------------------------------------------------------------


def add_months(moment: datetime, months: int) -> datetime:
    """Same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, _days_in(year, month)))


def _days_in(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def renewal_months(track: Track, settings: ProgramSettings) -> dict[str, int]:
    """Months each pass stays current in this program.

    The module's front matter sets the default. Modules that renew more often than the longest
    one (overdose and suicide) are the safety modules; a program that changed
    `safety_module_renewal_months` or `full_track_renewal_months` from the service default
    overrides the front matter for that group.
    """
    defaults = ProgramSettings()
    result = {}
    for module in track.modules:
        if module.renewal_months < track.full_track_months:
            chosen, default = (
                settings.safety_module_renewal_months,
                defaults.safety_module_renewal_months,
            )
        else:
            chosen, default = settings.full_track_renewal_months, defaults.full_track_renewal_months
        result[module.id] = chosen if chosen != default else module.renewal_months
    return result


@dataclass(frozen=True)
class VersionRule:
    """The oldest content version whose pass still counts, and since when that is so."""

    required_version: int
    since: datetime | None


@dataclass(frozen=True)
class AttemptRecord:
    id: int
    module_id: str
    content_version: int
    submitted_at: datetime | None
    passed: bool | None


@dataclass
class Records:
    """What one mentor did: attempts (open and submitted), lesson visits, supervisor unlocks."""

    attempts: list[AttemptRecord] = field(default_factory=list)
    visits: dict[str, datetime] = field(default_factory=dict)
    unlocks: dict[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class Grade:
    right: int
    total: int
    score: float
    critical_missed: int
    passed: bool


@dataclass(frozen=True)
class ModuleState:
    module: Module
    status: str
    passed_at: datetime | None = None
    passed_version: int | None = None
    expires_at: datetime | None = None
    lapsed_at: datetime | None = None
    retake_reason: str | None = None
    locked_reason: str | None = None
    missing_prerequisites: tuple[str, ...] = ()
    failures: int = 0
    needs_review: bool = False
    wait_until: datetime | None = None
    attempt_limit_until: datetime | None = None
    open_attempt_id: int | None = None
    ever_passed: bool = False

    @property
    def current(self) -> bool:
        return self.status in ("passed", "expiring_soon")

    @property
    def can_take_quiz(self) -> bool:
        return self.open_attempt_id is not None or (
            self.locked_reason is None
            and not self.needs_review
            and self.wait_until is None
            and self.attempt_limit_until is None
        )

    def out(self) -> ModuleStatus:
        module = self.module
        return ModuleStatus(
            module_id=module.id,
            title=module.title,
            summary=module.summary,
            estimated_minutes=module.estimated_minutes,
            version=module.version,
            status=self.status,  # type: ignore[arg-type]
            passed_at=self.passed_at,
            passed_version=self.passed_version,
            expires_at=self.expires_at,
            retake_reason=self.retake_reason,  # type: ignore[arg-type]
            locked_reason=self.locked_reason,  # type: ignore[arg-type]
            missing_prerequisites=list(self.missing_prerequisites),
            failures=self.failures,
            needs_review=self.needs_review,
            wait_until=self.wait_until,
            attempt_limit_until=self.attempt_limit_until,
            can_take_quiz=self.can_take_quiz,
            open_attempt_id=self.open_attempt_id,
        )


def grade(questions: Sequence[Question], answers: dict[str, int], pass_mark: float) -> Grade:
    """Score a sitting: pass needs `pass_mark` overall AND every critical item answered well."""
    right = sum(answers.get(q.id) == q.correct_index for q in questions)
    critical_missed = sum(q.critical and answers.get(q.id) != q.correct_index for q in questions)
    score = right / len(questions)
    # A tiny tolerance keeps 4/5 = 0.8 a pass despite floating point.
    passed = score + 1e-9 >= pass_mark and critical_missed == 0
    return Grade(right, len(questions), round(score, 4), critical_missed, passed)


def draw_questions(module: Module, rng: random.Random = _random) -> list[Question]:
    """A random quiz of `quiz_length` from the pool, with at least one critical item when the
    pool has any, so nobody passes a safety module without meeting a safety-critical question."""
    critical = [q for q in module.questions if q.critical]
    drawn = [rng.choice(critical)] if critical else []
    rest = [q for q in module.questions if q not in drawn]
    drawn += rng.sample(rest, module.quiz_length - len(drawn))
    rng.shuffle(drawn)
    return drawn


def evaluate_module(
    module: Module,
    months: int,
    rule: VersionRule,
    records: Records,
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
    lapsed_at = retake_reason = None
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
    locked_reason = None
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
    return ModuleState(
        module=module,
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
        open_attempt_id=open_attempt if locked_reason != "failures" else None,
        ever_passed=latest_pass is not None,
    )


def _submitted(attempt: AttemptRecord) -> datetime:
    assert attempt.submitted_at is not None  # noqa: S101 - only submitted attempts get here
    return attempt.submitted_at


def evaluate_track(
    track: Track,
    months: dict[str, int],
    rules: dict[str, VersionRule],
    records: Records,
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


# --- loading records ------------------------------------------------------------------------


async def version_rules(track: Track) -> dict[str, VersionRule]:
    """Which content versions still count, remembering each version the first time it is served.

    The front matter only says whether *its own* version is a material change; the history of
    earlier material changes lives in `training_content_version`.
    """
    rows = await ContentVersion.select().where(
        ContentVersion.module_id.is_in([m.id for m in track.modules])
    )
    seen = {(row["module_id"], row["version"]): row for row in rows}
    missing = [m for m in track.modules if (m.id, m.version) not in seen]
    if missing:
        now = clock.now()
        new_rows = [
            ContentVersion(
                module_id=m.id, version=m.version, material_change=m.material_change,
                first_seen_at=now,
            )
            for m in missing
        ]  # fmt: skip
        await ContentVersion.insert(*new_rows)
        for m in missing:
            seen[(m.id, m.version)] = {
                "module_id": m.id,
                "version": m.version,
                "material_change": m.material_change,
                "first_seen_at": now,
            }
    rules = {}
    for module in track.modules:
        material = [
            row
            for (module_id, version), row in seen.items()
            if module_id == module.id and row["material_change"] and version <= module.version
        ]
        latest = max(material, key=lambda row: row["version"], default=None)
        rules[module.id] = VersionRule(
            required_version=latest["version"] if latest else 0,
            since=latest["first_seen_at"] if latest else None,
        )
    return rules


async def _records(
    program_id: int, membership_ids: Sequence[int] | None = None, *, passes_only: bool = False
) -> dict[int, Records]:
    """Every mentor's records in one program, in three queries whatever the number of mentors."""
    records: dict[int, Records] = defaultdict(Records)
    query = QuizAttempt.select(
        QuizAttempt.id,
        QuizAttempt.membership,
        QuizAttempt.module_id,
        QuizAttempt.content_version,
        QuizAttempt.submitted_at,
        QuizAttempt.passed,
    ).where(QuizAttempt.program == program_id)
    if membership_ids is not None:
        query = query.where(QuizAttempt.membership.is_in(list(membership_ids)))
    if passes_only:
        query = query.where(QuizAttempt.passed == True)  # noqa: E712
    for row in await query:
        records[row["membership"]].attempts.append(
            AttemptRecord(
                id=row["id"],
                module_id=row["module_id"],
                content_version=row["content_version"],
                submitted_at=row["submitted_at"],
                passed=row["passed"],
            )
        )
    if passes_only:
        return records
    visits = LessonVisit.select(
        LessonVisit.membership, LessonVisit.module_id, LessonVisit.last_opened_at
    ).where(LessonVisit.program == program_id)
    unlocks = AttemptUnlock.select(
        AttemptUnlock.membership, AttemptUnlock.module_id, AttemptUnlock.unlocked_at
    ).where(AttemptUnlock.program == program_id)
    if membership_ids is not None:
        visits = visits.where(LessonVisit.membership.is_in(list(membership_ids)))
        unlocks = unlocks.where(AttemptUnlock.membership.is_in(list(membership_ids)))
    for row in await visits:
        seen = records[row["membership"]].visits
        seen[row["module_id"]] = max(
            row["last_opened_at"], seen.get(row["module_id"], row["last_opened_at"])
        )
    for row in await unlocks:
        latest = records[row["membership"]].unlocks
        latest[row["module_id"]] = max(
            row["unlocked_at"], latest.get(row["module_id"], row["unlocked_at"])
        )
    return records


@dataclass(frozen=True)
class _Context:
    track: Track
    months: dict[str, int]
    rules: dict[str, VersionRule]
    settings: ProgramSettings
    at: datetime


async def _context(program_id: int, at: datetime | None) -> _Context:
    track = current_track()
    settings = await accounts.program_settings(program_id)
    return _Context(
        track=track,
        months=renewal_months(track, settings),
        rules=await version_rules(track),
        settings=settings,
        at=at or clock.now(),
    )


async def _mentor_states(
    context: _Context, program_id: int, membership_id: int
) -> list[ModuleState]:
    records = (await _records(program_id, [membership_id])).get(membership_id, Records())
    return evaluate_track(context.track, context.months, context.rules, records, context.at)


def _program_caller(program_id: int) -> Caller:
    """The program itself, reading its own member list for the gate (no person involved)."""
    return Caller(
        person_id=0,
        membership_id=0,
        program_id=program_id,
        role=Role.ADMIN,
        display_name="",
        status=MembershipStatus.ACTIVE,
    )


async def _mentors(program_id: int) -> list[Any]:
    members = await accounts.list_members(_program_caller(program_id), role=Role.MENTOR)
    return [m for m in members if m.status is not MembershipStatus.INACTIVE]


# --- the gate -------------------------------------------------------------------------------


def may_be_matched(
    membership_status: MembershipStatus, paused: bool, states: Iterable[ModuleState]
) -> bool:
    """The eligibility rule itself: approved and active, not paused, every module current."""
    return (
        membership_status == MembershipStatus.ACTIVE
        and not paused
        and all(s.current for s in states)
    )


async def _states_by_mentor(
    program_id: int, at: datetime | None
) -> tuple[_Context, list[tuple[Any, list[ModuleState]]]]:
    """Each mentor's module states, from passes only (all that currency depends on)."""
    context = await _context(program_id, at)
    records = await _records(program_id, passes_only=True)
    return context, [
        (
            member,
            evaluate_track(
                context.track,
                context.months,
                context.rules,
                records.get(member.membership_id, Records()),
                context.at,
            ),
        )
        for member in await _mentors(program_id)
    ]


async def trained_mentor_ids(program_id: int, at: datetime | None = None) -> set[int]:
    """Mentors (not inactive) whose every required module is passed and current at `at`.

    Whether paused or not: a paused mentor's existing matches continue.
    """
    _, mentors = await _states_by_mentor(program_id, at)
    return {member.membership_id for member, states in mentors if all(s.current for s in states)}


async def eligible_mentor_ids(program_id: int, at: datetime | None = None) -> set[int]:
    """THE matching gate: membership ids of mentors who may get new matches now (or at `at`).

    Approved and active, every required module passed and current, not paused. Matching uses
    this and nothing else.
    """
    _, mentors = await _states_by_mentor(program_id, at)
    paused = await paused_mentor_ids(program_id)
    return {
        member.membership_id
        for member, states in mentors
        if may_be_matched(member.status, member.membership_id in paused, states)
    }


async def grace_period_ends(program_id: int, at: datetime | None = None) -> dict[int, datetime]:
    """Mentors whose training lapsed but whose existing matches may continue, with the moment
    the grace period (`ProgramSettings.expiry_grace_days`) ends. Excludes anyone it ended for."""
    context, mentors = await _states_by_mentor(program_id, at)
    result = {}
    for member, states in mentors:
        ends = grace_ends(states, context.settings.expiry_grace_days)
        if ends is not None and context.at < ends:
            result[member.membership_id] = ends
    return result


async def in_grace_period(program_id: int, membership_id: int, at: datetime | None = None) -> bool:
    """True while a lapsed mentor's existing matches may continue (no new ones)."""
    return membership_id in await grace_period_ends(program_id, at)


# --- the mentor's track ---------------------------------------------------------------------


def _progress(track: Track, states: list[ModuleState], eligible: bool) -> TrackProgress:
    current = sum(state.current for state in states)
    return TrackProgress(
        track_id=track.id,
        title=track.title,
        version=track.version,
        summary=track.summary,
        modules=[state.out() for state in states],
        current=current,
        total=len(states),
        complete=current == len(states),
        eligible=eligible,
    )


async def track_progress(caller: Caller) -> TrackProgress:
    """The signed-in mentor's modules with their status, and whether they can be matched."""
    context = await _context(caller.program_id, None)
    states = await _mentor_states(context, caller.program_id, caller.membership_id)
    paused = caller.membership_id in await paused_mentor_ids(caller.program_id)
    return _progress(context.track, states, may_be_matched(caller.status, paused, states))


def _module(track: Track, module_id: str) -> Module:
    module = track.module(module_id)
    if module is None:
        raise NotFound("There is no such training module.")
    return module


def _state_of(states: list[ModuleState], module_id: str) -> ModuleState:
    return next(state for state in states if state.module.id == module_id)


async def open_lesson(caller: Caller, module_id: str) -> Lesson:
    """A mentor reads a module. Opening it is what counts as the review before a retake."""
    module = _module(current_track(), module_id)
    now = clock.now()
    async with transaction():
        visit = (
            await LessonVisit.select(LessonVisit.id)
            .where(
                (LessonVisit.membership == caller.membership_id)
                & (LessonVisit.module_id == module_id)
            )
            .first()
        )
        if visit is None:
            await LessonVisit.insert(
                LessonVisit(
                    membership=caller.membership_id,
                    program=caller.program_id,
                    module_id=module_id,
                    content_version=module.version,
                    first_opened_at=now,
                    last_opened_at=now,
                )
            )
        else:
            await LessonVisit.update(
                {LessonVisit.last_opened_at: now, LessonVisit.content_version: module.version}
            ).where(LessonVisit.id == visit["id"])
    context = await _context(caller.program_id, None)
    states = await _mentor_states(context, caller.program_id, caller.membership_id)
    return Lesson(
        module=_state_of(states, module_id).out(),
        html=module.html,
        sources=[SourceOut(s.tag, s.title, s.url) for s in module.sources],
        quiz_length=module.quiz_length,
        pass_mark=module.pass_mark,
    )


def why_not(state: ModuleStatus) -> str:
    """Why a mentor cannot take a quiz right now, in words they can act on."""
    if state.locked_reason == "failures":
        return (
            "This quiz is paused after three tries. Your supervisor will talk it through with "
            "you and then reopen it."
        )
    if state.locked_reason == "prerequisites":
        track = current_track()
        titles = [_module(track, module_id).title for module_id in state.missing_prerequisites]
        return "Please pass these modules first: " + "; ".join(titles) + "."
    if state.attempt_limit_until is not None:
        return (
            f"You have taken this quiz {ATTEMPTS_PER_WINDOW} times in "
            f"{ATTEMPT_WINDOW.days} days. You can take it again from "
            f"{state.attempt_limit_until:%d %b %Y, %H:%M} UTC; until then your supervisor can "
            "help you prepare."
        )
    if state.needs_review:
        return "Please read the module again before you retake the quiz."
    if state.wait_until is not None:
        return (
            "You can take the quiz again after "
            f"{state.wait_until:%d %b %Y, %H:%M} UTC; a day's rest helps it sink in."
        )
    return "The quiz cannot be started right now."


async def start_attempt(caller: Caller, module_id: str) -> Attempt:
    """Draw a quiz (or return the open one) if the retake rules allow it."""
    track = current_track()
    module = _module(track, module_id)
    context = await _context(caller.program_id, None)
    async with transaction():
        states = await _mentor_states(context, caller.program_id, caller.membership_id)
        state = _state_of(states, module_id)
        if state.open_attempt_id is not None:
            return await get_attempt(caller, state.open_attempt_id)
        if not state.can_take_quiz:
            raise Conflict(why_not(state.out()))
        drawn = draw_questions(module)
        rows = await QuizAttempt.insert(
            QuizAttempt(
                membership=caller.membership_id,
                program=caller.program_id,
                module_id=module.id,
                content_version=module.version,
                question_ids=msgspec.json.encode([q.id for q in drawn]).decode(),
                answers="{}",
                started_at=clock.now(),
            )
        ).returning(QuizAttempt.id)
        attempt_id = int(rows[0]["id"])
        await audit.record(
            caller, "training.quiz_started", "quiz_attempt", attempt_id,
            module=module.id, version=module.version,
        )  # fmt: skip
    return await get_attempt(caller, attempt_id)


async def _attempt_row(caller: Caller, attempt_id: int) -> dict[str, Any]:
    row = (
        await QuizAttempt.select()
        .where(
            (QuizAttempt.id == attempt_id)
            & (QuizAttempt.membership == caller.membership_id)
            & (QuizAttempt.program == caller.program_id)
        )
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise NotFound("There is no such quiz attempt.")
    return row


def _questions(module: Module, ids: Iterable[str]) -> list[Question]:
    return [q for q in (module.question(i) for i in ids) if q is not None]


def _attempt_out(row: dict[str, Any], module: Module) -> Attempt:
    questions = _questions(module, row["question_ids"])
    result = None
    if row["submitted_at"] is not None:
        answers: dict[str, int] = row["answers"] or {}
        result = AttemptResult(
            right=row["correct_count"],
            total=len(row["question_ids"]),
            score=row["score"],
            critical_missed=row["critical_missed"],
            passed=row["passed"],
            feedback=[
                QuestionFeedback(
                    id=q.id,
                    stem=q.stem,
                    critical=q.critical,
                    options=[o.text for o in q.options],
                    chosen=answers.get(q.id),
                    best_option=q.correct_index,
                    answered_well=answers.get(q.id) == q.correct_index,
                    rationale=q.rationale,
                )
                for q in questions
            ],
        )
    return Attempt(
        id=row["id"],
        module_id=module.id,
        module_title=module.title,
        content_version=row["content_version"],
        state="open" if result is None else ("passed" if result.passed else "not_passed"),
        pass_mark=module.pass_mark,
        started_at=row["started_at"],
        submitted_at=row["submitted_at"],
        questions=[
            QuizQuestion(
                id=q.id, stem=q.stem, critical=q.critical, options=[o.text for o in q.options]
            )
            for q in questions
        ],
        result=result,
    )


async def get_attempt(caller: Caller, attempt_id: int) -> Attempt:
    """The caller's own attempt: questions only while open, the graded result once submitted."""
    row = await _attempt_row(caller, attempt_id)
    return _attempt_out(row, _module(current_track(), row["module_id"]))


async def submit_attempt(caller: Caller, attempt_id: int, answers: dict[str, int]) -> Attempt:
    """Grade on the server, record the result with its content version, then show feedback."""
    module = _module(current_track(), (await _attempt_row(caller, attempt_id))["module_id"])
    async with transaction():
        row = await _attempt_row(caller, attempt_id)
        if row["submitted_at"] is not None:
            raise Conflict("This quiz was already submitted; its result is below.")
        questions = _questions(module, row["question_ids"])
        if row["content_version"] != module.version or len(questions) != len(row["question_ids"]):
            raise Conflict(
                "This module was updated while you were taking the quiz. Please start it again."
            )
        by_id = {q.id: q for q in questions}
        for question_id, choice in answers.items():
            question = by_id.get(question_id)
            if question is None:
                raise Invalid(f"{question_id!r} is not a question of this quiz.", field="answers")
            if choice >= len(question.options):
                raise Invalid(f"{question_id!r} has no option {choice}.", field="answers")
        result = grade(questions, answers, module.pass_mark)
        updated = (
            await QuizAttempt.update(
                {
                    QuizAttempt.answers: msgspec.json.encode(answers).decode(),
                    QuizAttempt.submitted_at: clock.now(),
                    QuizAttempt.correct_count: result.right,
                    QuizAttempt.score: result.score,
                    QuizAttempt.critical_missed: result.critical_missed,
                    QuizAttempt.passed: result.passed,
                }
            )
            .where((QuizAttempt.id == attempt_id) & QuizAttempt.submitted_at.is_null())
            .returning(QuizAttempt.id)
        )
        if not updated:
            raise Conflict("This quiz was already submitted; its result is below.")
        await audit.record(
            caller, "training.quiz_submitted", "quiz_attempt", attempt_id,
            module=module.id, version=module.version, passed=result.passed,
        )  # fmt: skip
        if result.passed:
            await _announce_pass(caller, attempt_id)
    return await get_attempt(caller, attempt_id)


async def _announce_pass(caller: Caller, attempt_id: int) -> None:
    """Outbox events for a pass, in the grading transaction: supervisors hear when the whole
    track is now complete (the mentor can be matched), and webhooks see every module pass."""
    await notifications.emit(
        caller, caller.program_id, TrainingEvent.MODULE_PASSED,
        subject=("quiz_attempt", attempt_id), link="/mentor/training",
    )  # fmt: skip
    if caller.membership_id in await trained_mentor_ids(caller.program_id):
        await notifications.emit(
            caller, caller.program_id, TrainingEvent.TRACK_COMPLETED,
            subject=("membership", caller.membership_id),
            recipients=await accounts.supervisor_ids(caller.program_id),
            link="/staff/training",
        )  # fmt: skip


async def certificate(caller: Caller) -> Certificate:
    """The mentor's record of current passes: modules, dates, content versions and expiry."""
    context = await _context(caller.program_id, None)
    states = await _mentor_states(context, caller.program_id, caller.membership_id)
    current = [s for s in states if s.current and s.passed_at and s.expires_at]
    return Certificate(
        mentor=caller.display_name,
        program=caller.program_name,
        track_title=context.track.title,
        track_version=context.track.version,
        complete=len(current) == len(states),
        issued_at=context.at,
        expires_at=min((s.expires_at for s in current if s.expires_at), default=None),
        modules=[
            CertificateModule(
                module_id=s.module.id,
                title=s.module.title,
                passed_at=s.passed_at,  # type: ignore[arg-type]
                content_version=s.passed_version or s.module.version,
                expires_at=s.expires_at,  # type: ignore[arg-type]
            )
            for s in current
        ],
    )


async def export_training(caller: Caller) -> dict[str, Any]:
    """The caller's own training records, for their data download."""
    attempts = await QuizAttempt.select(
        QuizAttempt.module_id,
        QuizAttempt.content_version,
        QuizAttempt.started_at,
        QuizAttempt.submitted_at,
        QuizAttempt.score,
        QuizAttempt.passed,
    ).where(QuizAttempt.membership == caller.membership_id)
    visits = await LessonVisit.select(
        LessonVisit.module_id, LessonVisit.first_opened_at, LessonVisit.last_opened_at
    ).where(LessonVisit.membership == caller.membership_id)
    unlocks = await AttemptUnlock.select(
        AttemptUnlock.module_id, AttemptUnlock.remediation, AttemptUnlock.unlocked_at
    ).where(AttemptUnlock.membership == caller.membership_id)
    return {"training": {"attempts": attempts, "lesson_visits": visits, "unlocks": unlocks}}


# --- supervisors ----------------------------------------------------------------------------


async def compliance(caller: Caller, at: datetime | None = None) -> ComplianceReport:
    """Every mentor of the caller's program: how their training stands, what needs doing."""
    context = await _context(caller.program_id, at)
    mentors = await _mentors(caller.program_id)
    records = await _records(caller.program_id)
    paused = await paused_mentor_ids(caller.program_id)
    rows = []
    for member in mentors:
        mine = records.get(member.membership_id, Records())
        states = evaluate_track(context.track, context.months, context.rules, mine, context.at)
        state = compliance_state(states, bool(mine.visits))
        grace = grace_ends(states, context.settings.expiry_grace_days)
        rows.append(
            MentorCompliance(
                membership_id=member.membership_id,
                display_name=member.display_name,
                membership_status=member.status,
                paused=member.membership_id in paused,
                eligible=may_be_matched(member.status, member.membership_id in paused, states),
                state=state,
                current=sum(s.current for s in states),
                total=len(states),
                next_expiry=min(
                    (s.expires_at for s in states if s.current and s.expires_at), default=None
                ),
                expired_modules=[s.module.id for s in states if s.status == "expired"],
                locked_modules=[s.module.id for s in states if s.locked_reason == "failures"],
                in_grace_until=grace if grace and context.at < grace else None,
            )
        )
    counts = {name: 0 for name in ComplianceState.__args__}  # type: ignore[attr-defined]
    for row in rows:
        counts[row.state] += 1
    return ComplianceReport(at=context.at, counts=counts, mentors=rows)


async def _mentor_member(caller: Caller, membership_id: int) -> dict[str, Any]:
    row = await membership_in_program(caller, membership_id)
    if row["role"] != Role.MENTOR.value:
        raise NotFound("No such mentor in your program.")
    return row


async def mentor_progress(caller: Caller, membership_id: int) -> MentorProgress:
    """One mentor's track for their supervisor."""
    member = await _mentor_member(caller, membership_id)
    names = {m.membership_id: m.display_name for m in await _mentors(caller.program_id)}
    context = await _context(caller.program_id, None)
    states = await _mentor_states(context, caller.program_id, membership_id)
    paused = membership_id in await paused_mentor_ids(caller.program_id)
    return MentorProgress(
        membership_id=membership_id,
        display_name=names.get(membership_id, ""),
        progress=_progress(context.track, states, may_be_matched(member["status"], paused, states)),
    )


async def unlock_module(
    caller: Caller, membership_id: int, module_id: str, remediation: Remediation
) -> ModuleStatus:
    """After three failures and a remediation conversation, a supervisor reopens the quiz."""
    module = _module(current_track(), module_id)
    await _mentor_member(caller, membership_id)
    context = await _context(caller.program_id, None)
    async with transaction():
        state = _state_of(
            await _mentor_states(context, caller.program_id, membership_id), module.id
        )
        if state.locked_reason != "failures":
            raise Conflict("This module is not locked; the mentor can already take the quiz.")
        rows = await AttemptUnlock.insert(
            AttemptUnlock(
                membership=membership_id,
                program=caller.program_id,
                module_id=module.id,
                unlocked_by=caller.membership_id,
                remediation=remediation,
                unlocked_at=context.at,
            )
        ).returning(AttemptUnlock.id)
        await audit.record(
            caller, "training.unlocked", "attempt_unlock", int(rows[0]["id"]),
            mentor=membership_id, module=module.id, remediation=remediation,
        )  # fmt: skip
    states = await _mentor_states(
        await _context(caller.program_id, None), caller.program_id, membership_id
    )
    return _state_of(states, module.id).out()
