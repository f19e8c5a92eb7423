"""The training track's transactions: load records, apply the rules, write, audit and emit.

The decisions themselves (grading, module states, renewal, the attempt cap, who may be matched)
are pure functions in `tandem.training.rules`; this module only loads what they need, stores what
they decide and keeps the matching gate (`eligible_mentor_ids`). Time comes from
`tandem.core.clock`. Read paths never write: a lesson counts as read when the mentor says so, and
content versions are registered once at start-up (`register_content_versions`).

The gate's answer and each mentor's track are cached per process behind the program's
eligibility marker (`_Answer`), so every write here that changes what a mentor's track shows (an
attempt started or submitted, a lesson marked as read, a supervisor's reopening) redraws it, as
do the settings, pauses, status changes and erasures of the slices that own them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar

import msgspec

from tandem.accounts import services as accounts
from tandem.accounts.services import ProgramSettings, membership_in_program
from tandem.core import audit, buckets, changes
from tandem.core.auth import Caller, Role, program_caller
from tandem.core.clock import clock
from tandem.core.database import Prepared, transaction
from tandem.core.errors import Conflict, Invalid, NotFound
from tandem.core.statuses import MembershipStatus
from tandem.notifications import services as notifications
from tandem.profiles.services import paused_mentor_ids
from tandem.training import rules
from tandem.training.content import Module, Question, Track, current_track
from tandem.training.events import TrainingEvent
from tandem.training.rules import (
    AttemptRecord,
    ComplianceState,
    MentorRecords,
    ModuleState,
    SeenVersion,
    VersionRule,
    compliance_state,
    evaluate_track,
    grace_ends,
    may_be_matched,
    may_take_matches,
)
from tandem.training.schemas import (
    Attempt,
    AttemptResult,
    Certificate,
    CertificateModule,
    ComplianceReport,
    Lesson,
    MentorCompliance,
    MentorProgress,
    QuestionFeedback,
    QuizQuestion,
    Remediation,
    SourceOut,
    TrackProgress,
)
from tandem.training.tables import AttemptUnlock, ContentVersion, LessonVisit, QuizAttempt

# --- content versions -----------------------------------------------------------------------

# The rules worked out at start-up, for the track they were worked out for: they only change
# when a new version is registered, which happens at start-up.
_registered: tuple[Track, dict[str, VersionRule]] | None = None


def _seen(rows: Iterable[dict[str, Any]]) -> list[SeenVersion]:
    return [
        SeenVersion(r["module_id"], r["version"], r["material_change"], r["first_seen_at"])
        for r in rows
    ]


async def _history(track: Track) -> list[SeenVersion]:
    rows = await ContentVersion.select().where(
        ContentVersion.module_id.is_in([m.id for m in track.modules])
    )
    return _seen(rows)


async def register_content_versions() -> None:
    """Remember each module version the first time this installation serves it (at start-up).

    The unique key (module, version) makes this safe when several processes start at once: the
    first one's row, and so its `first_seen_at`, stands.
    """
    global _registered
    track = current_track()
    now = clock.now()
    async with transaction():
        for module in track.modules:
            await ContentVersion.insert(
                ContentVersion(
                    module_id=module.id, version=module.version,
                    material_change=module.material_change, first_seen_at=now,
                )
            ).on_conflict(
                target=(ContentVersion.module_id, ContentVersion.version), action="DO NOTHING"
            )  # fmt: skip
        _registered = (track, rules.version_rules(track, await _history(track)))


async def _version_rules(track: Track) -> dict[str, VersionRule]:
    if _registered is not None and _registered[0] is track:
        return _registered[1]
    return rules.version_rules(track, await _history(track))


# --- loading records ------------------------------------------------------------------------


# Each records table's rows with the moment that matters named `at`, so that one mentor's read
# (all three tables in one query) and the read of many mentors fold the same way.
_ATTEMPT_COLUMNS = (
    QuizAttempt.membership,
    QuizAttempt.id,
    QuizAttempt.module_id,
    QuizAttempt.content_version,
    QuizAttempt.submitted_at.as_alias("at"),
    QuizAttempt.passed,
)
_VISIT_COLUMNS = (
    LessonVisit.membership,
    LessonVisit.module_id,
    LessonVisit.last_opened_at.as_alias("at"),
)
_UNLOCK_COLUMNS = (
    AttemptUnlock.membership,
    AttemptUnlock.module_id,
    AttemptUnlock.unlocked_at.as_alias("at"),
)
# One mentor's records, read whenever their track is worked out: one query over the three
# tables, built and compiled once. The first select names the columns (and, on SQLite, their
# types); the program and the mentor come once for each table.
_MINE = Prepared(
    lambda *program_and_mentor: QuizAttempt.raw(
        "SELECT 'attempt' AS kind, membership, id, module_id, content_version, submitted_at AS at,"
        " passed FROM training_quiz_attempt WHERE program = {} AND membership = {} "
        "UNION ALL SELECT 'visit', membership, NULL, module_id, NULL, last_opened_at, NULL "
        "FROM training_lesson_visit WHERE program = {} AND membership = {} "
        "UNION ALL SELECT 'unlock', membership, NULL, module_id, NULL, unlocked_at, NULL "
        "FROM training_attempt_unlock WHERE program = {} AND membership = {}",
        *program_and_mentor,
    ),
    parameters=6,
)


def _of(table: Any, program_id: int, membership_ids: Sequence[int] | None, *columns: Any) -> Any:
    """A select of a records table in one program, for some mentors or all of them."""
    query = table.select(*columns).where(table.program == program_id)
    if membership_ids is not None:
        query = query.where(table.membership.is_in(list(membership_ids)))
    return query


async def _records(
    program_id: int, membership_ids: Sequence[int] | None = None, *, passes_only: bool = False
) -> dict[int, MentorRecords]:
    """Mentors' records in one program: one query for one mentor, three for more of them."""
    mine = membership_ids[0] if membership_ids is not None and len(membership_ids) == 1 else None
    if passes_only:
        query = _of(QuizAttempt, program_id, membership_ids, *_ATTEMPT_COLUMNS)
        attempts, visits, unlocks = await query.where(QuizAttempt.passed == True), [], []  # noqa: E712
    elif mine is not None:
        rows = await _MINE.run(*(program_id, mine) * 3)
        attempts, visits, unlocks = (
            [row for row in rows if row["kind"] == kind] for kind in ("attempt", "visit", "unlock")
        )
    else:
        attempts = await _of(QuizAttempt, program_id, membership_ids, *_ATTEMPT_COLUMNS)
        visits = await _of(LessonVisit, program_id, membership_ids, *_VISIT_COLUMNS)
        unlocks = await _of(AttemptUnlock, program_id, membership_ids, *_UNLOCK_COLUMNS)
    records: dict[int, MentorRecords] = defaultdict(MentorRecords)
    for row in attempts:
        records[row["membership"]].attempts.append(
            AttemptRecord(
                id=row["id"],
                module_id=row["module_id"],
                content_version=row["content_version"],
                submitted_at=row["at"],
                passed=row["passed"],
            )
        )
    for row in visits:
        _keep_latest(records[row["membership"]].visits, row)
    for row in unlocks:
        _keep_latest(records[row["membership"]].unlocks, row)
    return records


