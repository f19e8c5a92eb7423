"""JSON API: my notices; the delivery view and retries (staff); webhook endpoints (admins)."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromQuery, JSONBody

from tandem.core.auth import STAFF, CallerRequest, Role, allow
from tandem.core.edge import PathId
from tandem.notifications import services
from tandem.notifications.schemas import (
    DeliveryStatus,
    DeliveryView,
    EndpointCreate,
    EndpointCreated,
    EndpointOut,
    NoticeOut,
    RetryResult,
)


class NoticeController(Controller):
    path = "/api/v1/notifications"
    tags = ["notifications"]
    guards = [allow(*Role)]

    @get("/")
    async def list_notices(
        self, request: CallerRequest, unread: FromQuery[bool] = False
    ) -> list[NoticeOut]:
        """Your own notifications, newest first."""
        return await services.list_notices(request.user, unread_only=unread)

    @post("/{notice_id:int}/read", status_code=204)
    async def mark_read(self, request: CallerRequest, notice_id: PathId) -> None:
        await services.mark_read(request.user, notice_id)

    @post("/read-all", status_code=204)
    async def mark_all_read(self, request: CallerRequest) -> None:
        await services.mark_all_read(request.user)


class DeliveryController(Controller):
    path = "/api/v1/deliveries"
    tags = ["notifications"]
    guards = [allow(*STAFF)]

    @get("/")
    async def delivery_view(
        self, request: CallerRequest, status: FromQuery[DeliveryStatus | None] = None
    ) -> DeliveryView:
        """Webhook deliveries of your program: pending, failed and dead-lettered by default."""
        return await services.delivery_view(request.user, status)

    @post("/events/{event_id:int}/retry", status_code=200)
    async def retry(self, request: CallerRequest, event_id: PathId) -> RetryResult:
        """Queue an event's failed and dead-lettered deliveries again."""
        return await services.retry_event(request.user, event_id)


class EndpointController(Controller):
    path = "/api/v1/webhook-endpoints"
    tags = ["notifications"]
    guards = [allow(Role.ADMIN)]

    @get("/")
    async def list_endpoints(self, request: CallerRequest) -> list[EndpointOut]:
        return await services.list_endpoints(request.user)

    @post("/", status_code=201)
    async def create_endpoint(
        self, request: CallerRequest, data: JSONBody[EndpointCreate]
    ) -> EndpointCreated:
        """Add an endpoint. The response holds its signing secret: the only time it is shown."""
        return await services.create_endpoint(request.user, data, request.app.state.settings)

    @post("/{endpoint_id:int}/disable", status_code=204)
    async def disable_endpoint(self, request: CallerRequest, endpoint_id: PathId) -> None:
        await services.disable_endpoint(request.user, endpoint_id)


controllers = [NoticeController, DeliveryController, EndpointController]
