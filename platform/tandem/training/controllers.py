"""JSON API for the training track (mentors) and training compliance (supervisors)."""

from __future__ import annotations

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from tandem.core.auth import STAFF, CallerRequest, Role, allow
from tandem.core.errors import Invalid
from tandem.training import services
from tandem.training.rules import ModuleState
from tandem.training.schemas import (
    AnswerSheet,
    Attempt,
    Certificate,
    ComplianceReport,
    Lesson,
    MentorProgress,
    TrackProgress,
    UnlockRequest,
)


class TrainingController(Controller):
    """The mentor's own track. Quiz questions arrive without answers; grading is server-side."""

    path = "/api/v1/training"
    tags = ["training"]
    guards = [allow(Role.MENTOR)]

    @get("/modules")
    async def modules(self, request: CallerRequest) -> TrackProgress:
        return await services.track_progress(request.user)

    @get("/modules/{module_id:str}")
    async def lesson(self, request: CallerRequest, module_id: FromPath[str]) -> Lesson:
        """Read a module. Reading records nothing; `POST .../read` does."""
        return await services.lesson(request.user, module_id)

    @post("/modules/{module_id:str}/read", status_code=200)
    async def mark_read(self, request: CallerRequest, module_id: FromPath[str]) -> ModuleState:
        """The mentor has read the module: what counts as the review a retake needs."""
        return await services.mark_read(request.user, module_id)

    @post("/modules/{module_id:str}/attempts", status_code=201)
    async def start(self, request: CallerRequest, module_id: FromPath[str]) -> Attempt:
        """Start a quiz drawn from the pool (or get back the one already open)."""
        return await services.start_attempt(request.user, module_id)

    @get("/attempts/{attempt_id:int}")
    async def attempt(self, request: CallerRequest, attempt_id: FromPath[int]) -> Attempt:
        return await services.get_attempt(request.user, attempt_id)

    @post("/attempts/{attempt_id:int}/submit", status_code=200)
    async def submit(
        self, request: CallerRequest, attempt_id: FromPath[int], data: JSONBody[AnswerSheet]
    ) -> Attempt:
        """Submit answers; the response carries the grading and every rationale.

        `data` validates the body and documents it; it is then read again strictly, because the
        signature model coerces `"2"` to 2 and positions must be JSON integers.
        """
        try:
            sheet = msgspec.json.decode(await request.body(), type=AnswerSheet)
        except msgspec.ValidationError:
            raise Invalid(
                "Each answer is the position of an option as a whole number (0, 1, 2, ...), "
                "not text.",
                field="answers",
            ) from None
        return await services.submit_attempt(request.user, attempt_id, sheet.answers)

    @get("/certificate")
    async def certificate(self, request: CallerRequest) -> Certificate:
        return await services.certificate(request.user)


class TrainingComplianceController(Controller):
    """Supervisors: the program's training compliance and unlocking after remediation."""

    path = "/api/v1/training"
    tags = ["training"]
    guards = [allow(*STAFF)]

    @get("/compliance")
    async def compliance(self, request: CallerRequest) -> ComplianceReport:
        return await services.compliance(request.user)

    @get("/mentors/{membership_id:int}")
    async def mentor(self, request: CallerRequest, membership_id: FromPath[int]) -> MentorProgress:
        return await services.mentor_progress(request.user, membership_id)

    @post("/mentors/{membership_id:int}/modules/{module_id:str}/unlock", status_code=200)
    async def unlock(
        self,
        request: CallerRequest,
        membership_id: FromPath[int],
        module_id: FromPath[str],
        data: JSONBody[UnlockRequest],
    ) -> ModuleState:
        """Reopen a quiz locked after three failures, once remediation took place (audited)."""
        return await services.unlock_module(
            request.user, membership_id, module_id, data.remediation
        )
