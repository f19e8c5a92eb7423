"""Sign-up, sign-in, mentor approval and program settings: the rules of who is in a program."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from piccolo.query.functions.aggregate import Count

from tandem.accounts import store
from tandem.accounts.events import AccountEvent
from tandem.accounts.passwords import hash_password, verify_password
from tandem.accounts.schemas import MemberSummary, SignUp
from tandem.accounts.tables import Membership, Person, Program
from tandem.core import audit, changes, ratelimit
from tandem.core.auth import STAFF, Caller, Role
from tandem.core.clock import clock
from tandem.core.database import Prepared, engine, transaction
from tandem.core.errors import Conflict, Forbidden, Invalid, NotFound
from tandem.core.ratelimit import Attempt
from tandem.core.statuses import MembershipStatus
from tandem.notifications import services as notifications
from tandem.settings import CrisisResource


class ProgramSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Each program's own rules. Defaults follow the product brief; a program may change them."""

    min_mentor_recovery_days: int = 730
    new_mentor_months: int = 6
    caseload_new_mentor: int = 2
    caseload_experienced_mentor: int = 4
    full_track_renewal_months: int = 24
    safety_module_renewal_months: int = 12
    expiry_grace_days: int = 30
    auto_approve_matches: bool = False
    # Matches: proposals scoring at least this are approved without review (when auto-approval
    # is on and nothing is flagged); an offer unanswered this long lapses to the next mentor.
    auto_approve_min_score: float = 8.0
    offer_hours: int = 72
    # Batch matching runs for this program at most this often (0 = only by hand).
    batch_interval_minutes: int = 60
    # Past this many days after a match ended, who was in it is erased (the outcome stays).
    ended_match_retention_days: int = 730
    # Empty means the service-wide defaults from settings.
    crisis_resources: tuple[CrisisResource, ...] = ()
    # Safety: the program's own clock for business days, the first-response time per concern
    # severity (training standards section 9), who is on call for urgent concerns (a supervisor's
    # membership id; none means every supervisor) and how long closed concerns are kept.
    time_zone: str = "America/New_York"
    s1_response_minutes: int = 15
    s2_response_hours: int = 4
    s3_response_business_days: int = 1
    s4_response_business_days: int = 3
    on_call_supervisor_id: int | None = None
    closed_concern_retention_days: int = 730


async def program_by_slug(slug: str) -> dict[str, Any]:
    program = await Program.select().where(Program.slug == slug).first()
    if program is None:
        raise NotFound(f"There is no program called {slug!r}.", field="program")
    return program


# Read by most pages (training, matching, the caller): built and compiled once.
_PROGRAM_SETTINGS = Prepared(
    lambda program_id: Program.select(Program.settings).where(Program.id == program_id).first(),
    parameters=1,
)


async def program_settings(program_id: int) -> ProgramSettings:
    row = await _PROGRAM_SETTINGS.run(program_id)
    if row is None:
        raise NotFound("That program does not exist.")
    return _decode_settings(row["settings"])


def _decode_settings(raw: str | bytes | dict[str, Any] | None) -> ProgramSettings:
    data = msgspec.json.decode(raw) if isinstance(raw, str | bytes) else raw
    return msgspec.convert(data or {}, ProgramSettings)


async def save_program_settings(caller: Caller, settings: ProgramSettings) -> ProgramSettings:
    """Staff change their own program's rules; the audit names the changed settings only."""
    async with transaction():
        await changes.eligibility_changed(caller.program_id)  # renewal periods count
        old = await program_settings(caller.program_id)
        changed = [
            name
            for name in ProgramSettings.__struct_fields__
            if getattr(old, name) != getattr(settings, name)
        ]
        await Program.update({Program.settings: msgspec.json.encode(settings).decode()}).where(
            Program.id == caller.program_id
        )
        await audit.record(
            caller, "program.settings_saved", "program", caller.program_id, changed=changed
        )
    return settings


async def create_program(slug: str, name: str, settings: ProgramSettings | None = None) -> int:
    if await Program.exists().where(Program.slug == slug):
        raise Conflict(f"A program called {slug!r} already exists.", field="slug")
    rows = await Program.insert(
        Program(
            slug=slug,
            name=name,
            settings=msgspec.json.encode(settings or ProgramSettings()).decode(),
            created_at=clock.now(),
        )
    ).returning(Program.id)
    return int(rows[0]["id"])


