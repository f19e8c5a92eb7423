"""Domain errors, plain-worded validation errors, and the one place they become HTTP responses.

Services raise these plain exceptions; `exception_handlers()` maps them once, to JSON for the API
and to a friendly page for people, so no controller formats an error by hand.

Validation errors (msgspec's, and Litestar's built from them) name a field and a rule in a
developer's words ("Expected `str` of length >= 10 - at `$.password`"). `field_errors` turns
them into `FieldError`s: the field's path and a sentence that says what to change, worded from
the field's own constraints in its schema, or, for a pattern, taken from the schema's
`Meta(extra={"pattern_message": ...})`, since a regex has no plain reading. The API and the
pages both use it.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from typing import Any
from urllib.parse import quote

import msgspec
import msgspec.inspect as mi
from litestar import Litestar, MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    InternalServerException,
    ValidationException,
)
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_500_INTERNAL_SERVER_ERROR,
)

from tandem.core.auth import PUBLIC_OPT_KEY

log = logging.getLogger("tandem.errors")

# The largest id a record can have: PostgreSQL stores ids as `integer` (Piccolo's `Serial`),
# a signed 32-bit number, the smaller of the two databases' limits.
MAX_ID = 2**31 - 1


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


class FieldError(msgspec.Struct, frozen=True):
    """One field and what to change about it, in words a person can act on.

    `field` is the path into the request (`password`, `availability[0].start`); `name` is its
    first step, which is the name of the form control a page shows the message beside.
    """

    field: str
    message: str

    @property
    def name(self) -> str:
        return re.split(r"[.\[]", self.field, maxsplit=1)[0]

    def __str__(self) -> str:
        return self.message


_AT = re.compile(r" - at `(?:(key)` in `)?\$(.*)`$")
_NAMED = re.compile(r"^Object (missing required|contains unknown) field `([^`]+)`")
_STEP = re.compile(r"\.([^.\[]+)|\[([^\]]*)\]")


def _steps(path: str) -> list[str | int]:
    """`.availability[0].start` -> ["availability", 0, "start"]; `[...]` is a dict value."""
    steps: list[str | int] = []
    for name, index in _STEP.findall(path):
        steps.append(name if name else (int(index) if index.isdigit() else "..."))
    return steps


def _field_path(steps: list[str | int]) -> str:
    text = ""
    for step in steps:
        if isinstance(step, int):
            text += f"[{step}]"
        elif step == "...":
            text += "[...]"
        else:
            text += f".{step}" if text else step
    return text


def _unwrap(info: mi.Type) -> tuple[mi.Type, dict[str, Any], dict[str, Any]]:
    """The type under any `Meta`, with its `extra` and JSON-schema extras (title, ...)."""
    extra: dict[str, Any] = {}
    schema: dict[str, Any] = {}
    while isinstance(info, mi.Metadata):
        extra = {**(info.extra or {}), **extra}
        schema = {**(info.extra_json_schema or {}), **schema}
        info = info.type
    if isinstance(info, mi.UnionType):
        others = [t for t in info.types if not isinstance(t, mi.NoneType)]
        if len(others) == 1:
            inner, more_extra, more_schema = _unwrap(others[0])
            return inner, {**more_extra, **extra}, {**more_schema, **schema}
    return info, extra, schema


def _walk(info: mi.Type, steps: list[str | int]) -> mi.Type | None:
    """The type that the path leads to inside `info`, or None when it leads nowhere known."""
    for step in steps:
        inner, _, _ = _unwrap(info)
        if isinstance(inner, mi.StructType) and isinstance(step, str):
            match = next((f for f in inner.fields if step in (f.encode_name, f.name)), None)
            if match is None:
                return None
            info = match.type
        elif isinstance(inner, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
            info = inner.item_type
        elif isinstance(inner, mi.DictType):
            info = inner.value_type
        else:
            return None
    return info


def _label(steps: list[str | int], schema: dict[str, Any]) -> str:
    if schema.get("title"):
        return str(schema["title"])
    names = [step for step in steps if isinstance(step, str) and step != "..."]
    return names[-1].replace("_", " ").capitalize() if names else "The request body"


def _choices(values: Any) -> str:
    return ", ".join(str(value) for value in values)


def _between(low: Any, high: Any, unit: str = "") -> str:
    unit = f" {unit}" if unit else ""
    if low is not None and high is not None:
        return f" from {low} to {high}{unit}"
    if low is not None:
        return f" of at least {low}{unit}"
    return f" of at most {high}{unit}" if high is not None else ""


# Types without constraints of their own: what a valid value is, in a few words.
_PLAIN_TYPES: dict[type[mi.Type], str] = {
    mi.BoolType: "true or false",
    mi.DateType: "a date written as YYYY-MM-DD, for example 2026-03-01",
    mi.DateTimeType: "a date and time, for example 2026-03-01T18:30:00Z",
}


def _rule(info: mi.Type | None, steps: list[str | int], raw: str) -> str:
    """What a valid value of this field looks like, said plainly. `raw` is msgspec's message,
    read only to tell which of two bounds was missed."""
    if info is None:
        return f"{_label(steps, {})} is not valid here."
    inner, extra, schema = _unwrap(info)
    if "regex" in raw and extra.get("pattern_message"):
        return str(extra["pattern_message"])
    label = _label(steps, schema)
    if isinstance(inner, mi.StrType):
        if ">=" in raw and inner.min_length is not None:
            if inner.min_length <= 1:
                return f"Please fill in {label.lower()}."
            return f"{label} needs at least {inner.min_length} characters."
        if "<=" in raw and inner.max_length is not None:
            return f"{label} can have at most {inner.max_length} characters."
        if inner.pattern is not None and "regex" in raw:
            return f"{label} is not in the expected form."
        return f"{label} must be text."
    if isinstance(inner, mi.IntType):
        low = inner.ge if inner.gt is None else inner.gt + 1
        high = inner.le if inner.lt is None else inner.lt - 1
        return f"{label} must be a whole number{_between(low, high)}."
    if isinstance(inner, mi.FloatType):
        return f"{label} must be a number{_between(inner.ge, inner.le)}."
    if isinstance(inner, mi.LiteralType | mi.EnumType):
        if "value ''" in raw:  # a form's list or radio buttons left without a choice
            return f"Please choose {label[0].lower()}{label[1:]}."
        values = inner.values if isinstance(inner, mi.LiteralType) else [m.value for m in inner.cls]
        return f"{label} must be one of: {_choices(values)}."
    if type(inner) in _PLAIN_TYPES:
        return f"{label} must be {_PLAIN_TYPES[type(inner)]}."
    if isinstance(inner, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
        if "length" in raw:
            return f"{label} needs{_between(inner.min_length, inner.max_length, 'choices')}."
        return f"{label} must be a list."
    if isinstance(inner, mi.DictType):
        if "length" in raw:
            return f"{label} can have at most {inner.max_length} entries."
        return f"{label} must be an object of names and values."
    if isinstance(inner, mi.StructType):
        fields = _choices(f.encode_name for f in inner.fields)
        return f"{label} must be an object with the fields: {fields}."
    return f"{label} is not valid."


def field_error(shape: Any, raw: str) -> FieldError:
    """One msgspec message (`"Expected ... - at `$.x`"`) against the type it was checked with."""
    at = _AT.search(raw)
    steps = _steps(at.group(2)) if at else []
    rule_text = raw[: at.start()] if at else raw
    info = _type_info(shape)
    named = _NAMED.match(rule_text)
    if named:
        kind, name = named.groups()
        field_steps = [*steps, name]
        if kind == "contains unknown":
            return FieldError(_field_path(field_steps), f"{name} is not a field here: remove it.")
        found = _walk(info, field_steps)
        inner, _, schema = _unwrap(found) if found is not None else (None, {}, {})
        label = _label(field_steps, schema)
        # A set of choices is chosen, not filled in.
        verb = "choose" if isinstance(inner, mi.LiteralType | mi.EnumType) else "fill in"
        return FieldError(_field_path(field_steps), f"Please {verb} {label[0].lower()}{label[1:]}.")
    if at and at.group(1):  # a dict key: `key` in `$.answers`
        found = _walk(info, steps)
        inner = _unwrap(found)[0] if found is not None else None
        key_type = inner.key_type if isinstance(inner, mi.DictType) else None
        return FieldError(_field_path(steps), _rule(key_type, steps, rule_text))
    return FieldError(_field_path(steps), _rule(_walk(info, steps), steps, rule_text))


@cache
def _type_info(shape: Any) -> mi.Type:
    return mi.type_info(shape)


def field_errors(error: msgspec.ValidationError, shape: Any) -> list[FieldError]:
    """What `msgspec.convert(..., shape)` refused, field by field, in plain words."""
    return [field_error(shape, str(error))]


def _litestar_field_errors(
    request: Request[Any, Any, Any], error: ValidationException
) -> list[FieldError]:
    """Litestar checks a handler's parameters and body against its signature model and reports
    each problem's message and key; the sentence is worded against the field's own type."""
    model = request.route_handler.signature_model
    errors = []
    for item in error.extra if isinstance(error.extra, list) else []:
        if not isinstance(item, dict) or "message" not in item:
            continue
        key = str(item.get("key", ""))
        if item.get("source") == "body":
            # The body's own paths (`username`, `availability[0].start`); `data` is its root.
            path = "" if key == "data" else key
            found = field_error(model.__annotations__["data"], f"{item['message']} - at `$.{path}`")
            errors.append(FieldError(found.field or "body", found.message))
        else:
            errors.append(field_error(model, f"{item['message']} - at `$.{key}`"))
    return errors


def _wants_html(request: Request[Any, Any, Any]) -> bool:
    return not request.url.path.startswith(("/api/", "/schema")) and "text/html" in (
        request.headers.get("accept", "")
    )


def _respond(
    request: Request[Any, Any, Any],
    status: int,
    message: str,
    extra: dict[str, Any] | None,
    errors: list[FieldError] | None = None,
) -> Response[Any]:
    if _wants_html(request):
        return Template(
            template_name="error.html",
            context={"status": status, "message": message, "errors": errors or []},
            status_code=status,
        )
    body: dict[str, Any] = {"status_code": status, "detail": message}
    if extra:
        body["extra"] = extra
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    return Response(body, status_code=status, media_type=MediaType.JSON)


def _domain_error(request: Request[Any, Any, Any], error: DomainError) -> Response[Any]:
    if error.field is None:
        return _respond(request, error.status_code, error.message, None)
    errors = [FieldError(error.field, error.message)]
    return _respond(request, error.status_code, error.message, {"field": error.field}, errors)


def _validation_error(request: Request[Any, Any, Any], error: ValidationException) -> Response[Any]:
    errors = _litestar_field_errors(request, error)
    if not errors:
        return _respond(request, error.status_code, "The request could not be read.", None)
    return _respond(request, error.status_code, " ".join(e.message for e in errors), None, errors)


def _http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    if error.status_code == HTTP_401_UNAUTHORIZED:
        if _wants_html(request):
            return Redirect(f"/login?next={quote(request.url.path)}")
        if error.detail in {"no session data found", "Unauthorized"}:
            # Litestar's own wording; people (and API clients) need to know what to do.
            return _respond(request, error.status_code, "Please sign in first.", None)
    if isinstance(error, ValidationException):
        response = _validation_error(request, error)
    else:
        response = _respond(request, error.status_code, error.detail, None)
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
    if isinstance(error, InternalServerException) and "disconnected" in error.detail:
        # The client went away before its body arrived (a closed tab, a dropped phone
        # connection): nothing is wrong on our side, and nobody will read the answer.
        log.info(
            "client left before the request body arrived: %s %s", request.method, _path(request)
        )
        return _respond(
            request, HTTP_400_BAD_REQUEST, "The request ended before its body arrived.", None
        )
    # Logged once, here, with the path only: a query string may carry what a person typed.
    log.error("unhandled error on %s %s", request.method, _path(request), exc_info=error)
    return _respond(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "Something went wrong on our side. Nothing was changed; please try again.",
        None,
    )


def _path(request: Request[Any, Any, Any]) -> str:
    return request.scope.get("path", "")


def _too_deep(request: Request[Any, Any, Any], error: RecursionError) -> Response[Any]:
    """msgspec gives up on a body nested thousands of levels deep with a RecursionError."""
    if "deserializ" not in str(error):
        return _unexpected(request, error)
    message = "The request body is nested too deeply. Send a flatter JSON document."
    return _respond(request, HTTP_400_BAD_REQUEST, message, None, [FieldError("body", message)])


NUL_MESSAGE = "Text cannot contain NUL characters (\\0). Remove them and try again."


def _bad_text(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """PostgreSQL refuses NUL in text. The edge refuses it first; this catches any text that
    reached a query some other way (a query parameter, a field without a text type)."""
    return _respond(request, HTTP_400_BAD_REQUEST, NUL_MESSAGE, None)


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


def bad_text_error_types() -> tuple[type[Exception], ...]:
    """PostgreSQL's "invalid byte sequence ... 0x00" and "\\u0000 cannot be converted"."""
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - asyncpg ships with piccolo[postgres]
        return ()
    return (asyncpg.CharacterNotInRepertoireError, asyncpg.UntranslatableCharacterError)


