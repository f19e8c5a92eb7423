"""Who is calling, and the guards every route uses to say which roles may call it.

The session holds only a membership id. `Caller` is what a request knows about its person: their
membership in one program and their role there. Every service takes a `Caller` and scopes its
queries to `caller.program_id`, so one program can never read another's records.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard
from msgspec import Struct

from tandem.core.statuses import MembershipStatus
from tandem.settings import CrisisResource

ROLES_OPT_KEY = "roles"
PUBLIC_OPT_KEY = "exclude_from_auth"


class Role(StrEnum):
    NEWCOMER = "newcomer"
    MENTOR = "mentor"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


STAFF = (Role.SUPERVISOR, Role.ADMIN)


class Caller(Struct, frozen=True):
    """The signed-in person as one program member. Built per request from the session."""

    person_id: int
    membership_id: int
    program_id: int
    role: Role
    display_name: str
    status: MembershipStatus
    program_name: str = ""
    # The program's own crisis resources, shown on every page; empty means the service default.
    crisis_resources: tuple[CrisisResource, ...] = ()
    # Unread in-app notices when the request began (shown in the navigation).
    unread_notices: int = 0

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF


def program_caller(program_id: int) -> Caller:
    """The program itself reading its own records for a rule (the training gate, matching):
    no person is involved, so the caller is a staff member with no membership of its own."""
    return Caller(
        person_id=0,
        membership_id=0,
        program_id=program_id,
        role=Role.ADMIN,
        display_name="",
        status=MembershipStatus.ACTIVE,
    )


# What a guarded handler receives: `request.user` is the signed-in `Caller`.
CallerRequest = Request[Caller, Any, Any]


def allow(*roles: Role) -> Guard:
    """A guard admitting only the given roles. Each route declares its roles with it.

    The roles are also stored on the guard so the role x route test can read them back.
    """
    allowed = frozenset(roles)

    # Async although it awaits nothing: Litestar runs a plain function guard in a worker
    # thread, a thread hop on every request for two attribute checks.
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        caller = connection.scope.get("user")
        if not isinstance(caller, Caller):
            raise NotAuthorizedException("Please sign in first.")
        if caller.role not in allowed:
            raise PermissionDeniedException("Your role may not do this.")

    guard.allowed_roles = allowed  # type: ignore[attr-defined]
    return guard


def public() -> dict[str, bool]:
    """Route `opt` for the few routes anyone may call (sign-up, login, health, help)."""
    return {PUBLIC_OPT_KEY: True}