def _keep_latest(latest: dict[str, datetime], row: dict[str, Any]) -> None:
    """A lesson read or a reopening: the rules only need the latest for each module."""
    latest[row["module_id"]] = max(row["at"], latest.get(row["module_id"], row["at"]))


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
        months=rules.renewal_months(track, settings, ProgramSettings()),
        rules=await _version_rules(track),
        settings=settings,
        at=at or clock.now(),
    )


async def _mentor_records(
    program_id: int, membership_id: int, *, passes_only: bool = False
) -> MentorRecords:
    records = await _records(program_id, [membership_id], passes_only=passes_only)
    return records.get(membership_id, MentorRecords())


async def _mentor_states(
    context: _Context, program_id: int, membership_id: int, *, passes_only: bool = False
) -> list[ModuleState]:
    """One mentor's module states; `passes_only` when only currency matters (the gate)."""
    mine = await _mentor_records(program_id, membership_id, passes_only=passes_only)
    return evaluate_track(context.track, context.months, context.rules, mine, context.at)


async def _mentors(program_id: int) -> list[Any]:
    members = await accounts.list_members(program_caller(program_id), role=Role.MENTOR)
    return [m for m in members if m.status is not MembershipStatus.INACTIVE]


# --- the gate -------------------------------------------------------------------------------


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
                records.get(member.membership_id, MentorRecords()),
                context.at,
            ),
        )
        for member in await _mentors(program_id)
    ]