async def create_member(
    *,
    program_id: int,
    username: str,
    display_name: str,
    password: str | None = None,
    password_hash: str | None = None,
    role: Role,
    actor: Caller | None = None,
) -> int:
    """Create a person and their membership in one transaction; returns the membership id.

    Mentors start `pending` until a supervisor approves their application; everyone else starts
    active. Usernames are compared case-insensitively. Bulk loaders (demo data) may pass a
    ready `password_hash` instead of a password to avoid hashing the same demo password again.
    """
    username = username.strip().lower()
    if password is not None:
        password_hash = await hash_password(password)
    if not password_hash:
        raise Invalid("A password is required.", field="password")
    async with transaction():
        if role is Role.MENTOR:
            # The training slice's cached answer lists the program's mentors (and those who
            # wait for approval, which the dashboard counts): a new one is a change to it.
            await changes.eligibility_changed(program_id)
        if await Person.exists().where(Person.username == username):
            raise Conflict("That username is taken. Please choose another.", field="username")
        person = await Person.insert(
            Person(
                username=username,
                display_name=display_name.strip(),
                password_hash=password_hash,
                active=True,
                created_at=clock.now(),
            )
        ).returning(Person.id)
        person_id = int(person[0]["id"])
        status = MembershipStatus.PENDING if role is Role.MENTOR else MembershipStatus.ACTIVE
        membership = await Membership.insert(
            Membership(
                person=person_id,
                program=program_id,
                role=role.value,
                status=status.value,
                created_at=clock.now(),
                approved_at=None if status is MembershipStatus.PENDING else clock.now(),
            )
        ).returning(Membership.id)
        membership_id = int(membership[0]["id"])
        await audit.record(
            actor,
            "member.created",
            "membership",
            membership_id,
            program_id=program_id,
            role=role.value,
            status=status.value,
        )
        if status is MembershipStatus.PENDING:
            await notifications.emit(
                actor,
                program_id,
                AccountEvent.MENTOR_APPLIED,
                subject=("membership", membership_id),
                recipients=await supervisor_ids(program_id),
                link="/home",
            )
    return membership_id


async def supervisor_ids(program_id: int) -> list[int]:
    """Active supervisors of a program: who hears about applications, pauses and concerns."""
    rows = await Membership.select(Membership.id).where(
        (Membership.program == program_id)
        & (Membership.role == Role.SUPERVISOR.value)
        & (Membership.status == MembershipStatus.ACTIVE.value)
    )
    return [row["id"] for row in rows]


ALREADY_SIGNED_IN = "You are already signed in. Please sign out first, then create the new account."


async def sign_up(data: SignUp, attempt: Attempt, *, signed_in: bool) -> int:
    """Self-service sign-up: newcomers, and mentors who apply.

    Refused while someone is signed in on this browser: turning their session into the new
    account without a word would surprise a person sharing a device. They sign out first.
    Counted against the address's sign-up limit once the request is valid enough to create.
    """
    if signed_in:
        raise Conflict(ALREADY_SIGNED_IN)
    program = await program_by_slug(data.program)
    await attempt.count()
    return await create_member(
        program_id=program["id"],
        username=data.username,
        display_name=data.display_name,
        password=data.password,
        role=Role(data.role),
    )


async def authenticate(username: str, password: str, attempt: Attempt) -> Caller | None:
    """The caller for valid credentials of an active person, else None (never says which part
    was wrong). Pending mentors may sign in: they need to see where their application stands.

    The attempt is counted (and may be refused with 429) just before the password check, and
    given back when the sign-in succeeds, so only failures use up a limit."""
    await attempt.count()
    person = (
        await Person.select(Person.id, Person.password_hash, Person.active)
        .where(Person.username == username.strip().lower())
        .first()
    )
    valid = await verify_password(person["password_hash"] if person else None, password)
    if not (person and valid and person["active"]):
        return None
    membership = (
        await Membership.select(Membership.id)
        .where(
            (Membership.person == person["id"])
            & (Membership.status != MembershipStatus.INACTIVE.value)
        )
        .order_by(Membership.id)
        .first()
    )
    if membership is None:
        return None
    await attempt.forgive()
    await Person.update({Person.last_login_at: clock.now()}).where(Person.id == person["id"])
    return await caller_for_membership(membership["id"])


