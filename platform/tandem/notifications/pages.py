"""Pages: my notifications, the delivery view (staff) and webhook endpoints (admins).

`put_unread_count` runs before every request and leaves the caller's unread count (loaded with
the caller, in the same query) in the request state, where `base.html` shows it on every page.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from tandem.core.auth import STAFF, CallerRequest, Role, allow
from tandem.core.edge import PathId
from tandem.core.errors import DomainError
from tandem.core.forms import Form, form_errors
from tandem.core.pages import caller_of
from tandem.notifications import services
from tandem.notifications.schemas import DeliveryStatus, EndpointCreate


async def put_unread_count(request: Request[Any, Any, Any]) -> None:
    """For signed-in people's pages; no query (the count came with the caller)."""
    caller = caller_of(request)
    if caller is not None:
        request.state.unread_notices = caller.unread_notices


@get("/notifications", guards=[allow(*Role)], include_in_schema=False)
async def notices_page(request: CallerRequest) -> Template:
    notices = await services.list_notices(request.user)
    return Template("notifications/notices.html", context={"notices": notices})


@post("/notifications/{notice_id:int}/read", guards=[allow(*Role)], include_in_schema=False)
async def mark_read_page(request: CallerRequest, notice_id: PathId) -> Redirect:
    await services.mark_read(request.user, notice_id)
    return Redirect("/notifications")


@post("/notifications/read-all", guards=[allow(*Role)], include_in_schema=False)
async def mark_all_read_page(request: CallerRequest) -> Redirect:
    await services.mark_all_read(request.user)
    return Redirect("/notifications")


@get("/staff/deliveries", guards=[allow(*STAFF)], include_in_schema=False)
async def deliveries_page(
    request: CallerRequest,
    status: FromQuery[str | None] = None,
    retried: FromQuery[int | None] = None,
) -> Template:
    chosen = DeliveryStatus(status) if status in set(DeliveryStatus) else None
    view = await services.delivery_view(request.user, chosen)
    return Template(
        "notifications/deliveries.html",
        context={
            "view": view,
            "status": chosen,
            "statuses": list(DeliveryStatus),
            "retried": retried,
        },
    )


@post("/staff/deliveries/{event_id:int}/retry", guards=[allow(*STAFF)], include_in_schema=False)
async def retry_page(request: CallerRequest, event_id: PathId) -> Redirect:
    result = await services.retry_event(request.user, event_id)
    return Redirect(f"/staff/deliveries?retried={result.requeued}")


def _webhooks_page(
    endpoints: list[Any],
    *,
    created: Any = None,
    error: str | None = None,
    form: Any = None,
    status: int = 200,
) -> Template:
    return Template(
        "notifications/webhooks.html",
        context={"endpoints": endpoints, "created": created, "error": error, "form": form or {}},
        status_code=status,
    )


@get("/admin/webhooks", guards=[allow(Role.ADMIN)], include_in_schema=False)
async def webhooks_page(request: CallerRequest) -> Template:
    return _webhooks_page(await services.list_endpoints(request.user))


@post("/admin/webhooks", guards=[allow(Role.ADMIN)], include_in_schema=False)
async def create_webhook_page(request: CallerRequest, data: Form[str]) -> Template:
    """The new secret is shown in this response only: no redirect, so it never sits in a URL
    or a session."""
    form = {"label": data.get("label", "").strip(), "url": data.get("url", "").strip()}
    try:
        endpoint = msgspec.convert({**form, "on_call": data.get("on_call") == "on"}, EndpointCreate)
        created = await services.create_endpoint(request.user, endpoint, request.app.state.settings)
    except (msgspec.ValidationError, DomainError) as error:
        message = " ".join(e.message for e in form_errors(error, EndpointCreate))
    else:
        return _webhooks_page(await services.list_endpoints(request.user), created=created)
    return _webhooks_page(
        await services.list_endpoints(request.user), error=message, form=form, status=400
    )


@post(
    "/admin/webhooks/{endpoint_id:int}/disable", guards=[allow(Role.ADMIN)], include_in_schema=False
)
async def disable_webhook_page(request: CallerRequest, endpoint_id: PathId) -> Redirect:
    await services.disable_endpoint(request.user, endpoint_id)
    return Redirect("/admin/webhooks")


routes = [
    notices_page,
    mark_read_page,
    mark_all_read_page,
    deliveries_page,
    retry_page,
    webhooks_page,
    create_webhook_page,
    disable_webhook_page,
]
