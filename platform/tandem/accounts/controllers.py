"""JSON API for accounts: sign-up, sign-in, who am I, and staff managing members."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotAuthorizedException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from msgspec import Meta, Struct

from tandem.accounts import services
from tandem.accounts.schemas import Login, Me, MemberSummary, SignUp
from tandem.accounts.store import IDENTITY_KEY, sign_in
from tandem.core.auth import STAFF, Caller, CallerRequest, Role, allow, public
from tandem.core.ratelimit import sign_in_attempt, sign_up_attempt


class MemberStatus(Struct, forbid_unknown_fields=True):
    status: Annotated[str, Meta(pattern=r"^(active|inactive)$")]


async def me_for(caller: Caller) -> Me:
    return Me(
        person_id=caller.person_id,
        membership_id=caller.membership_id,
        display_name=caller.display_name,
        role=caller.role,
        status=caller.status,
        program=await services.program_slug(caller.program_id),
    )


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["accounts"]

    @post("/signup", opt=public(), status_code=201)
    async def sign_up(self, request: Request[Any, Any, Any], data: JSONBody[SignUp]) -> Me:
        """Create a newcomer or a mentor application and sign the person in (409 while someone
        is signed in: sign out first; 429 with Retry-After when this address made too many)."""
        membership_id = await services.sign_up(
            data, sign_up_attempt(request), signed_in=IDENTITY_KEY in request.session
        )
        caller = await services.caller_for_membership(membership_id)
        assert caller is not None  # noqa: S101 - just created in the same request
        sign_in(request, membership_id)
        return await me_for(caller)

    @post("/login", opt=public(), status_code=200)
    async def login(self, request: Request[Any, Any, Any], data: JSONBody[Login]) -> Me:
        """Sign in (a new session id each time; 429 with Retry-After after too many failures)."""
        caller = await services.authenticate(
            data.username, data.password, sign_in_attempt(request, data.username)
        )
        if caller is None:
            raise NotAuthorizedException("That username and password do not match.")
        sign_in(request, caller.membership_id)
        return await me_for(caller)

    @post("/logout", opt=public(), status_code=204)
    async def logout(self, request: Request[Any, Any, Any]) -> None:
        request.clear_session()


class MeController(Controller):
    path = "/api/v1/me"
    tags = ["accounts"]

    @get("/", guards=[allow(*Role)])
    async def me(self, request: CallerRequest) -> Me:
        return await me_for(request.user)


class MemberController(Controller):
    path = "/api/v1/members"
    tags = ["accounts"]
    guards = [allow(*STAFF)]

    @get("/")
    async def list_members(
        self,
        request: CallerRequest,
        role: FromQuery[Role | None] = None,
        status: Annotated[str | None, QueryParameter(max_length=16)] = None,
    ) -> list[MemberSummary]:
        return await services.list_members(request.user, role=role, status=status)

    @post("/{membership_id:int}/approve", status_code=204)
    async def approve(self, request: CallerRequest, membership_id: FromPath[int]) -> None:
        """Approve a pending mentor application."""
        await services.approve_mentor(request.user, membership_id)

    @post("/{membership_id:int}/status", status_code=204)
    async def set_status(
        self,
        request: CallerRequest,
        membership_id: FromPath[int],
        data: JSONBody[MemberStatus],
    ) -> None:
        await services.set_member_status(request.user, membership_id, data.status)