# Built and compiled once (`core.database.Prepared`): outside a request (the session brings
# the caller's row along, see `store.caller_columns`) and for other members than the caller.
_CALLER_ROW = Prepared(
    lambda membership_id: (
        Membership.select(*store.caller_columns(Membership))
        .where(Membership.id == membership_id)
        .first()
    ),
    parameters=1,
)


def _caller(row: dict[str, Any] | None) -> Caller | None:
    """The caller from a row of `store.caller_columns`; None for someone who may not act."""
    if row is None or not row["active"] or row["status"] == MembershipStatus.INACTIVE:
        return None
    return Caller(
        person_id=row["person"],
        membership_id=row["id"],
        program_id=row["program"],
        role=Role(row["role"]),
        display_name=row["display_name"],
        status=MembershipStatus(row["status"]),
        program_name=row["program_name"],
        crisis_resources=_decode_settings(row["program_settings"]).crisis_resources,
        unread_notices=row["unread_notices"],
    )


async def program_ids() -> list[int]:
    """Every program's id (the periodic retention purge visits each with its own settings)."""
    return await Program.select(Program.id).order_by(Program.id).output(as_list=True)


async def caller_for_membership(membership_id: int) -> Caller | None:
    """Rebuild the caller on every request, so a deactivated person loses access at once.

    One query loads the membership, the person, the program and the unread-notice count: it
    runs on every signed-in request, so each part of it would otherwise be a query of its own.
    """
    return _caller(await _CALLER_ROW.run(membership_id))


async def caller_for_request(
    connection: ASGIConnection[Any, Any, Any, Any], membership_id: int
) -> Caller | None:
    """The signed-in caller of a request: from the row the session's own query loaded (no
    query of its own), or by `caller_for_membership` when the session did not bring it."""
    row = store.caller_row(connection, membership_id)
    return _caller(row) if row is not None else await caller_for_membership(membership_id)


async def program_slug(program_id: int) -> str:
    row = await Program.select(Program.slug).where(Program.id == program_id).first()
    return row["slug"] if row else ""


def _member_list(by_role: bool, by_status: bool, program_id: Any, *values: Any) -> Any:
    query = Membership.select(
        Membership.id.as_alias("membership_id"),
        Membership.person.display_name.as_alias("display_name"),
        Membership.role,
        Membership.status,
        Membership.created_at,
        Membership.approved_at,
    ).where(Membership.program == program_id)
    if by_role:
        query = query.where(Membership.role == values[0])
    if by_status:
        query = query.where(Membership.status == values[-1])
    return query.order_by(Membership.created_at)


# One prepared query per filter combination (see `core.database.Prepared`).
_MEMBER_LISTS = {
    (by_role, by_status): Prepared(
        partial(_member_list, by_role, by_status), parameters=1 + by_role + by_status
    )
    for by_role in (False, True)
    for by_status in (False, True)
}


async def list_members(
    caller: Caller, *, role: Role | None = None, status: MembershipStatus | None = None
) -> list[MemberSummary]:
    filters = [f.value for f in (role, status) if f is not None]
    prepared = _MEMBER_LISTS[role is not None, status is not None]
    rows = await prepared.run(caller.program_id, *filters)
    return msgspec.convert(rows, list[MemberSummary])


async def member_names(program_id: int) -> tuple[dict[int, str], dict[int, str], dict[int, str]]:
    """The program's members' display names by person id and by membership id, and their role
    by person id, in one query: the audit trail names who acted by person and which record it
    was about by membership, and tells two people of the same name apart by role and number."""
    rows = await Membership.select(
        Membership.id,
        Membership.person,
        Membership.role,
        Membership.person.display_name.as_alias("name"),
    ).where(Membership.program == program_id)
    return (
        {row["person"]: row["name"] for row in rows},
        {row["id"]: row["name"] for row in rows},
        {row["person"]: row["role"] for row in rows},
    )


