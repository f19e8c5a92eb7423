"""Each role's home page: what needs doing next, gathered from the slices' services."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from matching.vocabulary import PATHWAY_LABELS
from tandem.accounts import services as accounts
from tandem.core.auth import STAFF, Caller, CallerRequest, Role, allow
from tandem.core.clock import clock
from tandem.core.edge import PathId
from tandem.core.errors import DomainError, NotFound
from tandem.core.forms import Form
from tandem.core.statuses import MembershipStatus
from tandem.matches import services as matches
from tandem.profiles import services as profiles
from tandem.profiles.schemas import SHARE_LABELS
from tandem.safety import services as safety
from tandem.training import services as training


async def _newcomer_context(caller: Caller) -> dict[str, Any]:
    sharing = await profiles.intake_sharing(caller)
    return {"has_intake": sharing is not None, "sharing": sharing, "share_labels": SHARE_LABELS}


async def _mentor_context(caller: Caller) -> dict[str, Any]:
    progress = await training.track_progress(caller)
    declined = (
        await profiles.decline_reason(caller)
        if caller.status == MembershipStatus.DECLINED
        else None
    )
    try:  # no pause status without a mentor profile
        pause = await profiles.pause_status(caller, caller.membership_id)
    except NotFound:
        return {"has_profile": False, "pause": None, "training": progress, "declined": declined}
    # Only the mentor's own return-to-use hold: a hold from a concern about them stays unsaid.
    own_hold = bool(await safety.held_mentors(caller.program_id, frozenset({caller.membership_id})))
    return {
        "has_profile": True,
        "pause": pause,
        "training": progress,
        "declined": declined,
        "own_hold": own_hold,
    }


async def _staff_context(caller: Caller) -> dict[str, Any]:
    pending = await accounts.list_members(caller, role=Role.MENTOR, status=MembershipStatus.PENDING)
    applications = await profiles.mentor_profiles(caller, [m.membership_id for m in pending])
    return {
        # What a supervisor needs to decide on an application: the profile, if filled in.
        "pending_mentors": [(m, applications.get(m.membership_id)) for m in pending],
        "today": clock.today(),
        "pathway_labels": PATHWAY_LABELS,
        "counts": await accounts.member_counts(caller),
    }


async def _staff_home(
    caller: Caller, *, problem: str | None = None, errors: dict[int, str] | None = None, status: int
) -> Template:
    """The staff home, shown again with what went wrong when a decision was refused."""
    context = await _staff_context(caller)
    return Template(
        "home/staff.html",
        context={**context, "saved": None, "problem": problem, "errors": errors or {}},
        status_code=status,
    )


# Staff start from the oversight dashboard; their overview (applications, the match queue's
# summary) is one click from it.
STAFF_HOME = "/staff/dashboard"
STAFF_OVERVIEW = "/staff/overview"


@get("/home", guards=[allow(*Role)], include_in_schema=False)
async def home(request: CallerRequest, saved: FromQuery[str | None] = None) -> Template | Redirect:
    caller = request.user
    if caller.is_staff:
        return Redirect(STAFF_HOME)
    builders = {Role.NEWCOMER: _newcomer_context, Role.MENTOR: _mentor_context}
    context = {**await builders[caller.role](caller), **await matches.home_summary(caller)}
    return Template(
        f"home/{caller.role.value}.html",
        context={**context, "saved": saved, "problem": None, "errors": {}},
    )


@get(STAFF_OVERVIEW, guards=[allow(*STAFF)], include_in_schema=False)
async def staff_overview(request: CallerRequest, saved: FromQuery[str | None] = None) -> Template:
    """Mentor applications to decide on, the program's people and the match queue's summary."""
    caller = request.user
    context = {**await _staff_context(caller), **await matches.home_summary(caller)}
    return Template(
        "home/staff.html", context={**context, "saved": saved, "problem": None, "errors": {}}
    )


@post("/staff/members/{membership_id:int}/approve", guards=[allow(*STAFF)], include_in_schema=False)
async def approve_mentor_page(request: CallerRequest, membership_id: PathId) -> Redirect | Template:
    try:
        await profiles.approve_application(request.user, membership_id)
    except DomainError as error:
        return await _staff_home(request.user, problem=error.message, status=error.status_code)
    return Redirect(f"{STAFF_OVERVIEW}?saved=approved")


@post("/staff/members/{membership_id:int}/decline", guards=[allow(*STAFF)], include_in_schema=False)
async def decline_mentor_page(
    request: CallerRequest, membership_id: PathId, data: Form[str]
) -> Redirect | Template:
    try:
        await profiles.decline_application(
            request.user, membership_id, str(data.get("reason", ""))[:1000]
        )
    except DomainError as error:
        if error.field == "reason":
            errors = {membership_id: error.message}
            return await _staff_home(request.user, errors=errors, status=error.status_code)
        return await _staff_home(request.user, problem=error.message, status=error.status_code)
    return Redirect(f"{STAFF_OVERVIEW}?saved=declined")


routes = [home, staff_overview, approve_mentor_page, decline_mentor_page]
