"""Concerns, each change in one transaction: load (row-locked on PostgreSQL), apply `rules`,
write, audit, emit. And the reads other slices build on (`open_concern_summary`,
`weekly_concerns_by_category`, `match_ids_with_concerns`) and the match gate.

Who reported a concern is for supervisors only: the reporter's own view names nobody, events
and audit details carry ids and enum values, and a mentor never sees concerns about them.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from tandem.accounts import services as accounts
from tandem.core import audit
from tandem.core.auth import Caller, Role, program_caller
from tandem.core.clock import clock
from tandem.core.database import Prepared, engine, for_update, transaction
from tandem.core.errors import Conflict, Invalid, NotFound
from tandem.core.severity import Severity
from tandem.matches import services as matches
from tandem.notifications import services as notifications
from tandem.profiles import services as profiles
from tandem.safety import rules
from tandem.safety.events import SafetyEvent
from tandem.safety.rules import Action, Category, ConcernStatus, Outcome, Step, UrgentSituation
from tandem.safety.schemas import (
    CategoryOut,
    ConcernCreate,
    ConcernOut,
    FiledConcernOut,
    QuestionOut,
    QueueItem,
    SafetySettings,
    SeverityCount,
    StepOut,
    UrgentEscalation,
)
from tandem.safety.tables import Concern, ConcernStep
from tandem.training import services as training

OPEN = [status.value for status in rules.OPEN_STATUSES]


# --- reads other slices build on ------------------------------------------------------------


# Built and compiled once (`core.database.Prepared`): the supervisor's home counts them.
_OPEN_CONCERNS = Prepared(
    lambda program_id, statuses: Concern.select(
        Concern.severity, Concern.status, Concern.due_at
    ).where((Concern.program == program_id) & Concern.status.is_in(statuses)),
    parameters=2,
)


async def open_concern_summary(program_id: int) -> list[SeverityCount]:
    """Open concerns per severity, S1 to S4 (a row for each, zeros included), and how many are
    past their response time, in one query."""
    rows = await _OPEN_CONCERNS.run(program_id, OPEN)
    now = clock.now()
    opened = Counter(row["severity"] for row in rows)
    overdue = Counter(
        row["severity"] for row in rows if rules.is_overdue(row["status"], row["due_at"], now)
    )
    return [
        SeverityCount(severity=s.value, open=opened[s.value], overdue=overdue[s.value])
        for s in rules.SEVERITIES
    ]


async def weekly_concerns_by_category(
    program_id: int, since: datetime, until: datetime
) -> list[tuple[date, str, int]]:
    """Concerns filed in [since, until) per week (starting Monday, UTC) and category, oldest
    week first, in one grouped SQL query."""
    if _is_postgres():
        week = "(date_trunc('week', filed_at AT TIME ZONE 'UTC'))::date"
    else:
        week = "date(filed_at, 'weekday 0', '-6 days')"
    rows = await Concern.raw(
        f"SELECT {week} AS week, category, COUNT(*) AS filed FROM safety_concern "  # noqa: S608
        "WHERE program = {} AND filed_at >= {} AND filed_at < {} "
        f"GROUP BY {week}, category ORDER BY week, category",
        program_id,
        since,
        until,
    )
    return [(_as_date(row["week"]), row["category"], int(row["filed"])) for row in rows]


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


async def match_ids_with_concerns(program_id: int) -> set[int]:
    """Matches about which any concern was ever raised (closed ones included)."""
    rows = await Concern.select(Concern.match_id).where(
        (Concern.program == program_id) & Concern.match_id.is_not_null()
    )
    return {row["match_id"] for row in rows}


# --- the match gate -----------------------------------------------------------------------


async def mentors_held_back(program_id: int, mentors: frozenset[int]) -> set[int]:
    """The gate `create_app` registers with `matches.services.add_match_gate`: mentors with an
    open S1 or S2 concern about them, a supervisor's pause on an open concern, or a required
    module retake not yet passed."""
    rows = await Concern.select(
        Concern.about,
        Concern.severity,
        Concern.status,
        Concern.mentor_paused,
        Concern.retake_module,
        Concern.retake_required_at,
    ).where(
        (Concern.program == program_id)
        & Concern.about.is_in(list(mentors) or [0])
        & Concern.status.is_in(OPEN)
    )
    held = {
        row["about"]
        for row in rows
        if rules.holds_new_matches(row["severity"], row["status"]) or row["mentor_paused"]
    }
    for row in rows:
        if (
            row["retake_module"]
            and row["about"] not in held
            and not await _retaken(
                program_id, row["about"], row["retake_module"], row["retake_required_at"]
            )
        ):
            held.add(row["about"])
    return held


async def _retaken(program_id: int, mentor: int, module_id: str, since: datetime) -> bool:
    progress = await training.mentor_progress(program_caller(program_id), mentor)
    return any(
        m.module_id == module_id and m.passed_at is not None and m.passed_at > since
        for m in progress.progress.modules
    )


# --- helpers ------------------------------------------------------------------------------


def _is_postgres() -> bool:
    return engine().engine_type == "postgres"


def _local(at: datetime, zone: str) -> str:
    return at.astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y, %H:%M %Z")


async def _names(program_id: int) -> dict[int, str]:
    members = await accounts.list_members(program_caller(program_id))
    return {m.membership_id: m.display_name for m in members}


def module_titles() -> dict[str, str]:
    """The training modules a supervisor can ask a mentor to take again."""
    return {module.id: module.title for module in training.current_track().modules}


def categories() -> list[CategoryOut]:
    """The 13 categories in plain words, with the questions that may raise a severity."""
    return [
        CategoryOut(
            value=category.value,
            label=rule.label,
            description=rule.description,
            default_severity=rule.default.value,
            questions=[QuestionOut(q.key, q.text, q.raises_to.value) for q in rule.questions],
        )
        for category, rule in rules.CATEGORIES.items()
    ]


async def _locked_concern(caller: Caller, concern_id: int) -> dict[str, Any]:
    query = Concern.select().where(
        (Concern.id == concern_id) & (Concern.program == caller.program_id)
    )
    rows = await for_update(query).output(load_json=True)
    if not rows:
        raise NotFound("No such concern.")
    return rows[0]


async def _add_step(
    caller: Caller | None,
    concern_id: int,
    program_id: int,
    step: str,
    *,
    action: str | None = None,
    note: str = "",
) -> None:
    await ConcernStep.insert(
        ConcernStep(
            concern=concern_id,
            program=program_id,
            actor=caller.membership_id if caller and caller.membership_id else None,
            step=step,
            action=action,
            note=note,
            at=clock.now(),
        )
    )


async def _alert(
    caller: Caller | None, program_id: int, concern_id: int, severity: Severity
) -> None:
    """Tell supervisors a concern was filed: an S1 goes to the on-call supervisor (all of them
    when none is set) and to the program's on-call webhooks; the event holds ids only."""
    supervisors = await accounts.supervisor_ids(program_id)
    link = f"/staff/concerns/{concern_id}"
    if severity is Severity.S1:
        on_call = (await accounts.program_settings(program_id)).on_call_supervisor_id
        recipients = [on_call] if on_call in supervisors else supervisors
        await notifications.emit(
            caller,
            program_id,
            SafetyEvent.URGENT_CONCERN,
            subject=("concern", concern_id),
            recipients=recipients,
            severity=Severity.S1,
            link=link,
        )
        return
    await notifications.emit(
        caller,
        program_id,
        SafetyEvent.CONCERN_FILED,
        subject=("concern", concern_id),
        recipients=supervisors,
        severity=severity,
        link=link,
    )


