"""Pages: the audit trail for the program's staff, with filters, pages, and a CSV download."""

from __future__ import annotations

from urllib.parse import urlencode

from litestar import get
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery
from litestar.response import Response, Template

from tandem.core.auth import STAFF, CallerRequest, allow
from tandem.core.errors import Invalid
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
    dependencies={"page": Provide(page_request)},
)
async def audit_page(
    request: CallerRequest,
    page: NamedDependency[PageRequest],
    person: FromQuery[str | None] = None,
    entity: FromQuery[str | None] = None,
    record: FromQuery[str | None] = None,
    action: FromQuery[str | None] = None,
    sensitive: FromQuery[str | None] = None,
) -> Template:
    """Who did what to which record and when; a bad filter is named above the form."""
    error = None
    try:
        where = audit.checked_filter(person, entity, record, action, sensitive)
    except Invalid as problem:
        error, where = problem.message, AuditFilter()
    trail = await audit.trail(request.user, where, page)
    return Template(
        "oversight/audit.html",
        context={
            "trail": trail,
            "where": where,
            "choices": await audit.choices(request.user),
            "error": error,
            "query": _query_string(where),
            "newer": _query_string(where, offset=max(page.offset - page.limit, 0), limit=page.limit)
            if page.offset
            else None,
            "older": _query_string(where, offset=trail.next_offset, limit=page.limit)
            if trail.next_offset is not None
            else None,
        },
        status_code=400 if error else 200,
    )


@get("/staff/audit.csv", guards=[allow(*STAFF)], include_in_schema=False)
async def audit_csv(
    request: CallerRequest,
    person: FromQuery[str | None] = None,
    entity: FromQuery[str | None] = None,
    record: FromQuery[str | None] = None,
    action: FromQuery[str | None] = None,
    sensitive: FromQuery[str | None] = None,
) -> Response[str]:
    """The filtered trail as CSV, for the program's own compliance review (the export is
    recorded in the trail)."""
    where = audit.checked_filter(person, entity, record, action, sensitive)
    return Response(
        await audit.trail_csv(request.user, where),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="tandem-audit-trail.csv"'},
    )


routes = [audit_page, audit_csv]
