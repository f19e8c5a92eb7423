"""JSON API for intake and mentor profiles."""

from __future__ import annotations

from litestar import Controller, get, post, put
from litestar.params import JSONBody

from tandem.core.auth import STAFF, CallerRequest, Role, allow
from tandem.core.edge import PathId
from tandem.profiles import services
from tandem.profiles.schemas import (
    ApplicationDecline,
    MentorPause,
    MentorPauseStatus,
    MentorProfileOut,
    MentorProfileUpdate,
    NewcomerIntake,
    NewcomerIntakeOut,
    PausedMentor,
    SharingUpdate,
)


class ProfileController(Controller):
    path = "/api/v1"
    tags = ["profiles"]

    @get("/intake", guards=[allow(Role.NEWCOMER)])
    async def my_intake(self, request: CallerRequest) -> NewcomerIntakeOut:
        return await services.get_intake(request.user)

    @put("/intake", guards=[allow(Role.NEWCOMER)])
    async def save_intake(
        self, request: CallerRequest, data: JSONBody[NewcomerIntake]
    ) -> NewcomerIntakeOut:
        """Create or replace the newcomer's own intake."""
        return await services.save_intake(request.user, data)

    @put("/intake/sharing", guards=[allow(Role.NEWCOMER)])
    async def change_sharing(
        self, request: CallerRequest, data: JSONBody[SharingUpdate]
    ) -> NewcomerIntakeOut:
        """Change what your mentor sees of your intake; it holds from their next page."""
        return await services.set_sharing(request.user, data)

    @get("/newcomers/{membership_id:int}/intake", guards=[allow(*STAFF)])
    async def newcomer_intake(
        self, request: CallerRequest, membership_id: PathId
    ) -> NewcomerIntakeOut:
        return await services.get_intake(request.user, membership_id)

    @get("/mentor-profile", guards=[allow(Role.MENTOR)])
    async def my_mentor_profile(self, request: CallerRequest) -> MentorProfileOut:
        return await services.get_mentor_profile(request.user)

    @put("/mentor-profile", guards=[allow(Role.MENTOR)])
    async def save_mentor_profile(
        self, request: CallerRequest, data: JSONBody[MentorProfileUpdate]
    ) -> MentorProfileOut:
        return await services.save_mentor_profile(request.user, data)

    @get("/mentors/{membership_id:int}/profile", guards=[allow(*STAFF)])
    async def mentor_profile(
        self, request: CallerRequest, membership_id: PathId
    ) -> MentorProfileOut:
        return await services.get_mentor_profile(request.user, membership_id)

    @post("/mentor-profile/pause", guards=[allow(Role.MENTOR)], status_code=200)
    async def pause(self, request: CallerRequest, data: JSONBody[MentorPause]) -> MentorPauseStatus:
        """Pause yourself: no new matches until you resume. No reason is required."""
        return await services.set_paused(request.user, True, data.note)

    @post("/mentor-profile/resume", guards=[allow(Role.MENTOR)], status_code=200)
    async def resume(self, request: CallerRequest) -> MentorPauseStatus:
        return await services.set_paused(request.user, False)

    @get("/mentors/{membership_id:int}/pause", guards=[allow(*STAFF)])
    async def mentor_pause(
        self, request: CallerRequest, membership_id: PathId
    ) -> MentorPauseStatus:
        return await services.pause_status(request.user, membership_id)

    @get("/mentors/paused", guards=[allow(*STAFF)])
    async def paused_mentors(self, request: CallerRequest) -> list[PausedMentor]:
        """Mentors who paused, with their notes (each read is audited)."""
        return await services.paused_mentors(request.user)


class ApplicationController(Controller):
    """Mentor applications are decided here, beside the profile they are judged by."""

    path = "/api/v1/members"
    tags = ["profiles"]
    guards = [allow(*STAFF)]

    @post("/{membership_id:int}/approve", status_code=204)
    async def approve(self, request: CallerRequest, membership_id: PathId) -> None:
        """Approve a pending mentor application; refused while the profile is empty."""
        await services.approve_application(request.user, membership_id)

    @post("/{membership_id:int}/decline", status_code=204)
    async def decline(
        self,
        request: CallerRequest,
        membership_id: PathId,
        data: JSONBody[ApplicationDecline],
    ) -> None:
        """Decline a pending mentor application; the applicant reads the reason."""
        await services.decline_application(request.user, membership_id, data.reason)


controllers = [ProfileController, ApplicationController]