_MEMBER_COUNTS = Prepared(
    lambda program_id, left_out: (
        Membership.select(Membership.role, Count(Membership.id, alias="members"))
        .where((Membership.program == program_id) & Membership.status.not_in(left_out))
        .group_by(Membership.role)
    ),
    parameters=2,
)


async def member_counts(caller: Caller) -> dict[str, int]:
    """How many members of each role the caller's program has, leaving out the inactive and the
    declined: one counting query, not a load of every member."""
    left_out = [MembershipStatus.INACTIVE.value, MembershipStatus.DECLINED.value]
    rows = await _MEMBER_COUNTS.run(caller.program_id, left_out)
    found = {row["role"]: row["members"] for row in rows}
    return {role.value: found.get(role.value, 0) for role in Role}


_DISPLAY_NAMES = Prepared(
    lambda program_id, ids: Membership.select(Membership.id, Membership.person.display_name).where(
        Membership.id.is_in(ids) & (Membership.program == program_id)
    ),
    parameters=2,
)


async def display_names(caller: Caller, membership_ids: Iterable[int]) -> dict[int, str]:
    """The names shown for these members of the caller's program (ids elsewhere are left out),
    so a page of twenty rows loads twenty names, not the whole program's."""
    wanted = sorted(set(membership_ids))
    if not wanted:
        return {}
    rows = await _DISPLAY_NAMES.run(caller.program_id, wanted)
    return {row["id"]: row["person.display_name"] for row in rows}


async def usernames_of(caller: Caller, membership_ids: list[int]) -> dict[int, str]:
    """Sign-in names of members of the caller's program (for the demo printout of logins)."""
    rows = await Membership.select(Membership.id, Membership.person.username).where(
        Membership.id.is_in(membership_ids or [0]) & (Membership.program == caller.program_id)
    )
    return {row["id"]: row["person.username"] for row in rows}


async def membership_in_program(caller: Caller, membership_id: int) -> dict[str, Any]:
    """A membership of the caller's own program, or NotFound (never a hint it exists elsewhere)."""
    row = (
        await Membership.select()
        .where((Membership.id == membership_id) & (Membership.program == caller.program_id))
        .first()
    )
    if row is None:
        raise NotFound("No such member in your program.")
    return row


async def _decide_application(
    caller: Caller, membership_id: int, approve: bool, values: dict[Any, Any]
) -> None:
    """Approve or decline a pending mentor application, audited, and tell the applicant; a
    decided application stays decided."""
    verb = "approved" if approve else "declined"
    async with transaction():
        row = await membership_in_program(caller, membership_id)
        if row["role"] != Role.MENTOR.value:
            raise Invalid(f"Only mentor applications can be {verb}.")
        if row["status"] != MembershipStatus.PENDING:
            raise Conflict("This application has already been decided.")
        await changes.eligibility_changed(caller.program_id)
        await Membership.update(values).where(Membership.id == membership_id)
        await audit.record(caller, f"mentor.{verb}", "membership", membership_id)
        await notifications.emit(
            caller,
            caller.program_id,
            AccountEvent.MENTOR_APPROVED if approve else AccountEvent.MENTOR_DECLINED,
            subject=("membership", membership_id),
            recipients=[membership_id],
            link="/home",
        )


async def approve_mentor(caller: Caller, membership_id: int) -> None:
    """A supervisor accepts a mentor's application. Training still gates matching."""
    await _decide_application(
        caller,
        membership_id,
        True,
        {Membership.status: MembershipStatus.ACTIVE.value, Membership.approved_at: clock.now()},
    )


async def decline_mentor(caller: Caller, membership_id: int) -> None:
    """A supervisor declines a mentor application. The person can still sign in and read why
    (the profiles slice keeps the reason); they are never matched."""
    await _decide_application(
        caller,
        membership_id,
        False,
        {Membership.status: MembershipStatus.DECLINED.value},
    )