async def _current_until(
    program_id: int, at: datetime | None
) -> tuple[_Context, list[tuple[Any, datetime | None]]]:
    """Each mentor with the moment their whole track stops being current (None: not current),
    from one grouped query over the passes: the latest pass per module and content version.
    The gate needs no more than that, so it does not evaluate every module state in Python."""
    context = await _context(program_id, at)
    rows = await QuizAttempt.raw(
        "SELECT membership, module_id, content_version, MAX(submitted_at) AS passed_at "
        "FROM training_quiz_attempt WHERE program = {} AND passed = {} AND submitted_at <= {} "
        "GROUP BY membership, module_id, content_version",
        program_id,
        True,
        context.at,
    )
    latest: dict[int, dict[tuple[str, int], datetime]] = defaultdict(dict)
    for row in rows:
        passed = row["passed_at"]
        latest[row["membership"]][(row["module_id"], row["content_version"])] = (
            passed if isinstance(passed, datetime) else datetime.fromisoformat(passed)
        )
    return context, [
        (
            member,
            rules.track_current_until(
                context.track, context.months, context.rules, latest.get(member.membership_id, {})
            ),
        )
        for member in await _mentors(program_id)
    ]


async def trained_mentor_ids(program_id: int, at: datetime | None = None) -> set[int]:
    """Mentors (not inactive) whose every required module is passed and current at `at`.

    Whether paused or not: a paused mentor's existing matches continue.
    """
    context, mentors = await _current_until(program_id, at)
    return {member.membership_id for member, until in mentors if until and context.at < until}


async def _counts_as_mentor(program_id: int, membership_id: int) -> bool:
    """A mentor of this program who is not inactive: whom `_mentors` would list."""
    try:
        row = await membership_in_program(program_caller(program_id), membership_id)
    except NotFound:
        return False
    return row["role"] == Role.MENTOR.value and row["status"] != MembershipStatus.INACTIVE


async def is_trained(program_id: int, membership_id: int, at: datetime | None = None) -> bool:
    """One mentor's `trained_mentor_ids` answer, without evaluating the rest of the program."""
    if not await _counts_as_mentor(program_id, membership_id):
        return False
    context = await _context(program_id, at)
    states = await _mentor_states(context, program_id, membership_id, passes_only=True)
    return all(s.current for s in states)


_V = TypeVar("_V")
_K = TypeVar("_K")


@dataclass(frozen=True)
class _Track:
    """One mentor's track as it stands: their module states and whether they paused."""

    states: tuple[ModuleState, ...]
    paused: bool


@dataclass(frozen=True)
class _Answer(Generic[_V]):
    """Something about a program's training this process worked out at `at` (the gate's answer,
    a mentor's track): `value`, and what it holds for.

    It holds while the program's eligibility marker (`core.changes`), the served track and its
    version rules are the same, and the time is in [`at`, `until`): nothing it depends on changes
    between the moment it was worked out and the first moment the passing of time alone may
    change it (a current track expiring, a pass recorded for a later time starting to count).
    The marker is read before the records, so a change committed while they are read leaves a
    marker this answer no longer matches.
    """

    marker: str | None
    track: Track
    rules: dict[str, VersionRule]
    at: datetime
    until: datetime | None
    value: _V

    def holds(
        self, marker: str | None, track: Track, rules: dict[str, VersionRule], now: datetime
    ) -> bool:
        return (
            self.marker == marker
            and self.track is track
            and self.rules == rules
            and self.at <= now
            and (self.until is None or now < self.until)
        )


