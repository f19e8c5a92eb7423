"""Pages: the audit trail for the program's staff, with filters, pages, and a CSV download."""

from __future__ import annotations

from urllib.parse import urlencode

from litestar import get
from litestar.di import NamedDependency, Provide
from litestar.response import Response, Template

from tandem.core.auth import STAFF, CallerRequest, allow
from tandem.core.pagination import PageRequest, page_request
from tandem.oversight import audit
from tandem.oversight.audit import AuditFilter


def _query_string(where: AuditFilter, **more: int) -> str:
    """The filters (and a page) as a query string, for the pager and the CSV link."""
    values: dict[str, str | int] = {
        name: "on" if value is True else value
        for name in where.__struct_fields__
        if (value := getattr(where, name)) not in (None, False)
    }
    return urlencode({**values, **more})


@get(
    "/staff/audit",
    guards=[allow(*STAFF)],
    include_in_schema=False,
    dependencies={"page": Provide(page_request), "where": Provide(audit.filter_request)},
)
async def audit_page(
    request: CallerRequest, page: NamedDependency[PageRequest], where: NamedDependency[AuditFilter]
) -> Template:
    """Who did what to which record and when, a page at a time."""
    trail = await audit.trail(request.user, where, page)
    previous = max(page.offset - page.limit, 0)
    return Template(
        "oversight/audit.html",
        context={
            "trail": trail,
            "where": where,
            "choices": await audit.choices(request.user),
            "query": _query_string(where),
            "newer": _query_string(where, offset=previous, limit=page.limit)
            if page.offset
            else None,
            "older": _query_string(where, offset=trail.next_offset, limit=page.limit)
            if trail.next_offset is not None
            else None,
        },
    )


@get(
    "/staff/audit.csv",
    guards=[allow(*STAFF)],
    include_in_schema=False,
    dependencies={"where": Provide(audit.filter_request)},
)
async def audit_csv(request: CallerRequest, where: NamedDependency[AuditFilter]) -> Response[str]:
    """The filtered trail as CSV, for the program's own compliance review (the export is
    recorded in the trail)."""
    return Response(
        await audit.trail_csv(request.user, where),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="tandem-audit-trail.csv"'},
    )


routes = [audit_page, audit_csv]
