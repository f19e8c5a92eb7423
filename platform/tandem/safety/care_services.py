"""Check-ins and mentor self-care, each change in one transaction: load, ask `care_rules`, write,
audit (ids and enums only), emit.

Confidentiality is the shape of this module: a return to use and the wellbeing answers are read
only by the mentor's own functions (`self_care`, `export_care`); the supervisor functions read
check-ins, gone-quiet matches and conversation requests, none of which says why a mentor asked to
talk. The audit trail records self-care entries under one neutral action, so even the trail
cannot tell a return to use from a wellbeing check-in.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec

from tandem.accounts import services as accounts
from tandem.core import audit
from tandem.core.auth import Caller
from tandem.core.clock import clock
from tandem.core.database import Prepared, transaction
from tandem.core.errors import Conflict, Invalid, NotFound
from tandem.matches import services as matches
from tandem.notifications import services as notifications
from tandem.safety import care_rules as rules
from tandem.safety.care_schemas import (
    CheckInCreate,
    CheckInOut,
    ConversationOut,
    FlaggedCheckIn,
    MentorLoadOut,
    QuietHoursIn,
    QuietMatch,
    QuietMatchLine,
    ReturnToUseIn,
    ReturnToUseOut,
    SelfCareOut,
    WellbeingIn,
    WellbeingOut,
)
from tandem.safety.care_tables import (
    CheckIn,
    ConversationRequest,
    MentorCareSettings,
    ReturnToUseReport,
    WellbeingCheckIn,
)
from tandem.safety.events import CareEvent

# The neutral audit action of every confidential self-care entry (see the module docstring).
SELF_CARE_RECORDED = "self_care.recorded"


def _as_date(value: Any) -> date | None:
    """A date from a raw row: SQLite hands back text, PostgreSQL a date or a timestamp."""
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(str(value)[:10])


# --- check-ins --------------------------------------------------------------------------------


async def quiet_hours_of(mentor_id: int) -> rules.QuietHours | None:
    row = (
        await MentorCareSettings.select(
            MentorCareSettings.quiet_start, MentorCareSettings.quiet_end
        )
        .where(MentorCareSettings.mentor == mentor_id)
        .first()
    )
    if row is None or row["quiet_start"] is None or row["quiet_end"] is None:
        return None
    return rules.QuietHours(row["quiet_start"], row["quiet_end"])


async def log_check_in(caller: Caller, data: CheckInCreate) -> CheckInOut:
    """A mentor logs a contact. The flags are decided now, against the match's agreed hours
    (shared availability less the mentor's quiet hours) and the match's recent contacts, so a
    later change of availability never rewrites what supervision saw."""
    match = await matches.get_match(caller, data.match_id)
    if match.status != matches.MatchStatus.ACTIVE.value:
        raise Conflict("This match has ended; check-ins are for active matches.")
    problem = rules.check_in_date_problem(data.contact_date, clock.today())
    if problem is None and data.contact_date < match.started_at.date():
        problem = "The date of a check-in cannot be before the match began."
    if problem:
        raise Invalid(problem, field="contact_date")
    hour, minute = (int(part) for part in data.start_time.split(":"))
    async with transaction():
        # Read inside the transaction: two check-ins logged at once both count the other.
        earlier = await CheckIn.select(CheckIn.contact_date).where(
            (CheckIn.match_id == data.match_id)
            & (CheckIn.contact_date >= data.contact_date - rules.FREQUENT_WINDOW)
            & (CheckIn.contact_date <= data.contact_date)
        )
        flags = rules.check_in_flags(
            data.contact_date,
            hour,
            minute,
            data.minutes,
            match.shared_grid,
            await quiet_hours_of(caller.membership_id),
            [_as_date(row["contact_date"]) or data.contact_date for row in earlier],
        )
        row = CheckIn(
            program=caller.program_id,
            match_id=data.match_id,
            mentor=caller.membership_id,
            newcomer=match.partner_membership_id,
            contact_date=data.contact_date,
            start_time=data.start_time,
            minutes=data.minutes,
            channel=data.channel.value,
            topics=[topic.value for topic in data.topics],
            worried=data.worried,
            note=data.note.strip() if data.worried else "",
            flags=[flag.value for flag in flags],
            flagged=bool(flags) or data.worried,
            created_at=clock.now(),
        )
        await row.save()
        await audit.record(
            caller,
            "check_in.logged",
            "care_check_in",
            row.id,
            match_id=data.match_id,
            flags=[flag.value for flag in flags],
            worried=data.worried,
        )
        if row.flagged:
            await notifications.emit(
                caller,
                caller.program_id,
                CareEvent.CHECK_IN_FLAGGED,
                subject=("care_check_in", row.id),
                recipients=await accounts.supervisor_ids(caller.program_id),
                link="/staff/check-ins/flags",
            )
    return CheckInOut(
        id=row.id,
        match_id=data.match_id,
        contact_date=data.contact_date,
        start_time=data.start_time,
        minutes=data.minutes,
        channel=data.channel.value,
        topics=[topic.value for topic in data.topics],
        worried=data.worried,
        flags=[flag.value for flag in flags],
    )


async def my_check_ins(caller: Caller, limit: int = 50) -> list[CheckInOut]:
    """The mentor's own latest check-ins, newest first."""
    rows = (
        await CheckIn.select(*(getattr(CheckIn, f) for f in CheckInOut.__struct_fields__))
        .where(CheckIn.mentor == caller.membership_id)
        .order_by(CheckIn.contact_date, ascending=False)
        .order_by(CheckIn.id, ascending=False)
        .limit(limit)
        .output(load_json=True)
    )
    return msgspec.convert(rows, list[CheckInOut])


async def flagged_check_ins(caller: Caller, limit: int = 100) -> list[FlaggedCheckIn]:
    """Staff: check-ins that raised a flag or worried their mentor, newest first. The notes
    are a sensitive read: the trail records whose were read, never what they say."""
    rows = (
        await CheckIn.select(
            CheckIn.id,
            CheckIn.match_id,
            CheckIn.mentor.as_alias("mentor_id"),
            CheckIn.mentor.person.display_name.as_alias("mentor_name"),
            CheckIn.contact_date,
            CheckIn.start_time,
            CheckIn.minutes,
            CheckIn.channel,
            CheckIn.worried,
            CheckIn.note,
            CheckIn.flags,
        )
        .where((CheckIn.program == caller.program_id) & (CheckIn.flagged == True))  # noqa: E712
        .order_by(CheckIn.contact_date, ascending=False)
        .order_by(CheckIn.id, ascending=False)
        .limit(limit)
        .output(load_json=True)
    )
    if any(row["note"] for row in rows):
        async with transaction():
            await audit.record(
                caller,
                "check_in.notes_read",
                "care_check_in",
                "flagged",
                check_ins=[str(row["id"]) for row in rows if row["note"]],
            )
    return msgspec.convert(rows, list[FlaggedCheckIn])


# --- gone quiet -------------------------------------------------------------------------------

# The one place safety reads the match table, by its name: the dashboard's list of quiet matches
# is one query (active matches left-joined to their latest check-in), not one per match.
_QUIET_QUERY = """
SELECT m.id AS match_id, m.mentor AS mentor_id, m.newcomer AS newcomer_id,
       m.started_at AS started_at, MAX(c.contact_date) AS last_check_in
FROM mentor_match m
LEFT JOIN care_check_in c ON c.match_id = m.id
WHERE m.program = {} AND m.status = {}
GROUP BY m.id, m.mentor, m.newcomer, m.started_at
ORDER BY m.started_at, m.id
"""

# Built and compiled once (`core.database.Prepared`): the supervisor's home counts them.
_QUIET = Prepared(lambda program_id, status: CheckIn.raw(_QUIET_QUERY, program_id, status), 2)


async def gone_quiet_matches(program_id: int) -> list[QuietMatch]:
    """The program's active matches with no check-in for 21 days, or none since the match
    began 21+ days ago, longest quiet first. One query."""
    rows = await _QUIET.run(program_id, matches.MatchStatus.ACTIVE.value)
    today = clock.today()
    quiet = []
    for row in rows:
        last = _as_date(row["last_check_in"])
        started = _as_date(row["started_at"]) or today
        if rules.gone_quiet(last, started, today):
            quiet.append(
                QuietMatch(
                    match_id=row["match_id"],
                    mentor_id=row["mentor_id"],
                    newcomer_id=row["newcomer_id"],
                    last_check_in=last,
                    days_quiet=rules.days_quiet(last, started, today),
                )
            )
    return sorted(quiet, key=lambda q: (-q.days_quiet, q.match_id))


async def quiet_match_lines(caller: Caller) -> list[QuietMatchLine]:
    """Gone-quiet matches with names: a mentor sees their own, staff the whole program."""
    quiet = await gone_quiet_matches(caller.program_id)
    if not caller.is_staff:
        quiet = [q for q in quiet if q.mentor_id == caller.membership_id]
    names = (
        {m.membership_id: m.display_name for m in await accounts.list_members(caller)}
        if quiet
        else {}
    )
    return [
        QuietMatchLine(
            match_id=q.match_id,
            mentor_name=names.get(q.mentor_id, ""),
            newcomer_name=names.get(q.newcomer_id, ""),
            last_check_in=q.last_check_in,
            days_quiet=q.days_quiet,
        )
        for q in quiet
    ]


# --- self-care --------------------------------------------------------------------------------


async def _open_report(mentor_id: int) -> dict[str, Any] | None:
    return (
        await ReturnToUseReport.select(ReturnToUseReport.id, ReturnToUseReport.reported_at)
        .where((ReturnToUseReport.mentor == mentor_id) & ReturnToUseReport.ready_at.is_null())
        .first()
    )


async def _open_conversation(mentor_id: int) -> dict[str, Any] | None:
    return (
        await ConversationRequest.select(ConversationRequest.id, ConversationRequest.asked_at)
        .where((ConversationRequest.mentor == mentor_id) & ConversationRequest.held_at.is_null())
        .first()
    )


# Every page with a mentor on it asks (the gate, the mentor's own home): built once. A
# program's unready reports are few, so they are read whole and matched here, rather than
# sent as an IN list of every candidate mentor.
_NOT_READY = Prepared(
    lambda program_id: ReturnToUseReport.select(ReturnToUseReport.mentor).where(
        (ReturnToUseReport.program == program_id) & ReturnToUseReport.ready_at.is_null()
    ),
    parameters=1,
)


async def held_mentors(program_id: int, candidates: frozenset[int]) -> set[int]:
    """The match gate: mentors who reported a return to use and have not yet said they are
    ready get no new matches (registered with `matches.services.add_match_gate`)."""
    if not candidates:
        return set()
    return {row["mentor"] for row in await _NOT_READY.run(program_id)} & candidates


async def mentor_load(caller: Caller) -> MentorLoadOut:
    """The mentor's own load at a glance. Places left are the caseload's (limit less active
    matches and open offers), whatever holds new matches: a hold from a concern about the
    mentor must not show on their own page, and their own hold is shown on its own."""
    places = (await matches.mentor_places(caller.program_id)).get(caller.membership_id)
    check_ins = await CheckIn.count().where(
        (CheckIn.mentor == caller.membership_id)
        & (CheckIn.contact_date >= rules.month_start(clock.today()))
    )
    return MentorLoadOut(
        active_matches=places.active if places else 0,
        places_left=max(0, places.limit - places.active - places.offers) if places else 0,
        check_ins_this_month=check_ins,
    )


async def self_care(caller: Caller) -> SelfCareOut:
    """The mentor's own self-care page: load, quiet hours, the monthly check-in, any hold."""
    quiet = await quiet_hours_of(caller.membership_id)
    last = (
        await WellbeingCheckIn.select(WellbeingCheckIn.answered_on)
        .where(WellbeingCheckIn.mentor == caller.membership_id)
        .order_by(WellbeingCheckIn.answered_on, ascending=False)
        .first()
    )
    last_on = _as_date(last["answered_on"]) if last else None
    report = await _open_report(caller.membership_id)
    conversation = await _open_conversation(caller.membership_id)
    return SelfCareOut(
        load=await mentor_load(caller),
        quiet_start=quiet.start if quiet else None,
        quiet_end=quiet.end if quiet else None,
        wellbeing_due=rules.wellbeing_due(last_on, clock.today()),
        last_wellbeing=last_on,
        new_matches_held_since=report["reported_at"] if report else None,
        conversation_asked_at=conversation["asked_at"] if conversation else None,
    )


async def set_quiet_hours(caller: Caller, data: QuietHoursIn) -> SelfCareOut:
    if (data.start is None) != (data.end is None):
        missing = "end" if data.end is None else "start"
        raise Invalid("Please give both the start and the end of your quiet hours.", field=missing)
    if data.start is not None and data.start == data.end:
        raise Invalid("Quiet hours need to end at a different hour than they start.", field="end")
    async with transaction():
        now = clock.now()
        exists = await MentorCareSettings.exists().where(
            MentorCareSettings.mentor == caller.membership_id
        )
        values = {
            MentorCareSettings.quiet_start: data.start,
            MentorCareSettings.quiet_end: data.end,
            MentorCareSettings.updated_at: now,
        }
        if exists:
            await MentorCareSettings.update(values).where(
                MentorCareSettings.mentor == caller.membership_id
            )
        else:
            await MentorCareSettings(
                mentor=caller.membership_id,
                program=caller.program_id,
                quiet_start=data.start,
                quiet_end=data.end,
                updated_at=now,
            ).save()
        await audit.record(
            caller, "self_care.quiet_hours_set", "care_mentor_settings", caller.membership_id
        )
    return await self_care(caller)


async def _ask_for_conversation(caller: Caller) -> bool:
    """Inside the caller's transaction: one open request at a time; supervisors are told that
    the mentor asked to talk, and nothing else. True when a request is (already) open."""
    if await _open_conversation(caller.membership_id) is not None:
        return True
    row = ConversationRequest(
        mentor=caller.membership_id, program=caller.program_id, asked_at=clock.now()
    )
    await row.save()
    await audit.record(caller, "self_care.conversation_requested", "care_conversation", row.id)
    await notifications.emit(
        caller,
        caller.program_id,
        CareEvent.CONVERSATION_REQUESTED,
        subject=("care_conversation", row.id),
        recipients=await accounts.supervisor_ids(caller.program_id),
        link="/staff/self-care/conversations",
    )
    return True


async def ask_for_conversation(caller: Caller) -> SelfCareOut:
    async with transaction():
        await _ask_for_conversation(caller)
    return await self_care(caller)


async def record_wellbeing(caller: Caller, data: WellbeingIn) -> WellbeingOut:
    """The monthly wellbeing check-in: low answers suggest a conversation, which the mentor
    may ask for in the same step. The answers stay the mentor's own."""
    answers = {key: getattr(data, key) for key in rules.WELLBEING_QUESTIONS}
    problem = rules.wellbeing_problem(answers)
    if problem:
        raise Invalid(problem)
    today = clock.today()
    async with transaction():
        await WellbeingCheckIn(
            mentor=caller.membership_id,
            program=caller.program_id,
            answered_on=today,
            answers=answers,
            answered_at=clock.now(),
        ).save()
        await audit.record(caller, SELF_CARE_RECORDED, "self_care", caller.membership_id)
        asked = await _ask_for_conversation(caller) if data.talk_to_supervisor else False
    return WellbeingOut(
        answered_on=today,
        suggests_conversation=rules.suggests_conversation(answers),
        conversation_asked=asked,
    )


async def report_return_to_use(caller: Caller, data: ReturnToUseIn) -> ReturnToUseOut:
    """A mentor tells us, confidentially, about a return to use. New matches pause at once
    (the match gate), current mentees are not told, no concern is created, and a conversation
    with the supervisor is offered. Reporting again while held changes nothing."""
    async with transaction():
        await matches.places_changed(caller.program_id)  # the match gate reads this
        report = await _open_report(caller.membership_id)
        if report is None:
            row = ReturnToUseReport(
                mentor=caller.membership_id, program=caller.program_id, reported_at=clock.now()
            )
            await row.save()
            held_since = row.reported_at
            await audit.record(caller, SELF_CARE_RECORDED, "self_care", caller.membership_id)
        else:
            held_since = report["reported_at"]
        asked = await _ask_for_conversation(caller) if data.talk_to_supervisor else False
    return ReturnToUseOut(
        new_matches_held_since=held_since,
        conversation_asked=asked,
        support_plan=list(rules.SUPPORT_PLAN),
    )


async def ready_to_return(caller: Caller) -> SelfCareOut:
    """The mentor says they are ready for new matches again (agreed with their supervisor)."""
    async with transaction():
        await matches.places_changed(caller.program_id)  # the match gate reads this
        if await _open_report(caller.membership_id) is None:
            raise Conflict("Your new matches are not on hold.")
        await ReturnToUseReport.update({ReturnToUseReport.ready_at: clock.now()}).where(
            (ReturnToUseReport.mentor == caller.membership_id)
            & ReturnToUseReport.ready_at.is_null()
        )
        await audit.record(caller, SELF_CARE_RECORDED, "self_care", caller.membership_id)
    return await self_care(caller)


# --- supervisors: conversation requests ---------------------------------------------------------


async def conversation_requests(caller: Caller) -> list[ConversationOut]:
    """Staff: who asked to talk and when (open ones first). Never why."""
    rows = (
        await ConversationRequest.select(
            ConversationRequest.id,
            ConversationRequest.mentor.as_alias("mentor_id"),
            ConversationRequest.mentor.person.display_name.as_alias("mentor_name"),
            ConversationRequest.asked_at,
            ConversationRequest.held_at,
        )
        .where(ConversationRequest.program == caller.program_id)
        .order_by(ConversationRequest.asked_at, ascending=False)
        .limit(100)
    )
    rows.sort(key=lambda row: row["held_at"] is not None)
    return msgspec.convert(rows, list[ConversationOut])


async def mark_conversation_held(caller: Caller, request_id: int) -> ConversationOut:
    async with transaction():
        row = (
            await ConversationRequest.select(ConversationRequest.id, ConversationRequest.held_at)
            .where(
                (ConversationRequest.id == request_id)
                & (ConversationRequest.program == caller.program_id)
            )
            .first()
        )
        if row is None:
            raise NotFound("No such conversation request.")
        if row["held_at"] is None:
            await ConversationRequest.update(
                {
                    ConversationRequest.held_at: clock.now(),
                    ConversationRequest.held_by: caller.person_id,
                }
            ).where(ConversationRequest.id == request_id)
            await audit.record(
                caller, "self_care.conversation_held", "care_conversation", request_id
            )
    [held] = [c for c in await conversation_requests(caller) if c.id == request_id]
    return held


# --- a person's own data -----------------------------------------------------------------------


async def export_care(caller: Caller) -> dict[str, Any]:
    """The caller's check-ins (as the mentor who logged them, or the contacts logged with them
    as a mentee, without the mentor's notes to supervision) and their own self-care entries."""
    export: dict[str, Any] = {
        "check_ins_with_me": await CheckIn.select(
            CheckIn.id, CheckIn.contact_date, CheckIn.minutes, CheckIn.channel, CheckIn.topics
        )
        .where(CheckIn.newcomer == caller.membership_id)
        .output(load_json=True)
    }
    # Both parts for every role (empty but for a mentor), so a download has one shape.
    export["check_ins"] = (
        await CheckIn.select().where(CheckIn.mentor == caller.membership_id).output(load_json=True)
    )
    export["self_care"] = {
        "quiet_hours": await MentorCareSettings.select(
            MentorCareSettings.quiet_start, MentorCareSettings.quiet_end
        ).where(MentorCareSettings.mentor == caller.membership_id),
        "return_to_use_reports": await ReturnToUseReport.select(
            ReturnToUseReport.reported_at, ReturnToUseReport.ready_at
        ).where(ReturnToUseReport.mentor == caller.membership_id),
        "wellbeing_check_ins": await WellbeingCheckIn.select(
            WellbeingCheckIn.answered_on, WellbeingCheckIn.answers
        )
        .where(WellbeingCheckIn.mentor == caller.membership_id)
        .output(load_json=True),
        "conversation_requests": await ConversationRequest.select(
            ConversationRequest.asked_at, ConversationRequest.held_at
        ).where(ConversationRequest.mentor == caller.membership_id),
    }
    return export
