"""Domain errors and the one place they become HTTP responses.

Services raise these plain exceptions; `exception_handlers()` maps them once, to JSON for the API
and to a friendly page for people, so no controller formats an error by hand.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_500_INTERNAL_SERVER_ERROR,
)

log = logging.getLogger("tandem.errors")


class DomainError(Exception):
    """A rule of the domain said no. `status_code` picks the HTTP status."""

    status_code = HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """The record does not exist, or the caller may not know that it exists."""

    status_code = HTTP_404_NOT_FOUND


class Forbidden(DomainError):
    """The caller is known but their role may not do this."""

    status_code = HTTP_403_FORBIDDEN


class Conflict(DomainError):
    """The change clashes with the current state (a duplicate, a full caseload, a stale step)."""

    status_code = HTTP_409_CONFLICT


class Invalid(DomainError):
    """The request is well-formed but breaks a rule about its values."""

    status_code = HTTP_400_BAD_REQUEST


def _wants_html(request: Request[Any, Any, Any]) -> bool:
    return not request.url.path.startswith(("/api/", "/schema")) and "text/html" in (
        request.headers.get("accept", "")
    )


def _respond(
    request: Request[Any, Any, Any], status: int, message: str, extra: dict[str, Any] | None
) -> Response[Any]:
    if _wants_html(request):
        return Template(
            template_name="error.html",
            context={"status": status, "message": message},
            status_code=status,
        )
    body: dict[str, Any] = {"status_code": status, "detail": message}
    if extra:
        body["extra"] = extra
    return Response(body, status_code=status, media_type=MediaType.JSON)


def _domain_error(request: Request[Any, Any, Any], error: DomainError) -> Response[Any]:
    extra = {"field": error.field} if error.field else None
    return _respond(request, error.status_code, error.message, extra)


def _http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    if error.status_code == HTTP_401_UNAUTHORIZED:
        if _wants_html(request):
            return Redirect(f"/login?next={quote(request.url.path)}")
        if error.detail in {"no session data found", "Unauthorized"}:
            # Litestar's own wording; people (and API clients) need to know what to do.
            return _respond(request, error.status_code, "Please sign in first.", None)
    extra: Any = error.extra if isinstance(error, ValidationException) else None
    if isinstance(extra, list):
        extra = {"errors": extra}
    response = _respond(request, error.status_code, error.detail, extra)
    for key, value in (error.headers or {}).items():
        response.headers[key] = value
    return response


def _integrity_error(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """Unique and foreign-key violations from either database become a clear 409."""
    text = str(error).lower()
    if "unique" in text or "duplicate" in text:
        message = "That record already exists (a value that must be unique is already in use)."
    elif "foreign key" in text:
        message = "That change refers to a record that does not exist or is still in use."
    else:
        message = "That change conflicts with existing records."
    return _respond(request, HTTP_409_CONFLICT, message, None)


def _unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _respond(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "Something went wrong on our side. Nothing was changed; please try again.",
        None,
    )


def integrity_error_types() -> tuple[type[Exception], ...]:
    """The integrity-error classes of both database drivers."""
    import sqlite3

    types: list[type[Exception]] = [sqlite3.IntegrityError]
    try:
        import asyncpg

        types.append(asyncpg.IntegrityConstraintViolationError)
    except ImportError:  # pragma: no cover - asyncpg ships with piccolo[postgres]
        pass
    return tuple(types)


def exception_handlers() -> dict[type[Exception] | int, Any]:
    """The whole error -> HTTP mapping, registered once by `create_app`."""
    handlers: dict[type[Exception] | int, Any] = {
        DomainError: _domain_error,
        HTTPException: _http_error,
        HTTP_500_INTERNAL_SERVER_ERROR: _unexpected,
    }
    for error_type in integrity_error_types():
        handlers[error_type] = _integrity_error
    return handlers
