"""JSON API of concerns under /api/v1. Every route names who may call it; every query is
scoped to the caller's program, so another program's concern answers 404. Only staff routes
return who reported a concern."""

from __future__ import annotations

from litestar import Controller, get, post, put
from litestar.params import FromQuery, JSONBody

from tandem.core.auth import STAFF, CallerRequest, Role, allow
from tandem.core.edge import PathId
from tandem.core.severity import Severity
from tandem.safety import services
from tandem.safety.care_controllers import care_controllers
from tandem.safety.schemas import (
    CategoryOut,
    ConcernAct,
    ConcernClose,
    ConcernCreate,
    ConcernNote,
    ConcernOut,
    FiledConcernOut,
    QueueItem,
    SafetySettings,
    SeverityCount,
    UrgentEscalation,
)

REPORTERS = (Role.NEWCOMER, Role.MENTOR, *STAFF)


class ConcernController(Controller):
    path = "/api/v1/concerns"
    tags = ["safety"]

    @get("/categories", guards=[allow(*REPORTERS)])
    async def categories(self) -> list[CategoryOut]:
        """The 13 kinds of concern in plain words, with the questions that raise a severity."""
        return services.categories()

    @post("", guards=[allow(*REPORTERS)])
    async def report(
        self, request: CallerRequest, data: JSONBody[ConcernCreate]
    ) -> FiledConcernOut:
        """Report a concern about a match (or, staff, a person); says what happens next and by
        when. A newcomer may ask for another mentor in the same step."""
        return await services.report_concern(request.user, data)

    @post("/urgent", guards=[allow(Role.MENTOR)])
    async def urgent(
        self, request: CallerRequest, data: JSONBody[UrgentEscalation]
    ) -> FiledConcernOut:
        """Escalate now: an S1 concern that alerts the on-call supervisor at once."""
        return await services.escalate_now(request.user, data)

    @get("/mine", guards=[allow(*REPORTERS)])
    async def mine(self, request: CallerRequest) -> list[FiledConcernOut]:
        """Concerns I filed, where each stands (never concerns about me)."""
        return await services.my_concerns(request.user)

    @get("", guards=[allow(*STAFF)])
    async def queue(
        self,
        request: CallerRequest,
        severity: FromQuery[Severity | None] = None,
        overdue: FromQuery[bool] = False,
    ) -> list[QueueItem]:
        """Open concerns, most severe and nearest deadline first."""
        return await services.queue(request.user, severity=severity, overdue_only=overdue)

    @get("/summary", guards=[allow(*STAFF)])
    async def summary(self, request: CallerRequest) -> list[SeverityCount]:
        """Open and overdue concerns per severity."""
        return await services.open_concern_summary(request.user.program_id)

    @get("/settings", guards=[allow(*STAFF)])
    async def settings(self, request: CallerRequest) -> SafetySettings:
        """Response times, the program's calendar, who is on call, retention."""
        return await services.safety_settings(request.user)

    @put("/settings", guards=[allow(*STAFF)])
    async def save_settings(
        self, request: CallerRequest, data: JSONBody[SafetySettings]
    ) -> SafetySettings:
        return await services.save_safety_settings(request.user, data)

    @get("/{concern_id:int}", guards=[allow(*STAFF)])
    async def one(self, request: CallerRequest, concern_id: PathId) -> ConcernOut:
        """A concern in full, reporter included; the reading is audited."""
        return await services.open_concern(request.user, concern_id)

    @post("/{concern_id:int}/acknowledge", guards=[allow(*STAFF)], status_code=200)
    async def acknowledge(self, request: CallerRequest, concern_id: PathId) -> ConcernOut:
        return await services.acknowledge(request.user, concern_id)

    @post("/{concern_id:int}/notes", guards=[allow(*STAFF)], status_code=200)
    async def note(
        self, request: CallerRequest, concern_id: PathId, data: JSONBody[ConcernNote]
    ) -> ConcernOut:
        return await services.add_note(request.user, concern_id, data.note)

    @post("/{concern_id:int}/act", guards=[allow(*STAFF)], status_code=200)
    async def act(
        self, request: CallerRequest, concern_id: PathId, data: JSONBody[ConcernAct]
    ) -> ConcernOut:
        """Suspend the match, pause the mentor, require a module retake or re-match."""
        return await services.act(request.user, concern_id, data.action, data.module_id)

    @post("/{concern_id:int}/close", guards=[allow(*STAFF)], status_code=200)
    async def close(
        self, request: CallerRequest, concern_id: PathId, data: JSONBody[ConcernClose]
    ) -> ConcernOut:
        return await services.close(request.user, concern_id, data.outcome, data.note)


controllers = [ConcernController, *care_controllers]