async def _cached(
    answers: dict[_K, _Answer[_V]],
    key: _K,
    program_id: int,
    work: Callable[[datetime], Awaitable[tuple[_Context, _V, datetime | None]]],
) -> _Answer[_V]:
    """`answers[key]` while it holds (one read: the program's marker), else `work(now)`, which
    returns the value with its context and until when it holds, remembered for next time."""
    marker = await changes.eligibility_marker(program_id)
    track, now = current_track(), clock.now()
    cached = answers.get(key)
    if cached is not None and cached.holds(marker, track, await _version_rules(track), now):
        return cached
    context, value, until = await work(now)
    answers[key] = answer = _Answer(marker, context.track, context.rules, now, until, value)
    return answer


# The gate's answer per program, and each mentor's track per (program, membership).
_answers: dict[int, _Answer[_GateAnswer]] = {}
_tracks: dict[tuple[int, int], _Answer[_Track]] = {}


def forget_eligibility() -> None:
    """Drop every cached answer (tests that empty the database between them do this)."""
    _answers.clear()
    _tracks.clear()


async def _next_pass_after(program_id: int, at: datetime) -> datetime | None:
    """The earliest pass recorded for a time after `at` (a clock set back, or backdated data):
    the gate's answer at `at` stops holding when it starts to count."""
    row = (
        await QuizAttempt.select(QuizAttempt.submitted_at)
        .where(
            (QuizAttempt.program == program_id)
            & (QuizAttempt.passed == True)  # noqa: E712
            & (QuizAttempt.submitted_at > at)
        )
        .order_by(QuizAttempt.submitted_at)
        .first()
    )
    return None if row is None else row["submitted_at"]


@dataclass(frozen=True)
class _GateAnswer:
    """The gate's answer at a moment, with what it was worked out from that other readers of
    the program's training want too: each mentor whose track is current, and until when."""

    ids: frozenset[int]
    current_until: dict[int, datetime]
    paused: frozenset[int]
    awaiting_approval: frozenset[int]


async def _gate(program_id: int, at: datetime) -> tuple[_Context, _GateAnswer, datetime | None]:
    """The gate worked out from the records at `at`, and until when the answer holds (see
    `_Answer`); None when no time to come changes it."""
    context, mentors = await _current_until(program_id, at)
    paused = await paused_mentor_ids(program_id)
    current = {
        member.membership_id: until for member, until in mentors if until is not None and at < until
    }
    ids = frozenset(
        member.membership_id
        for member, _ in mentors
        if may_take_matches(
            member.status, member.membership_id in paused, member.membership_id in current
        )
    )
    later = await _next_pass_after(program_id, at)
    until = min((*current.values(), *([later] if later else [])), default=None)
    pending = frozenset(
        member.membership_id for member, _ in mentors if member.status is MembershipStatus.PENDING
    )
    return context, _GateAnswer(ids, current, frozenset(paused), pending), until


async def _gate_now(program_id: int) -> _GateAnswer:
    """The gate's answer now, from this process's cache while it holds (`_Answer`)."""
    return (
        await _cached(_answers, program_id, program_id, lambda now: _gate(program_id, now))
    ).value