# --- filing -------------------------------------------------------------------------------


async def _subject(caller: Caller, data: ConcernCreate) -> tuple[int | None, int | None]:
    """(match id, whom it is about), checked against what the caller may report on: their own
    match (a newcomer's report is about the mentor, a mentor's about the newcomer), or, for
    staff, any match or member of the program."""
    if data.match_id is None and data.about_membership_id is None:
        raise Invalid("Please say which match or person the concern is about.", field="match_id")
    if data.about_membership_id is not None:
        if not caller.is_staff:
            raise Invalid(
                "Please choose the match the concern is about.", field="about_membership_id"
            )
        await accounts.membership_in_program(caller, data.about_membership_id)
    if data.match_id is None:
        return None, data.about_membership_id
    newcomer, mentor = await matches.match_people(caller, data.match_id)
    if caller.is_staff:
        return data.match_id, data.about_membership_id or mentor
    return data.match_id, mentor if caller.membership_id == newcomer else newcomer


async def report_concern(caller: Caller, data: ConcernCreate) -> FiledConcernOut:
    """File a concern. Its severity comes from the category and the answers (urgent: S1), its
    deadline from the program's response times; supervisors are alerted in the same
    transaction. A newcomer may ask for another mentor in the same step."""
    unknown = rules.unknown_answers(data.category, data.answers)
    if unknown:
        raise Invalid(
            f"These answers do not belong to this kind of concern: {unknown}.", field="answers"
        )
    if data.ask_for_another_mentor and (caller.role is not Role.NEWCOMER or data.match_id is None):
        raise Invalid(
            "Only a newcomer reporting their own mentor can ask for another mentor here.",
            field="ask_for_another_mentor",
        )
    severity = rules.severity_for(data.category, data.answers, urgent=data.urgent)
    async with transaction():
        await matches.places_changed(caller.program_id)  # the concern may hold its mentor back
        match_id, about = await _subject(caller, data)
        concern_id = await _insert(
            caller,
            category=data.category,
            severity=severity,
            answers=sorted(set(data.answers)),
            description=data.description.strip(),
            urgent=data.urgent,
            match_id=match_id,
            about=about,
            rematch=data.ask_for_another_mentor,
        )
        if data.ask_for_another_mentor:
            await matches.ask_for_another_mentor(caller)
        if about is not None and severity is Severity.S4:
            await _check_pattern(caller.program_id, about, data.category)
    return await filed_concern(caller, concern_id)


