"""Saving and reading intake and mentor profiles, each change audited in its own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from tandem.accounts.services import membership_in_program, supervisor_ids
from tandem.core import audit
from tandem.core.auth import Caller, Role
from tandem.core.clock import clock
from tandem.core.database import transaction
from tandem.core.errors import Invalid, NotFound
from tandem.notifications import services as notifications
from tandem.profiles.schemas import (
    MentorPauseStatus,
    MentorProfileOut,
    MentorProfileUpdate,
    NewcomerIntake,
    NewcomerIntakeOut,
    Slot,
)
from tandem.profiles.tables import MentorProfile, NewcomerProfile


def minutes(time_of_day: str) -> int:
    hours, mins = time_of_day.split(":")
    return int(hours) * 60 + int(mins)


def _check_common(timezone: str, availability: list[Slot], formats: list[str], area: str) -> None:
    """Rules a msgspec constraint cannot express; each error names its field."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(
            f"{timezone!r} is not a known time zone (use a name like America/Chicago).",
            field="timezone",
        ) from None
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


async def _load_profile(
    caller: Caller, table: ProfileTable, membership_id: int | None, missing: str
) -> dict[str, Any]:
    """The caller's own profile row, or (for staff) one of their program's, never a pause note."""
    target = membership_id or caller.membership_id
    if target != caller.membership_id:
        await membership_in_program(caller, target)
    columns = table.all_columns(
        exclude=[MentorProfile.pause_note] if table is MentorProfile else []
    )
    row = (
        await table.select(*columns)
        .where((table.membership == target) & (table.program == caller.program_id))
        .output(load_json=True)
        .first()
    )
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


async def get_intake(caller: Caller, membership_id: int | None = None) -> NewcomerIntakeOut:
    """The caller's own intake, or (for staff) any newcomer's in their program."""
    row = await _load_profile(
        caller, NewcomerProfile, membership_id, "No intake has been filled in yet."
    )
    return msgspec.convert(row, NewcomerIntakeOut)


async def save_intake(caller: Caller, intake: NewcomerIntake) -> NewcomerIntakeOut:
    """Create or replace the newcomer's intake."""
    await _save_profile(caller, NewcomerProfile, intake)
    return await get_intake(caller)


async def get_mentor_profile(caller: Caller, membership_id: int | None = None) -> MentorProfileOut:
    row = await _load_profile(
        caller, MentorProfile, membership_id, "No mentor profile has been filled in yet."
    )
    return msgspec.convert(row, MentorProfileOut)


async def mentor_profiles(caller: Caller, membership_ids: list[int]) -> dict[int, MentorProfileOut]:
    """Several mentors' profiles of the caller's program in one query (the review queue)."""
    if not membership_ids:
        return {}
    rows = (
        await MentorProfile.select(*MentorProfile.all_columns(exclude=[MentorProfile.pause_note]))
        .where(
            MentorProfile.membership.is_in(membership_ids)
            & (MentorProfile.program == caller.program_id)
        )
        .output(load_json=True)
    )
    return {
        row["membership"]: msgspec.convert(
            {**row, "membership_id": row["membership"]}, MentorProfileOut
        )
        for row in rows
    }


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
        # Supervisors hear that a mentor paused, never why: the note stays on the profile.
        await notifications.emit(
            caller,
            caller.program_id,
            "mentor.paused" if paused else "mentor.resumed",
            subject=("membership", caller.membership_id),
            recipients=await supervisor_ids(caller.program_id),
            link="/home",
        )
    return await pause_status(caller, caller.membership_id)


async def pause_status(caller: Caller, membership_id: int) -> MentorPauseStatus:
    """The mentor sees their own state; only staff also see the note."""
    if membership_id != caller.membership_id:
        if not caller.is_staff:
            raise NotFound("No such mentor in your program.")
        await membership_in_program(caller, membership_id)
    row = (
        await MentorProfile.select(
            MentorProfile.paused, MentorProfile.paused_at, MentorProfile.pause_note
        )
        .where(
            (MentorProfile.membership == membership_id)
            & (MentorProfile.program == caller.program_id)
        )
        .first()
    )
    if row is None:
        raise NotFound("No mentor profile has been filled in yet.")
    show_note = caller.role in (Role.SUPERVISOR, Role.ADMIN)
    return MentorPauseStatus(
        paused=row["paused"],
        paused_at=row["paused_at"],
        note=row["pause_note"] if show_note else None,
    )


async def paused_mentor_ids(program_id: int) -> set[int]:
    """Membership ids of mentors who paused themselves; the eligibility gate excludes them."""
    rows = await MentorProfile.select(MentorProfile.membership).where(
        (MentorProfile.program == program_id) & (MentorProfile.paused == True)  # noqa: E712
    )
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
    return {"intake": intake, "mentor_profile": mentor}
