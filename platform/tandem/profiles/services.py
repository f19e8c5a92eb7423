"""Saving and reading intake and mentor profiles, each change audited in its own transaction."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec

from matching.records import Mentor, Newcomer
from tandem.accounts.services import (
    approve_mentor,
    decline_mentor,
    membership_in_program,
    supervisor_ids,
)
from tandem.core import audit, changes
from tandem.core.auth import Caller, Role
from tandem.core.clock import clock
from tandem.core.database import Prepared, for_update, transaction
from tandem.core.errors import Conflict, Invalid, NotFound
from tandem.notifications import services as notifications
from tandem.profiles.choices import is_time_zone
from tandem.profiles.events import ProfileEvent
from tandem.profiles.schemas import (
    MentorPauseStatus,
    MentorProfileOut,
    MentorProfileUpdate,
    NewcomerIntake,
    NewcomerIntakeOut,
    PausedMentor,
    Shareable,
    SharingUpdate,
    Slot,
)
from tandem.profiles.tables import DeclinedApplication, MentorProfile, NewcomerProfile


def minutes(time_of_day: str) -> int:
    hours, mins = time_of_day.split(":")
    return int(hours) * 60 + int(mins)


def _check_common(timezone: str, availability: list[Slot], formats: list[str], area: str) -> None:
    """Rules a msgspec constraint cannot express; each error names its field."""
    if not is_time_zone(timezone):
        raise Invalid(
            "Please choose your time zone from the list (a place near you, like America/Chicago).",
            field="timezone",
        )
    for slot in availability:
        if minutes(slot.end) <= minutes(slot.start):
            raise Invalid(
                f"An availability window must end after it starts ({slot.start}-{slot.end}).",
                field="availability",
            )
    if "in_person" in formats and not area.strip():
        raise Invalid("Please name your area to meet in person.", field="area")


def _changed_fields(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    if old is None:
        return sorted(new)
    return sorted(key for key, value in new.items() if old.get(key) != value)


ProfileTable = type[NewcomerProfile] | type[MentorProfile]


def _columns(table: ProfileTable) -> list[Any]:
    """A profile's columns, never a pause note."""
    return table.all_columns(exclude=[MentorProfile.pause_note] if table is MentorProfile else [])


def _profile_row(table: ProfileTable) -> Prepared[Any]:
    """One member's profile row in one program: built and compiled once (a newcomer's home
    reads their own intake on every view)."""
    return Prepared(
        lambda membership_id, program_id: (
            table.select(*_columns(table))
            .where((table.membership == membership_id) & (table.program == program_id))
            .output(load_json=True)
            .first()
        ),
        parameters=2,
    )


_PROFILE_ROW = {table: _profile_row(table) for table in (MentorProfile, NewcomerProfile)}


async def _load_profile(
    caller: Caller, table: ProfileTable, membership_id: int | None, missing: str
) -> dict[str, Any]:
    """The caller's own profile row, or (for staff) one of their program's, never a pause note."""
    target = membership_id or caller.membership_id
    if target != caller.membership_id:
        await membership_in_program(caller, target)
    row = await _PROFILE_ROW[table].run(target, caller.program_id)
    if row is None:
        raise NotFound(missing)
    return {**row, "membership_id": target}


async def _save_profile(
    caller: Caller, table: ProfileTable, profile: NewcomerIntake | MentorProfileUpdate
) -> None:
    """Validate, then create or replace the caller's profile in one audited transaction."""
    if profile.recovery_start and profile.recovery_start > clock.today():
        raise Invalid("The recovery date cannot be in the future.", field="recovery_start")
    _check_common(profile.timezone, profile.availability, profile.formats, profile.area)
    values = msgspec.to_builtins(profile)
    values["recovery_start"] = profile.recovery_start
    async with transaction():
        existing = (
            await table.select()
            .where(table.membership == caller.membership_id)
            .output(load_json=True)
            .first()
        )
        if existing is None:
            await table.insert(
                table(
                    membership=caller.membership_id,
                    program=caller.program_id,
                    updated_at=clock.now(),
                    **values,
                )
            )
        else:
            await table.update({**values, "updated_at": clock.now()}).where(
                table.id == existing["id"]
            )
        await audit.record(
            caller,
            f"{table._meta.tablename}.saved",
            table._meta.tablename,
            caller.membership_id,
            changed=_changed_fields(existing, values),
        )
        if table is MentorProfile:
            await changes.mentors_changed(caller.program_id)