async def _insert(
    caller: Caller | None,
    *,
    program_id: int | None = None,
    category: Category,
    severity: Severity,
    answers: list[str],
    description: str,
    urgent: bool = False,
    situation: UrgentSituation | None = None,
    match_id: int | None,
    about: int | None,
    rematch: bool = False,
    from_pattern: bool = False,
) -> int:
    """Write a new concern with its first step, audit it and alert supervisors (in the
    caller's transaction)."""
    program = program_id if program_id is not None else caller.program_id  # type: ignore[union-attr]
    settings = await accounts.program_settings(program)
    now = clock.now()
    rows = await Concern.insert(
        Concern(
            program=program,
            category=category.value,
            severity=severity.value,
            status=ConcernStatus.OPEN.value,
            urgent=urgent,
            situation=situation.value if situation else None,
            answers=answers,
            description=description,
            reporter=caller.membership_id if caller else None,
            reporter_role=caller.role.value if caller else None,
            about=about,
            match_id=match_id,
            rematch_requested=rematch,
            from_pattern=from_pattern,
            filed_at=now,
            due_at=rules.due_at(severity, now, settings),
        )
    ).returning(Concern.id)
    concern_id = int(rows[0]["id"])
    await _add_step(caller, concern_id, program, "filed")
    await audit.record(
        caller,
        "concern.filed",
        "concern",
        concern_id,
        program_id=program,
        category=category.value,
        severity=severity.value,
        urgent=urgent,
        from_pattern=from_pattern,
    )
    await _alert(caller, program, concern_id, severity)
    return concern_id