class ErrorBody(msgspec.Struct, kw_only=True):
    """What every refused API call answers (the OpenAPI document names it for each status)."""

    status_code: int
    detail: str
    errors: list[FieldError] = []
    extra: dict[str, Any] | None = None


_WHEN = {
    400: "A value is not valid: `errors` names each field and what to change.",
    401: "Not signed in.",
    403: "Signed in, but this role may not do this (or the CSRF token is missing).",
    404: "No such record in the caller's program (another program's records answer the same).",
    409: "The change clashes with the current state or with an existing record.",
    429: "Too many attempts: wait for the `Retry-After` seconds, then try again.",
}


# Route `opt` for the routes that count attempts and may answer 429 (sign-in and sign-up).
RATE_LIMITED_OPT_KEY = "rate_limited"


def document_errors(app: Litestar) -> None:
    """Say in the OpenAPI document which refusals each route can give, and which routes are
    public, from what the route declares: guards give 401 and 403, a path parameter 404,
    a change 403 (CSRF) and 409, `RATE_LIMITED_OPT_KEY` 429. Called once by `create_app`."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            public = bool(handler.opt.get(PUBLIC_OPT_KEY))
            changes = bool(set(handler.http_methods) & {"POST", "PUT", "PATCH", "DELETE"})
            codes = {400}
            codes |= set() if public else {401, 403}
            codes |= {404} if route.path_parameters else set()
            codes |= {403, 409} if changes else set()
            codes |= {429} if handler.opt.get(RATE_LIMITED_OPT_KEY) else set()
            specs = {
                code: ResponseSpec(ErrorBody, generate_examples=False, description=_WHEN[code])
                for code in sorted(codes)
            }
            handler.responses = {**specs, **(handler.responses or {})}
            if public:
                handler.security = [{}]  # anyone may call it, signed in or not


def exception_handlers() -> dict[type[Exception] | int, Any]:
    """The whole error -> HTTP mapping, registered once by `create_app`."""
    handlers: dict[type[Exception] | int, Any] = {
        DomainError: _domain_error,
        HTTPException: _http_error,
        RecursionError: _too_deep,
        HTTP_500_INTERNAL_SERVER_ERROR: _unexpected,
    }
    for error_type in integrity_error_types():
        handlers[error_type] = _integrity_error
    for error_type in bad_text_error_types():
        handlers[error_type] = _bad_text
    return handlers
