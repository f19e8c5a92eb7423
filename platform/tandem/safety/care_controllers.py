"""JSON API of check-ins and mentor self-care under /api/v1. Mentors log and read their own;
staff read flags, gone-quiet matches and conversation requests, never self-care entries."""

from __future__ import annotations

from litestar import Controller, get, post, put
from litestar.params import JSONBody

from tandem.core.auth import STAFF, CallerRequest, Role, allow
from tandem.core.edge import PathId
from tandem.safety import care_services as services
from tandem.safety.care_schemas import (
    CheckInCreate,
    CheckInOut,
    ConversationOut,
    FlaggedCheckIn,
    QuietHoursIn,
    QuietMatchLine,
    ReturnToUseIn,
    ReturnToUseOut,
    SelfCareOut,
    WellbeingIn,
    WellbeingOut,
)

MENTOR = allow(Role.MENTOR)


class CheckInController(Controller):
    path = "/api/v1/check-ins"
    tags = ["check-ins"]

    @post("", guards=[MENTOR], status_code=201)
    async def log(self, request: CallerRequest, data: JSONBody[CheckInCreate]) -> CheckInOut:
        """Log a contact with a mentee; flags for supervision are decided as it is logged."""
        return await services.log_check_in(request.user, data)

    @get("", guards=[MENTOR])
    async def mine(self, request: CallerRequest) -> list[CheckInOut]:
        return await services.my_check_ins(request.user)

    @get("/quiet", guards=[allow(Role.MENTOR, *STAFF)])
    async def quiet(self, request: CallerRequest) -> list[QuietMatchLine]:
        """Matches with no check-in for 21 days: a mentor's own, or the program's for staff."""
        return await services.quiet_match_lines(request.user)

    @get("/flags", guards=[allow(*STAFF)])
    async def flags(self, request: CallerRequest) -> list[FlaggedCheckIn]:
        """Check-ins that raised a flag or worried their mentor (reading notes is audited)."""
        return await services.flagged_check_ins(request.user)


class SelfCareController(Controller):
    path = "/api/v1/self-care"
    tags = ["self-care"]

    @get("", guards=[MENTOR])
    async def mine(self, request: CallerRequest) -> SelfCareOut:
        return await services.self_care(request.user)

    @put("/quiet-hours", guards=[MENTOR])
    async def quiet_hours(
        self, request: CallerRequest, data: JSONBody[QuietHoursIn]
    ) -> SelfCareOut:
        return await services.set_quiet_hours(request.user, data)

    @post("/wellbeing", guards=[MENTOR], status_code=201)
    async def wellbeing(self, request: CallerRequest, data: JSONBody[WellbeingIn]) -> WellbeingOut:
        return await services.record_wellbeing(request.user, data)

    @post("/return-to-use", guards=[MENTOR], status_code=201)
    async def return_to_use(
        self, request: CallerRequest, data: JSONBody[ReturnToUseIn]
    ) -> ReturnToUseOut:
        """Confidential and without penalty: pauses new matches, offers a conversation."""
        return await services.report_return_to_use(request.user, data)

    @post("/return-to-use/ready", guards=[MENTOR], status_code=200)
    async def ready(self, request: CallerRequest) -> SelfCareOut:
        return await services.ready_to_return(request.user)

    @post("/conversation", guards=[MENTOR], status_code=201)
    async def conversation(self, request: CallerRequest) -> SelfCareOut:
        """Ask to talk with a supervisor; they learn only that you asked."""
        return await services.ask_for_conversation(request.user)

    @get("/conversations", guards=[allow(*STAFF)])
    async def conversations(self, request: CallerRequest) -> list[ConversationOut]:
        return await services.conversation_requests(request.user)

    @post("/conversations/{conversation_id:int}/held", guards=[allow(*STAFF)], status_code=200)
    async def held(self, request: CallerRequest, conversation_id: PathId) -> ConversationOut:
        return await services.mark_conversation_held(request.user, conversation_id)


care_controllers = [CheckInController, SelfCareController]
