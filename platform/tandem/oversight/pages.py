"""Pages: the supervisor's dashboard and the lists behind its figures, the trends with their
CSV downloads, and the program's health for admins."""

from __future__ import annotations

from litestar import get
from litestar.params import FromQuery
from litestar.response import Response, Template

from tandem.core.auth import STAFF, CallerRequest, Role, allow
from tandem.core.errors import Invalid
from tandem.oversight import audit_pages, charts, services, weights_pages
from tandem.oversight.controllers import loop_seconds
from tandem.oversight.schemas import TrendKey


@get("/staff/dashboard", guards=[allow(*STAFF)], include_in_schema=False)
async def dashboard_page(request: CallerRequest) -> Template:
    figures = await services.dashboard(request.user)
    return Template(
        "oversight/dashboard.html",
        context={"figures": figures, "histogram": services.waiting_chart_address(figures.waiting)},
    )


@get("/staff/dashboard/waiting.svg", guards=[allow(*STAFF)], include_in_schema=False)
async def waiting_chart(counts: FromQuery[str] = "") -> Response[str]:
    """The dashboard's histogram as its own picture, drawn from the counts in its address.

    Inline, as a data URI, it was 16 kB of the page's 22 kB, sent and escaped again on every
    view. The picture holds nothing but the counts its address already shows, so the browser
    may keep it (privately, for a year): it fetches a new one only when a count changes.
    """
    svg = charts.histogram(
        "Newcomers waiting for a mentor, by how long",
        services.WAIT_LABELS,
        services.checked_wait_counts(counts),
    )
    return Response(
        svg,
        media_type="image/svg+xml",
        headers={"cache-control": "private, max-age=31536000, immutable"},
    )


@get("/staff/dashboard/waiting", guards=[allow(*STAFF)], include_in_schema=False)
async def waiting_page(
    request: CallerRequest, min_days: FromQuery[int] = 0, max_days: FromQuery[int | None] = None
) -> Template:
    rows = await services.waiting_list(request.user, min_days, max_days)
    return Template(
        "oversight/waiting.html",
        context={"rows": rows, "min_days": min_days, "max_days": max_days},
    )


@get("/staff/dashboard/mentors", guards=[allow(*STAFF)], include_in_schema=False)
async def mentors_page(request: CallerRequest, load: FromQuery[str | None] = None) -> Template:
    state = services.checked_load(load)
    rows = await services.mentors_by_load(request.user, state)
    return Template(
        "oversight/mentors.html",
        context={"rows": rows, "state": state, "labels": services.LOAD_LABELS},
    )


@get("/staff/trends", guards=[allow(*STAFF)], include_in_schema=False)
async def trends_page(request: CallerRequest, weeks: FromQuery[int | None] = None) -> Template:
    chosen = services.checked_weeks(weeks)
    report = await services.trends(request.user, chosen)
    drawn = [(trend, charts.data_uri(charts.trend_chart(trend))) for trend in report.trends]
    return Template(
        "oversight/trends.html",
        context={"report": report, "drawn": drawn, "periods": services.PERIODS},
    )


@get("/staff/trends/download", guards=[allow(*STAFF)], include_in_schema=False)
async def trend_csv_page(
    request: CallerRequest, trend: FromQuery[str] = "", weeks: FromQuery[int | None] = None
) -> Response[str]:
    try:
        key = TrendKey(trend)
    except ValueError:
        choices = ", ".join(k.value for k in TrendKey)
        raise Invalid(f"Choose which trend to download: one of {choices}.", field="trend") from None
    chosen = services.checked_weeks(weeks)
    report = await services.trends(request.user, chosen)
    [found] = [t for t in report.trends if t.key is key]
    return Response(
        services.trend_csv(found),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="tandem-{key.value}-{chosen}-weeks.csv"'
        },
    )


@get("/admin/health", guards=[allow(Role.ADMIN)], include_in_schema=False)
async def health_page(request: CallerRequest) -> Template:
    report = await services.health(request.user, loop_seconds(request))
    return Template("oversight/health.html", context={"report": report})


routes = [
    dashboard_page,
    waiting_chart,
    waiting_page,
    mentors_page,
    trends_page,
    trend_csv_page,
    health_page,
    *weights_pages.routes,
]
routes += audit_pages.routes