# Read on every newcomer's home: built and compiled once.
_SHARING = Prepared(
    lambda membership_id, program_id: (
        NewcomerProfile.select(NewcomerProfile.share_with_mentor)
        .where(
            (NewcomerProfile.membership == membership_id) & (NewcomerProfile.program == program_id)
        )
        .output(load_json=True)
        .first()
    ),
    parameters=2,
)


async def intake_sharing(caller: Caller) -> list[Shareable] | None:
    """What the caller shares of their own intake with their mentor; None without an intake.
    The home page needs only this, not the whole intake."""
    row = await _SHARING.run(caller.membership_id, caller.program_id)
    return None if row is None else msgspec.convert(row["share_with_mentor"], list[Shareable])


async def has_intake(caller: Caller) -> bool:
    """Whether the caller has filled in their intake (one small query; nothing is read out)."""
    return await NewcomerProfile.exists().where(NewcomerProfile.membership == caller.membership_id)


async def get_intake(caller: Caller, membership_id: int | None = None) -> NewcomerIntakeOut:
    """The caller's own intake, or (for staff) any newcomer's in their program; a staff member
    reading someone else's is recorded as a sensitive read."""
    row = await _load_profile(
        caller, NewcomerProfile, membership_id, "No intake has been filled in yet."
    )
    intake = msgspec.convert(row, NewcomerIntakeOut)
    if intake.membership_id != caller.membership_id:
        await record_intake_read(caller, intake.membership_id, ["intake"])
    return intake


async def record_intake_read(caller: Caller, membership_id: int, parts: list[str]) -> None:
    """A person read (some of) a newcomer's intake: who, whose and which parts, never the words.

    The program itself reading an intake for a rule (matching, `program_caller`) is no person
    and is not recorded."""
    if caller.person_id == 0 or not parts:
        return
    async with transaction():
        await audit.record(
            caller, "intake.read", "newcomer_profile", membership_id, parts=sorted(parts)
        )


async def set_sharing(caller: Caller, sharing: SharingUpdate) -> NewcomerIntakeOut:
    """The newcomer changes what their mentor sees of their intake; it holds from the next
    page their mentor opens (nothing is copied elsewhere). Audited with the parts shared."""
    async with transaction():
        rows = await for_update(
            NewcomerProfile.select(NewcomerProfile.id, NewcomerProfile.share_with_mentor)
            .where(NewcomerProfile.membership == caller.membership_id)
            .output(load_json=True)
        )
        row = rows[0] if rows else None
        if row is None:
            raise NotFound("Please fill in your intake first.")
        shared = sorted(set(sharing.share_with_mentor))
        await NewcomerProfile.update(
            {NewcomerProfile.share_with_mentor: shared, NewcomerProfile.updated_at: clock.now()}
        ).where(NewcomerProfile.id == row["id"])
        await audit.record(
            caller,
            "intake.sharing_changed",
            "newcomer_profile",
            caller.membership_id,
            shared=list(shared),
            withdrawn=sorted(set(row["share_with_mentor"]) - set(shared)),
        )
    return await get_intake(caller)