async def eligible_mentor_ids(program_id: int, at: datetime | None = None) -> set[int]:
    """THE matching gate: membership ids of mentors who may get new matches now (or at `at`).

    Approved and active, every required module passed and current, not paused. Matching uses
    this and nothing else. Asked about now, it answers from this process's cache while the
    answer holds (`_Answer`), at the cost of one small read; a chosen `at` is worked out afresh.
    """
    if at is not None:
        return set((await _gate(program_id, at))[1].ids)
    return set((await _gate_now(program_id)).ids)


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
    """True while a lapsed mentor's existing matches may continue (no new ones).

    The `grace_period_ends` answer for one mentor, evaluating only them.
    """
    if not await _counts_as_mentor(program_id, membership_id):
        return False
    context = await _context(program_id, at)
    states = await _mentor_states(context, program_id, membership_id, passes_only=True)
    ends = grace_ends(states, context.settings.expiry_grace_days)
    return ends is not None and context.at < ends


# --- the mentor's track ---------------------------------------------------------------------


def why_not(state: ModuleState) -> str:
    """Why a mentor cannot take a quiz right now (`rules.why_not` for the served track)."""
    return rules.why_not(state, current_track())


def _progress(track: Track, states: list[ModuleState], eligible: bool) -> TrackProgress:
    current = sum(state.current for state in states)
    return TrackProgress(
        track_id=track.id,
        title=track.title,
        version=track.version,
        summary=track.summary,
        modules=states,
        current=current,
        total=len(states),
        complete=current == len(states),
        eligible=eligible,
    )


async def _track_of(program_id: int, membership_id: int) -> _Answer[_Track]:
    """A mentor's track now, from this process's cache while it holds (`_Answer`): every write
    to a mentor's training records, settings or pause redraws the program's marker, and the
    answer ends by itself when time alone may change it (`rules.track_holds_until`). For what
    people are shown; a write decides on `_mentor_states` read inside its transaction."""

    async def work(now: datetime) -> tuple[_Context, _Track, datetime | None]:
        context = await _context(program_id, now)
        mine = await _mentor_records(program_id, membership_id)
        states = evaluate_track(context.track, context.months, context.rules, mine, now)
        paused = membership_id in await paused_mentor_ids(program_id)
        return context, _Track(tuple(states), paused), rules.track_holds_until(states, mine, now)

    return await _cached(_tracks, (program_id, membership_id), program_id, work)


async def track_progress(caller: Caller) -> TrackProgress:
    """The signed-in mentor's modules with their status, and whether they can be matched."""
    answer = await _track_of(caller.program_id, caller.membership_id)
    states = list(answer.value.states)
    return _progress(
        answer.track, states, may_be_matched(caller.status, answer.value.paused, states)
    )


def _module(track: Track, module_id: str) -> Module:
    module = track.module(module_id)
    if module is None:
        raise NotFound("There is no such training module.")
    return module


def _state_of(states: Iterable[ModuleState], module_id: str) -> ModuleState:
    return next(state for state in states if state.module_id == module_id)


async def lesson(caller: Caller, module_id: str) -> Lesson:
    """A module to read, with where the mentor stands. Reading writes nothing: see `mark_read`."""
    module = _module(current_track(), module_id)
    states = (await _track_of(caller.program_id, caller.membership_id)).value.states
    return Lesson(
        module=_state_of(states, module_id),
        html=module.html,
        sources=[SourceOut(s.tag, s.title, s.url) for s in module.sources],
        quiz_length=module.quiz_length,
        pass_mark=module.pass_mark,
    )


async def mark_read(caller: Caller, module_id: str) -> ModuleState:
    """The mentor says they have read a module: what counts as the review before a retake.

    A deliberate step (a button), never a page view: links are prefetched and pages reloaded.
    """
    module = _module(current_track(), module_id)
    now = clock.now()
    async with transaction():
        await changes.eligibility_changed(caller.program_id)  # the review a retake needs
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
    return _state_of(
        (await _track_of(caller.program_id, caller.membership_id)).value.states, module_id
    )


