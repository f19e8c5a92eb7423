"""Liveness and readiness probes for orchestrators and load balancers."""

from __future__ import annotations

from litestar import get
from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from tandem.core.auth import public
from tandem.core.tables import AuditEvent


@get("/healthz", opt=public(), tags=["health"])
async def healthz() -> dict[str, str]:
    """The process is up and answering."""
    return {"status": "ok"}


@get("/readyz", opt=public(), tags=["health"])
async def readyz() -> dict[str, str]:
    """The database answers a query, so requests can be served."""
    try:
        await AuditEvent.raw("SELECT 1")
    except Exception as error:  # any driver error means "not ready"
        raise HTTPException(
            status_code=HTTP_503_SERVICE_UNAVAILABLE, detail="The database is not reachable."
        ) from error
    return {"status": "ready"}