async def _check_pattern(program_id: int, mentor: int, category: Category) -> None:
    """Three S4 concerns about one mentor within 90 days raise an S3 (once per three)."""
    rows = await Concern.select(Concern.filed_at, Concern.severity, Concern.from_pattern).where(
        (Concern.program == program_id) & (Concern.about == mentor)
    )
    small = [r["filed_at"] for r in rows if r["severity"] == Severity.S4 and not r["from_pattern"]]
    patterns = [r["filed_at"] for r in rows if r["from_pattern"]]
    if not rules.pattern_escalates(small, max(patterns, default=None), clock.now()):
        return
    concern_id = await _insert(
        None,
        program_id=program_id,
        category=category,
        severity=Severity.S3,
        answers=[],
        description="",
        match_id=None,
        about=mentor,
        from_pattern=True,
    )
    await notifications.emit(
        None,
        program_id,
        SafetyEvent.PATTERN_RAISED,
        subject=("concern", concern_id),
        recipients=await accounts.supervisor_ids(program_id),
        severity=Severity.S3,
        link=f"/staff/concerns/{concern_id}",
    )


async def escalate_now(caller: Caller, data: UrgentEscalation) -> FiledConcernOut:
    """A mentor's "escalate now": an S1 safety concern, alerting the on-call supervisor (in the
    app and through the program's on-call webhooks) at once."""
    async with transaction():
        match_id, about = None, None
        if data.match_id is not None:
            newcomer, _ = await matches.match_people(caller, data.match_id)
            match_id, about = data.match_id, newcomer
        concern_id = await _insert(
            caller,
            category=Category.SAFETY,
            severity=Severity.S1,
            answers=["imminent"],
            description=data.description.strip(),
            urgent=True,
            situation=data.situation,
            match_id=match_id,
            about=about,
        )
    return await filed_concern(caller, concern_id)


async def filed_concern(caller: Caller, concern_id: int) -> FiledConcernOut:
    """A concern the caller filed, as they see it: what happens next and by when."""
    row = (
        await Concern.select()
        .where(
            (Concern.id == concern_id)
            & (Concern.program == caller.program_id)
            & (Concern.reporter == caller.membership_id)
        )
        .first()
    )
    if row is None:
        raise NotFound("No such concern.")
    return await _filed_out(row, caller.program_id)


async def _filed_out(row: dict[str, Any], program_id: int) -> FiledConcernOut:
    zone = (await accounts.program_settings(program_id)).time_zone
    severity = Severity(row["severity"])
    return FiledConcernOut(
        id=row["id"],
        category=row["category"],
        category_label=rules.CATEGORIES[Category(row["category"])].label,
        severity=severity.value,
        status=row["status"],
        filed_at=row["filed_at"],
        due_at=row["due_at"],
        due_local=_local(row["due_at"], zone),
        what_happens_next=rules.WHAT_HAPPENS_NEXT[severity],
        rematch_requested=row["rematch_requested"],
    )


async def my_concerns(caller: Caller) -> list[FiledConcernOut]:
    """Concerns the caller filed (never concerns about them)."""
    rows = (
        await Concern.select()
        .where((Concern.program == caller.program_id) & (Concern.reporter == caller.membership_id))
        .order_by(Concern.filed_at, ascending=False)
    )
    return [await _filed_out(row, caller.program_id) for row in rows]


# --- the supervisor queue -----------------------------------------------------------------


async def queue(
    caller: Caller, *, severity: Severity | None = None, overdue_only: bool = False,
    include_closed: bool = False,
) -> list[QueueItem]:  # fmt: skip
    """Open concerns, most severe first and then the nearest deadline; overdue ones flagged."""
    query = Concern.select(
        Concern.id,
        Concern.category,
        Concern.severity,
        Concern.status,
        Concern.urgent,
        Concern.about,
        Concern.match_id,
        Concern.filed_at,
        Concern.due_at,
    ).where(Concern.program == caller.program_id)
    if not include_closed:
        query = query.where(Concern.status.is_in(OPEN))
    if severity is not None:
        query = query.where(Concern.severity == severity.value)
    rows = await query.order_by(Concern.severity).order_by(Concern.due_at)
    now = clock.now()
    zone = (await accounts.program_settings(caller.program_id)).time_zone
    names = await _names(caller.program_id) if rows else {}
    items = [
        QueueItem(
            id=row["id"],
            category=row["category"],
            category_label=rules.CATEGORIES[Category(row["category"])].label,
            severity=row["severity"],
            status=row["status"],
            urgent=row["urgent"],
            about_name=names.get(row["about"], "") if row["about"] else "",
            match_id=row["match_id"],
            filed_at=row["filed_at"],
            due_at=row["due_at"],
            due_local=_local(row["due_at"], zone),
            overdue=rules.is_overdue(row["status"], row["due_at"], now),
        )
        for row in rows
    ]
    return [item for item in items if item.overdue] if overdue_only else items