async def save_intake(caller: Caller, intake: NewcomerIntake) -> NewcomerIntakeOut:
    """Create or replace the newcomer's intake.

    A strict pathway with no pathway named could never be matched (the engine would find no
    mentor on "their" pathway), so it is refused here, in words the newcomer can act on.
    """
    if intake.pathway_strictness == "strict" and not intake.pathways:
        raise Invalid(
            "You asked for a mentor on your own pathway, but did not tick one. Please tick your "
            "pathway, or choose that another pathway is fine.",
            field="pathways",
        )
    await _save_profile(caller, NewcomerProfile, intake)
    return await get_intake(caller)


async def get_mentor_profile(caller: Caller, membership_id: int | None = None) -> MentorProfileOut:
    row = await _load_profile(
        caller, MentorProfile, membership_id, "No mentor profile has been filled in yet."
    )
    return msgspec.convert(row, MentorProfileOut)


def _profile_rows(table: ProfileTable) -> Prepared[Any]:
    """Profile rows of some members of one program, never a pause note: built and compiled
    once (per number of members asked for; the staff home asks on every view)."""
    return Prepared(
        lambda membership_ids, program_id: (
            table.select(*_columns(table))
            .where(table.membership.is_in(membership_ids) & (table.program == program_id))
            .output(load_json=True)
        ),
        parameters=2,
    )


_PROFILE_ROWS = {table: _profile_rows(table) for table in (MentorProfile, NewcomerProfile)}


async def _profiles(
    caller: Caller, table: ProfileTable, membership_ids: list[int]
) -> dict[int, dict[str, Any]]:
    """Several profile rows of the caller's program in one query, never a pause note."""
    if not membership_ids:
        return {}
    rows = await _PROFILE_ROWS[table].run(list(membership_ids), caller.program_id)
    return {row["membership"]: {**row, "membership_id": row["membership"]} for row in rows}


async def mentor_profiles(caller: Caller, membership_ids: list[int]) -> dict[int, MentorProfileOut]:
    """Several mentors' profiles of the caller's program in one query (the review queue)."""
    rows = await _profiles(caller, MentorProfile, membership_ids)
    return {m: msgspec.convert(row, MentorProfileOut) for m, row in rows.items()}


async def intakes(caller: Caller, membership_ids: list[int]) -> dict[int, NewcomerIntakeOut]:
    """Several newcomers' intakes of the caller's program in one query (batch matching reads
    the whole waiting queue at once); newcomers without an intake are left out."""
    rows = await _profiles(caller, NewcomerProfile, membership_ids)
    return {m: msgspec.convert(row, NewcomerIntakeOut) for m, row in rows.items()}


async def mentor_capacities(program_id: int) -> dict[int, tuple[int, datetime]]:
    """Each mentor's offered capacity and when their profile last changed, in one small query:
    matching keeps its mentor index until one of these changes."""
    rows = await MentorProfile.select(
        MentorProfile.membership, MentorProfile.capacity, MentorProfile.updated_at
    ).where(MentorProfile.program == program_id)
    return {row["membership"]: (row["capacity"], row["updated_at"]) for row in rows}


async def save_mentor_profile(caller: Caller, profile: MentorProfileUpdate) -> MentorProfileOut:
    await _save_profile(caller, MentorProfile, profile)
    return await get_mentor_profile(caller)


async def set_paused(caller: Caller, paused: bool, note: str = "") -> MentorPauseStatus:
    """A mentor pauses or resumes themselves. Paused mentors get no new matches."""
    async with transaction():
        exists = await MentorProfile.exists().where(
            MentorProfile.membership == caller.membership_id
        )
        if not exists:
            raise NotFound("Please fill in your mentor profile first.")
        await MentorProfile.update(
            {
                MentorProfile.paused: paused,
                MentorProfile.pause_note: note.strip() if paused else "",
                MentorProfile.paused_at: clock.now() if paused else None,
            }
        ).where(MentorProfile.membership == caller.membership_id)
        await audit.record(
            caller,
            "mentor.paused" if paused else "mentor.resumed",
            "mentor_profile",
            caller.membership_id,
        )
        await changes.mentors_changed(caller.program_id)
        # Supervisors hear that a mentor paused, never why: the note stays on the profile.
        await notifications.emit(
            caller,
            caller.program_id,
            ProfileEvent.MENTOR_PAUSED if paused else ProfileEvent.MENTOR_RESUMED,
            subject=("membership", caller.membership_id),
            recipients=await supervisor_ids(caller.program_id),
            link="/staff/mentors/paused" if paused else "/home",
        )
    return await pause_status(caller, caller.membership_id)