async def set_member_status(caller: Caller, membership_id: int, status: MembershipStatus) -> None:
    """Staff deactivate or reactivate a member; inactive people cannot sign in, and
    deactivation signs them out everywhere at once.

    The rules (issue 10 item 5): only an admin changes staff; a pending mentor becomes active
    only through approval (which records `approved_at`, audits and tells them); a mentor who was
    never approved returns to pending when reactivated; a program keeps at least one active admin.
    """
    if status not in {MembershipStatus.ACTIVE, MembershipStatus.INACTIVE}:
        raise Invalid("Status must be active or inactive.", field="status")
    async with transaction():
        row = await membership_in_program(caller, membership_id)
        if row["id"] == caller.membership_id:
            raise Invalid("You cannot change your own status.")
        if Role(row["role"]) in STAFF and caller.role is not Role.ADMIN:
            raise Forbidden("Only an admin can change the status of supervisors and admins.")
        if status is MembershipStatus.ACTIVE and row["status"] == MembershipStatus.PENDING:
            raise Conflict(
                "This mentor's application is waiting for a decision. "
                "Approve it from the applications list instead."
            )
        if (
            status is MembershipStatus.ACTIVE
            and row["role"] == Role.MENTOR.value
            and row["approved_at"] is None
        ):
            status = MembershipStatus.PENDING
        if status is MembershipStatus.INACTIVE and row["role"] == Role.ADMIN.value:
            await _keep_an_admin(caller.program_id, membership_id)
        if status == row["status"]:
            return
        await changes.eligibility_changed(caller.program_id)
        await Membership.update({Membership.status: status.value}).where(
            Membership.id == membership_id
        )
        if status is MembershipStatus.INACTIVE:
            await store.end_sessions([membership_id])
        await audit.record(caller, f"member.{status.value}", "membership", membership_id)


async def _keep_an_admin(program_id: int, leaving_id: int) -> None:
    """Conflict unless another active admin remains. On PostgreSQL the admins' rows are locked,
    so two admins deactivating each other at once cannot both succeed (SQLite's IMMEDIATE
    transaction already runs such changes one at a time)."""
    query = Membership.select(Membership.id).where(
        (Membership.program == program_id)
        & (Membership.role == Role.ADMIN.value)
        & (Membership.status == MembershipStatus.ACTIVE.value)
    )
    if engine().engine_type != "sqlite":
        query = query.lock_rows()
    admins = {row["id"] for row in await query}
    if not admins - {leaving_id}:
        raise Conflict(
            "This is the program's last active admin. Another admin is needed before this one "
            "can be deactivated."
        )


async def export_account(caller: Caller) -> dict[str, Any]:
    """Everything the accounts slice holds about the caller, for their own download."""
    person = (
        await Person.select(
            Person.username, Person.display_name, Person.created_at, Person.last_login_at
        )
        .where(Person.id == caller.person_id)
        .first()
    )
    memberships = await Membership.select(
        Membership.program.name.as_alias("program"),
        Membership.role,
        Membership.status,
        Membership.created_at,
        Membership.approved_at,
    ).where(Membership.person == caller.person_id)
    return {"person": person, "memberships": memberships}


async def delete_person(caller: Caller) -> None:
    """Erase the caller's account. Memberships, profiles and everything hanging off them go with
    it (ON DELETE CASCADE, chosen for exactly this); the audit trail keeps only ids."""
    async with transaction():
        await audit.record(caller, "person.deleted", "person", caller.person_id)
        memberships = await Membership.select(Membership.id, Membership.program).where(
            Membership.person == caller.person_id
        )
        await changes.eligibility_changed(*{row["program"] for row in memberships})
        # Their sessions on every device go too (the foreign key cascades as well; ending them
        # here does not depend on SQLite's per-connection foreign-key setting).
        await store.end_sessions([row["id"] for row in memberships])
        person = await Person.select(Person.username).where(Person.id == caller.person_id).first()
        if person is not None:
            await ratelimit.forget_account(person["username"])
        await Person.delete().where(Person.id == caller.person_id)


async def prune_expired() -> tuple[int, int]:
    """Delete expired sessions and rate-limit counters; returns how many of each. For the
    housekeeping loop and `litestar db prune-sessions`: without it, both tables only grow."""
    return await store.prune_expired(), await ratelimit.prune_expired()