async def open_concern(caller: Caller, concern_id: int) -> ConcernOut:
    """A concern in full for a supervisor; each opening is recorded as a sensitive read."""
    async with transaction():
        await audit.record(caller, "concern.opened", "concern", concern_id)
        return await _reload(caller, concern_id)


async def _concern_out(caller: Caller, row: dict[str, Any]) -> ConcernOut:
    steps = await ConcernStep.select().where(ConcernStep.concern == row["id"]).order_by(
        ConcernStep.at
    ).order_by(ConcernStep.id)  # fmt: skip
    names = await _names(caller.program_id)
    zone = (await accounts.program_settings(caller.program_id)).time_zone
    return ConcernOut(
        id=row["id"],
        category=row["category"],
        category_label=rules.CATEGORIES[Category(row["category"])].label,
        severity=row["severity"],
        status=row["status"],
        urgent=row["urgent"],
        situation=row["situation"],
        answers=list(row["answers"] or []),
        description=row["description"],
        reporter_membership_id=row["reporter"],
        reporter_name=names.get(row["reporter"], "") if row["reporter"] else "",
        reporter_role=row["reporter_role"],
        about_membership_id=row["about"],
        about_name=names.get(row["about"], "") if row["about"] else "",
        match_id=row["match_id"],
        rematch_requested=row["rematch_requested"],
        from_pattern=row["from_pattern"],
        mentor_paused=row["mentor_paused"],
        retake_module=row["retake_module"],
        filed_at=row["filed_at"],
        due_at=row["due_at"],
        due_local=_local(row["due_at"], zone),
        overdue=rules.is_overdue(row["status"], row["due_at"], clock.now()),
        acknowledged_at=row["acknowledged_at"],
        closed_at=row["closed_at"],
        outcome=row["outcome"],
        steps=[
            StepOut(
                step=s["step"],
                action=s["action"],
                actor_name=names.get(s["actor"], "") if s["actor"] else "Tandem",
                note=s["note"],
                at=s["at"],
            )
            for s in steps
        ],
    )


async def _step(caller: Caller, concern_id: int, step: Step) -> dict[str, Any]:
    """Lock the concern and apply one step; the first thing in its transaction, as a step
    (and what follows it: a hold, a retake, a closed concern) may change the match gate."""
    await matches.places_changed(caller.program_id)
    row = await _locked_concern(caller, concern_id)
    try:
        status = rules.advance(row["status"], step)
    except rules.InvalidStep as error:
        raise Conflict(str(error)) from None
    changes: dict[Any, Any] = {Concern.status: status.value}
    if step in (Step.ACKNOWLEDGE, Step.ACT) and row["acknowledged_at"] is None:
        changes[Concern.acknowledged_at] = clock.now()
    await Concern.update(changes).where(Concern.id == concern_id)
    return {**row, "status": status.value}


async def acknowledge(caller: Caller, concern_id: int) -> ConcernOut:
    """The first response: the deadline clock stops."""
    async with transaction():
        await _step(caller, concern_id, Step.ACKNOWLEDGE)
        await _add_step(caller, concern_id, caller.program_id, "acknowledged")
        await audit.record(caller, "concern.acknowledged", "concern", concern_id)
    return await _reload(caller, concern_id)