# Read on every mentor's home: built and compiled once.
_PAUSE = Prepared(
    lambda membership_id, program_id: (
        MentorProfile.select(
            MentorProfile.paused, MentorProfile.paused_at, MentorProfile.pause_note
        )
        .where((MentorProfile.membership == membership_id) & (MentorProfile.program == program_id))
        .first()
    ),
    parameters=2,
)


async def pause_status(caller: Caller, membership_id: int) -> MentorPauseStatus:
    """The mentor sees their own state; only staff also see the note. NotFound without a
    mentor profile (so it also tells whether there is one)."""
    if membership_id != caller.membership_id:
        if not caller.is_staff:
            raise NotFound("No such mentor in your program.")
        await membership_in_program(caller, membership_id)
    row = await _PAUSE.run(membership_id, caller.program_id)
    if row is None:
        raise NotFound("No mentor profile has been filled in yet.")
    show_note = caller.role in (Role.SUPERVISOR, Role.ADMIN)
    return MentorPauseStatus(
        paused=row["paused"],
        paused_at=row["paused_at"],
        note=row["pause_note"] if show_note else None,
    )


# Read on every training page and by the matching gate: built and compiled once.
_PAUSED = Prepared(
    lambda program_id, paused: MentorProfile.select(MentorProfile.membership).where(
        (MentorProfile.program == program_id) & (MentorProfile.paused == paused)
    ),
    parameters=2,
)


async def paused_mentor_ids(program_id: int) -> set[int]:
    """Membership ids of mentors who paused themselves; the eligibility gate excludes them."""
    rows = await _PAUSED.run(program_id, True)
    return {row["membership"] for row in rows}


async def export_profiles(caller: Caller) -> dict[str, Any]:
    """The caller's own intake or mentor profile (including their pause note) for download."""
    intake = (
        await NewcomerProfile.select()
        .where(NewcomerProfile.membership == caller.membership_id)
        .output(load_json=True)
        .first()
    )
    mentor = (
        await MentorProfile.select()
        .where(MentorProfile.membership == caller.membership_id)
        .output(load_json=True)
        .first()
    )
    declined = (
        await DeclinedApplication.select(
            DeclinedApplication.reason, DeclinedApplication.declined_at
        )
        .where(DeclinedApplication.membership == caller.membership_id)
        .first()
    )
    return {"intake": intake, "mentor_profile": mentor, "declined_application": declined}


def _shared_record_fields(
    profile: NewcomerIntakeOut | MentorProfileOut, today: date
) -> dict[str, Any]:
    """What a newcomer's and a mentor's engine records take alike from a saved profile."""
    return {
        "id": str(profile.membership_id),
        "gender": profile.gender,
        "time_zone": profile.timezone,
        "languages": frozenset(profile.languages),
        "formats": frozenset(profile.formats),
        "availability": tuple(
            (slot.day, minutes(slot.start), minutes(slot.end)) for slot in profile.availability
        ),
        "pathways": frozenset(profile.pathways),
        "recovery_days": (
            None
            if profile.recovery_start is None
            else max((today - profile.recovery_start).days, 0)
        ),
        "area": profile.area or None,
        "lived_experience": frozenset(profile.lived_experience),
    }


