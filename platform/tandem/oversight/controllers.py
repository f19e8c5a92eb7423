"""JSON API: the dashboard and the trends for staff; the program's health for admins (and an
external monitor signed in as one)."""

from __future__ import annotations

from litestar import Request, get
from litestar.params import FromQuery

from tandem.core.auth import STAFF, CallerRequest, Role, allow
from tandem.core.periodic import HOUSEKEEPING_LOOP, MATCH_RETRY_LOOP, MATCHES_LOOP, SAFETY_LOOP
from tandem.oversight import audit_controllers, services, weights_controllers
from tandem.oversight.schemas import Dashboard, ProgramHealth, Trends


def loop_seconds(request: Request) -> dict[str, float]:
    """How often this app runs each periodic loop (0: not in this process)."""
    settings = request.app.state.settings
    return {
        MATCHES_LOOP: float(settings.match_loop_seconds),
        MATCH_RETRY_LOOP: float(settings.match_retry_seconds),
        SAFETY_LOOP: float(settings.safety_loop_seconds),
        HOUSEKEEPING_LOOP: float(settings.housekeeping_seconds),
    }


@get("/api/v1/oversight/dashboard", guards=[allow(*STAFF)], tags=["oversight"])
async def dashboard_api(request: CallerRequest) -> Dashboard:
    """The program's figures as of now: waiting, mentor load, training, concerns, quiet matches."""
    return await services.dashboard(request.user)


@get("/api/v1/oversight/trends", guards=[allow(*STAFF)], tags=["oversight"])
async def trends_api(request: CallerRequest, weeks: FromQuery[int | None] = None) -> Trends:
    """Each trend's weekly table over the last `weeks` weeks (4, 12, 26, 52 or 104; 12 if
    not given)."""
    return await services.trends(request.user, services.checked_weeks(weeks))


@get("/api/v1/oversight/health", guards=[allow(Role.ADMIN)], tags=["oversight"])
async def health_api(request: CallerRequest) -> ProgramHealth:
    """Whether background work keeps up: the outbox backlog and dead letters, the last batch
    run, each periodic loop's last tick. `ok` is false with `problems` saying why."""
    return await services.health(request.user, loop_seconds(request))


controllers = [dashboard_api, trends_api, health_api, *weights_controllers.controllers]
controllers += audit_controllers.controllers