async def add_note(caller: Caller, concern_id: int, note: str) -> ConcernOut:
    """A supervisor's note; its words stay on the concern, the audit names the step only."""
    if not note.strip():
        raise Invalid("Please write the note.", field="note")
    async with transaction():
        await _step(caller, concern_id, Step.NOTE)
        await _add_step(caller, concern_id, caller.program_id, "note", note=note.strip())
        await audit.record(caller, "concern.noted", "concern", concern_id)
    return await _reload(caller, concern_id)


async def act(
    caller: Caller, concern_id: int, action: Action, module_id: str | None = None
) -> ConcernOut:
    """A protective step: suspend the match (it ends, for safety, and that mentor is never
    proposed to the newcomer again), pause the mentor's new matches while the concern is open,
    require a module retake before new matches, or re-match the newcomer."""
    async with transaction():
        row = await _step(caller, concern_id, Step.ACT)
        changes: dict[Any, Any] = {}
        if action is Action.SUSPEND_MATCH:
            match = await _match_of(caller, row)
            if match.status == "active":
                await matches.end_match(caller, match.id, matches.EndReason.SAFETY)
        elif action is Action.REMATCH_NEWCOMER:
            match = await _match_of(caller, row)
            if match.status == "active":
                await matches.end_match(caller, match.id, matches.EndReason.REMATCH_REQUESTED)
            else:
                newcomer, _ = await matches.match_people(caller, match.id)
                person = await accounts.caller_for_membership(newcomer)
                if person is None:
                    raise Conflict("The newcomer is no longer in the program.")
                await matches.request_mentor(person)
        elif action is Action.PAUSE_MENTOR:
            _mentor(row)
            changes[Concern.mentor_paused] = True
        elif action is Action.REQUIRE_RETAKE:
            _mentor(row)
            if not module_id or module_id not in module_titles():
                raise Invalid("Please choose the module to take again.", field="module_id")
            changes[Concern.retake_module] = module_id
            changes[Concern.retake_required_at] = clock.now()
        if changes:
            await Concern.update(changes).where(Concern.id == concern_id)
        await _add_step(caller, concern_id, caller.program_id, "action", action=action.value)
        await audit.record(
            caller, "concern.acted", "concern", concern_id, step=action.value, module=module_id
        )
    return await _reload(caller, concern_id)


def _mentor(row: dict[str, Any]) -> int:
    if not row["about"]:
        raise Conflict("This concern is not about a mentor.")
    return int(row["about"])


async def _match_of(caller: Caller, row: dict[str, Any]) -> Any:
    if not row["match_id"]:
        raise Conflict("This concern is not about a match.")
    return await matches.get_match(caller, row["match_id"])


async def close(caller: Caller, concern_id: int, outcome: Outcome, note: str = "") -> ConcernOut:
    """Close with an outcome; holds on the mentor end with the concern."""
    async with transaction():
        await _step(caller, concern_id, Step.CLOSE)
        await Concern.update(
            {
                Concern.closed_at: clock.now(),
                Concern.outcome: outcome.value,
                Concern.mentor_paused: False,
                Concern.retake_module: None,
            }
        ).where(Concern.id == concern_id)
        await _add_step(
            caller, concern_id, caller.program_id, "closed", action=outcome.value, note=note.strip()
        )
        await audit.record(caller, "concern.closed", "concern", concern_id, outcome=outcome.value)
    return await _reload(caller, concern_id)