def newcomer_record(
    intake: NewcomerIntakeOut,
    *,
    today: date,
    excluded_mentor_ids: frozenset[str] = frozenset(),
    waiting_since: date | None = None,
) -> Newcomer:
    """The engine's view of a saved intake (the `matches` slice calls this; ids are strings).

    A newcomer who preferred not to say their gender is matched as "any gender": "the same
    gender as me" cannot mean anything for them, so it reads as any; a mentor gender they asked
    for by name is kept.
    """
    return Newcomer(
        **_shared_record_fields(intake, today),
        pathway_strictness=intake.pathway_strictness,
        wanted_gender=(
            "any"
            if intake.gender == "prefer_not_to_say" and intake.wanted_gender == "same"
            else intake.wanted_gender
        ),
        recovery_stage=intake.recovery_stage,
        hopes=intake.hopes,
        excluded_mentor_ids=excluded_mentor_ids,
        waiting_since=waiting_since or today,
    )


def mentor_record(
    profile: MentorProfileOut, *, today: date, current_load: int = 0, places: int | None = None
) -> Mentor:
    """The engine's view of a saved mentor profile, with the places left after `current_load`
    (or `places`, when the caller applies a caseload rule of its own, as matching does).

    A mentor who preferred not to say their gender keeps that answer: the engine then pairs
    them only with newcomers open to any gender (no newcomer can ask for that "gender").
    """
    return Mentor(
        **_shared_record_fields(profile, today),
        remaining_capacity=(
            max(profile.capacity - current_load, 0) if places is None else max(places, 0)
        ),
        bio=profile.bio,
        current_load=current_load,
    )


async def approve_application(caller: Caller, membership_id: int) -> None:
    """Approve a mentor application, but only one with a profile to judge it by."""
    async with transaction():
        await membership_in_program(caller, membership_id)
        has_profile = await MentorProfile.exists().where(
            (MentorProfile.membership == membership_id)
            & (MentorProfile.program == caller.program_id)
        )
        if not has_profile:
            raise Conflict(
                "This applicant has not filled in their mentor profile yet, so there is nothing "
                "to review. You can approve them once they have, or decline with a reason."
            )
        await approve_mentor(caller, membership_id)


async def decline_application(caller: Caller, membership_id: int, reason: str) -> None:
    """Decline a mentor application; the applicant reads `reason` on their home page."""
    reason = reason.strip()
    if not reason:
        raise Invalid(
            "Please write a short reason; the applicant will read it, so be kind and specific.",
            field="reason",
        )
    async with transaction():
        await decline_mentor(caller, membership_id)
        await DeclinedApplication.delete().where(DeclinedApplication.membership == membership_id)
        await DeclinedApplication.insert(
            DeclinedApplication(
                membership=membership_id,
                program=caller.program_id,
                reason=reason,
                declined_at=clock.now(),
            )
        )


async def decline_reason(caller: Caller) -> str | None:
    """What the supervisor wrote when they declined the caller's own application, if they did."""
    row = (
        await DeclinedApplication.select(DeclinedApplication.reason)
        .where(DeclinedApplication.membership == caller.membership_id)
        .first()
    )
    return row["reason"] if row else None


async def paused_mentors(caller: Caller) -> list[PausedMentor]:
    """Staff see who paused, since when and the note they left; each read is audited."""
    rows = (
        await MentorProfile.select(
            MentorProfile.membership,
            MentorProfile.membership.person.display_name.as_alias("display_name"),
            MentorProfile.paused_at,
            MentorProfile.pause_note,
        )
        .where(
            (MentorProfile.program == caller.program_id) & (MentorProfile.paused == True)  # noqa: E712
        )
        .order_by(MentorProfile.paused_at)
    )
    async with transaction():
        # Pause notes are sensitive: the trail records who read whose, never the text.
        await audit.record(
            caller,
            "mentor.pause_notes_read",
            "mentor_profile",
            "paused",
            mentors=[str(row["membership"]) for row in rows],
        )
    return [
        PausedMentor(
            membership_id=row["membership"],
            display_name=row["display_name"],
            paused_at=row["paused_at"],
            note=row["pause_note"],
        )
        for row in rows
    ]