async def start_attempt(caller: Caller, module_id: str) -> Attempt:
    """Draw a quiz (or return the open one) if the retake rules allow it.

    The draw and each question's shuffled option order are stored with the attempt, so the
    server grades exactly what it showed and the order never has to travel to the browser.
    """
    track = current_track()
    module = _module(track, module_id)
    context = await _context(caller.program_id, None)
    async with transaction():
        states = await _mentor_states(context, caller.program_id, caller.membership_id)
        state = _state_of(states, module_id)
        if state.open_attempt_id is not None:
            return await get_attempt(caller, state.open_attempt_id)
        if not state.can_take_quiz:
            raise Conflict(rules.why_not(state, track))
        drawn = rules.draw_questions(module)
        orders = {q.id: rules.option_order(q) for q in drawn}
        await changes.eligibility_changed(caller.program_id)  # an open attempt shows on the track
        rows = await QuizAttempt.insert(
            QuizAttempt(
                membership=caller.membership_id,
                program=caller.program_id,
                module_id=module.id,
                content_version=module.version,
                question_ids=msgspec.json.encode([q.id for q in drawn]).decode(),
                option_orders=msgspec.json.encode(orders).decode(),
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
    """The attempt as the mentor sees it: options in the order this attempt showed them, and
    (once graded) the chosen and best options as positions in that order."""
    questions = _questions(module, row["question_ids"])
    orders: dict[str, list[int]] = row["option_orders"] or {}
    shown = {q.id: rules.shown_order(orders, q) for q in questions}
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
                    options=[q.options[i].text for i in shown[q.id]],
                    chosen=shown[q.id].index(answers[q.id]) if q.id in answers else None,
                    best_option=shown[q.id].index(q.correct_index),
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
                id=q.id,
                stem=q.stem,
                critical=q.critical,
                options=[q.options[i].text for i in shown[q.id]],
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
    """Grade on the server, record the result with its content version, then show feedback.

    `answers` are positions as shown in this attempt; they are stored as indices into the file's
    options, so a record means the same whatever order the mentor saw.
    """
    module = _module(current_track(), (await _attempt_row(caller, attempt_id))["module_id"])
    async with transaction():
        await changes.eligibility_changed(caller.program_id)  # a pass may make them current
        row = await _attempt_row(caller, attempt_id)
        if row["submitted_at"] is not None:
            raise Conflict("This quiz was already submitted; its result is below.")
        questions = _questions(module, row["question_ids"])
        if row["content_version"] != module.version or len(questions) != len(row["question_ids"]):
            raise Conflict(
                "This module was updated while you were taking the quiz. Please start it again."
            )
        try:
            chosen = rules.read_answer_sheet(questions, row["option_orders"] or {}, answers)
        except rules.AnswerSheetError as problem:
            raise Invalid(str(problem), field="answers") from None
        result = rules.grade(questions, chosen, module.pass_mark)
        updated = (
            await QuizAttempt.update(
                {
                    QuizAttempt.answers: msgspec.json.encode(chosen).decode(),
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
    if await is_trained(caller.program_id, caller.membership_id):
        await changes.mentors_changed(caller.program_id)  # they may be proposed now
        await notifications.emit(
            caller, caller.program_id, TrainingEvent.TRACK_COMPLETED,
            subject=("membership", caller.membership_id),
            recipients=await accounts.supervisor_ids(caller.program_id),
            link="/staff/training",
        )  # fmt: skip


async def certificate(caller: Caller) -> Certificate:
    """The mentor's record of current passes: modules, dates, content versions and expiry."""
    answer = await _track_of(caller.program_id, caller.membership_id)
    states = answer.value.states
    current = [s for s in states if s.current and s.passed_at and s.expires_at]
    return Certificate(
        mentor=caller.display_name,
        program=caller.program_name,
        track_title=answer.track.title,
        track_version=answer.track.version,
        complete=len(current) == len(states),
        issued_at=clock.now(),
        expires_at=min((s.expires_at for s in current if s.expires_at), default=None),
        modules=[
            CertificateModule(
                module_id=s.module_id,
                title=s.title,
                passed_at=s.passed_at,  # type: ignore[arg-type]
                content_version=s.passed_version or s.version,
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
        mine = records.get(member.membership_id, MentorRecords())
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
                expired_modules=[s.module_id for s in states if s.status == "expired"],
                locked_modules=[s.module_id for s in states if s.locked_reason == "failures"],
                in_grace_until=grace if grace and context.at < grace else None,
            )
        )
    counts = {name: 0 for name in ComplianceState.__args__}  # type: ignore[attr-defined]
    for row in rows:
        counts[row.state] += 1
    return ComplianceReport(at=context.at, counts=counts, mentors=rows)


async def expiring_within(program_id: int, days: int) -> dict[int, datetime]:
    """Mentors whose training is current now but a module of it expires within `days`, with
    the earliest such expiry for each: read from the gate's cached answer (the dashboard asks
    on every view), which holds no longer than the first of those expiries."""
    gate, now = await _gate_now(program_id), clock.now()
    soon = now + timedelta(days=days)
    return {mentor: until for mentor, until in gate.current_until.items() if now < until <= soon}


async def paused_mentors(program_id: int) -> frozenset[int]:
    """Mentors who paused new matches: read from the gate's cached answer (a pause or a
    resume redraws its marker), as the dashboard's mentor load asks on every view."""
    return (await _gate_now(program_id)).paused


async def mentors_awaiting_approval(program_id: int) -> frozenset[int]:
    """Mentors who signed up and wait for staff to approve them, from the gate's cached answer:
    a mentor's sign-up and every change of status redraw its marker."""
    return (await _gate_now(program_id)).awaiting_approval


async def weekly_track_completions(
    program_id: int, since: datetime, until: datetime
) -> list[tuple[date, int]]:
    """(week, mentors) for each week in [since, until) in which mentors first completed the
    track: the week of the last of their first passes of the required modules. Aggregated in
    the database over the passes (indexed by program and pass time)."""
    modules = [module.id for module in current_track().modules]
    placeholders = ", ".join("{}" for _ in modules)
    rows = await QuizAttempt.raw(
        f"SELECT {buckets.week_start('done')} AS week, COUNT(*) AS mentors FROM ("  # noqa: S608
        "SELECT membership, MAX(first_pass) AS done, COUNT(*) AS modules FROM ("
        "SELECT membership, module_id, MIN(submitted_at) AS first_pass "
        "FROM training_quiz_attempt WHERE program = {} AND passed = {} "
        f"AND module_id IN ({placeholders}) GROUP BY membership, module_id"
        ") AS firsts GROUP BY membership"
        ") AS tracks WHERE modules = {} AND done >= {} AND done < {} GROUP BY week ORDER BY week",
        program_id,
        True,
        *modules,
        len(modules),
        since,
        until,
    )
    return [(buckets.as_date(row["week"]), int(row["mentors"])) for row in rows]


async def _mentor_member(caller: Caller, membership_id: int) -> dict[str, Any]:
    row = await membership_in_program(caller, membership_id)
    if row["role"] != Role.MENTOR.value:
        raise NotFound("No such mentor in your program.")
    return row


async def mentor_progress(caller: Caller, membership_id: int) -> MentorProgress:
    """One mentor's track for their supervisor."""
    member = await _mentor_member(caller, membership_id)
    names = {m.membership_id: m.display_name for m in await _mentors(caller.program_id)}
    answer = await _track_of(caller.program_id, membership_id)
    states = list(answer.value.states)
    eligible = may_be_matched(member["status"], answer.value.paused, states)
    return MentorProgress(
        membership_id=membership_id,
        display_name=names.get(membership_id, ""),
        progress=_progress(answer.track, states, eligible),
    )


async def unlock_module(
    caller: Caller, membership_id: int, module_id: str, remediation: Remediation
) -> ModuleState:
    """After three failures and a remediation conversation, a supervisor reopens the quiz."""
    module = _module(current_track(), module_id)
    await _mentor_member(caller, membership_id)
    context = await _context(caller.program_id, None)
    async with transaction():
        await changes.eligibility_changed(caller.program_id)  # the count towards the lock restarts
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
    return _state_of((await _track_of(caller.program_id, membership_id)).value.states, module.id)
