"""JSON API: the program's audit trail for its staff, filtered and a page at a time."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency, Provide

from tandem.core.auth import STAFF, CallerRequest, allow
from tandem.core.pagination import Page, PageRequest, page_request
from tandem.oversight import audit
from tandem.oversight.audit import AuditEntry, AuditFilter


@get(
    "/api/v1/oversight/audit",
    guards=[allow(*STAFF)],
    tags=["oversight"],
    dependencies={"page": Provide(page_request), "where": Provide(audit.filter_request)},
)
async def audit_trail_api(
    request: CallerRequest, page: NamedDependency[PageRequest], where: NamedDependency[AuditFilter]
) -> Page[AuditEntry]:
    """Who did what to which record and when, newest first. `person` is who acted (a person
    id), `entity` and `record` the record, `action` the kind of event; `sensitive=true` keeps
    only reads of sensitive records. Ids and enum values only: never anyone's words."""
    return await audit.trail(request.user, where, page)


controllers = [audit_trail_api]
