"""Pages: the supervisor's dashboard."""

from __future__ import annotations

from litestar import get
from litestar.response import Template

from tandem.core.auth import STAFF, CallerRequest, allow
from tandem.oversight import services, weights_pages


@get("/staff/dashboard", guards=[allow(*STAFF)], include_in_schema=False)
async def dashboard_page(request: CallerRequest) -> Template:
    figures = await services.dashboard(request.user)
    return Template("oversight/dashboard.html", context={"figures": figures})


routes = [dashboard_page, *weights_pages.routes]