async def _reload(caller: Caller, concern_id: int) -> ConcernOut:
    """The concern of the caller's program as staff see it, else NotFound."""
    row = (
        await Concern.select()
        .where((Concern.id == concern_id) & (Concern.program == caller.program_id))
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise NotFound("No such concern.")
    return await _concern_out(caller, row)


# --- periodic steps -----------------------------------------------------------------------


async def escalate_overdue() -> int:
    """Tell every supervisor about each concern past its response time, exactly once: the
    conditional UPDATE claims the concern (only one process's UPDATE matches it) and the event
    is written in the same transaction, so a crash loses both or neither."""
    now = clock.now()
    candidates = await Concern.select(Concern.id, Concern.program, Concern.severity).where(
        (Concern.status == ConcernStatus.OPEN.value)
        & (Concern.due_at < now)
        & Concern.overdue_escalated_at.is_null()
    )
    escalated = 0
    for candidate in candidates:
        async with transaction():
            claimed = await Concern.update({Concern.overdue_escalated_at: now}).where(
                (Concern.id == candidate["id"])
                & (Concern.status == ConcernStatus.OPEN.value)
                & Concern.overdue_escalated_at.is_null()
            ).returning(Concern.id)  # fmt: skip
            if not claimed:
                continue
            program_id = candidate["program"]
            await _add_step(None, candidate["id"], program_id, "overdue")
            await audit.record(
                None, "concern.overdue_escalated", "concern", candidate["id"], program_id=program_id
            )
            await notifications.emit(
                None,
                program_id,
                SafetyEvent.CONCERN_OVERDUE,
                subject=("concern", candidate["id"]),
                recipients=await accounts.supervisor_ids(program_id),
                severity=candidate["severity"],
                link=f"/staff/concerns/{candidate['id']}",
            )
            escalated += 1
    return escalated


async def purge_closed() -> int:
    """Delete closed concerns older than each program's `closed_concern_retention_days`."""
    programs = await Concern.select(Concern.program).where(
        Concern.status == ConcernStatus.CLOSED.value
    ).distinct()  # fmt: skip
    purged = 0
    for row in programs:
        program_id = row["program"]
        days = (await accounts.program_settings(program_id)).closed_concern_retention_days
        cutoff = rules.retention_cutoff(clock.now(), days)
        async with transaction():
            gone = await Concern.delete().where(
                (Concern.program == program_id)
                & (Concern.status == ConcernStatus.CLOSED.value)
                & (Concern.closed_at < cutoff)
            ).returning(Concern.id)  # fmt: skip
            if gone:
                await audit.record(
                    None, "concern.purged", "program", program_id, program_id=program_id,
                    count=len(gone),
                )  # fmt: skip
            purged += len(gone)
    return purged


# --- settings -----------------------------------------------------------------------------


async def safety_settings(caller: Caller) -> SafetySettings:
    current = await accounts.program_settings(caller.program_id)
    return SafetySettings(
        **{name: getattr(current, name) for name in SafetySettings.__struct_fields__}
    )


async def save_safety_settings(caller: Caller, data: SafetySettings) -> SafetySettings:
    """Staff change their program's concern settings (audited by name, as every setting)."""
    if not profiles.is_time_zone(data.time_zone):
        raise Invalid(
            "Please choose a time zone by its place name, like America/Chicago.", field="time_zone"
        )
    if data.on_call_supervisor_id is not None and data.on_call_supervisor_id not in (
        await accounts.supervisor_ids(caller.program_id)
    ):
        raise Invalid(
            "The on-call person must be an active supervisor.", field="on_call_supervisor_id"
        )
    current = await accounts.program_settings(caller.program_id)
    await accounts.save_program_settings(
        caller, msgspec.structs.replace(current, **msgspec.structs.asdict(data))
    )
    return data


# --- privacy ------------------------------------------------------------------------------


async def export_concerns(caller: Caller) -> dict[str, Any]:
    """Concerns the caller filed, in their own words; never concerns others filed about them."""
    rows = (
        await Concern.select(
            Concern.id,
            Concern.category,
            Concern.severity,
            Concern.status,
            Concern.urgent,
            Concern.description,
            Concern.filed_at,
            Concern.closed_at,
            Concern.outcome,
        )
        .where((Concern.program == caller.program_id) & (Concern.reporter == caller.membership_id))
        .order_by(Concern.filed_at)
    )
    return {"concerns_filed": msgspec.to_builtins(rows)}


# --- check-ins and self-care (`care_services`): what other slices and `create_app` use ----------

from tandem.safety.care_services import (  # noqa: E402 - the re-export block closes the module
    export_care as export_care,
)
from tandem.safety.care_services import (  # noqa: E402
    gone_quiet_matches as gone_quiet_matches,
)
from tandem.safety.care_services import held_mentors as held_mentors  # noqa: E402
