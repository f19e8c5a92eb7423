"""JSON API: the dashboard figures for staff."""

from __future__ import annotations

from litestar import get

from tandem.core.auth import STAFF, CallerRequest, allow
from tandem.oversight import services, weights_controllers
from tandem.oversight.schemas import Dashboard


@get("/api/v1/oversight/dashboard", guards=[allow(*STAFF)], tags=["oversight"])
async def dashboard_api(request: CallerRequest) -> Dashboard:
    """The program's figures as of now: waiting, mentor load, training, concerns, quiet matches."""
    return await services.dashboard(request.user)


controllers = [dashboard_api, *weights_controllers.controllers]
