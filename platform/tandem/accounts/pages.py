"""Pages for signing up, signing in and out. They work without JavaScript."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.params import FromQuery, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from tandem.accounts import services
from tandem.accounts.schemas import SignUp
from tandem.accounts.store import IDENTITY_KEY, sign_in
from tandem.core.auth import public
from tandem.core.errors import DomainError
from tandem.core.forms import describe_validation_error
from tandem.core.ratelimit import RateLimited, sign_in_attempt, sign_up_attempt
from tandem.settings import DEMO_PROGRAM

Form = URLEncodedBody[dict[str, str]]


@get("/", opt=public(), include_in_schema=False)
async def landing(request: Request[Any, Any, Any]) -> Template | Redirect:
    if request.session.get("membership_id"):
        return Redirect("/home")
    return Template("accounts/landing.html")


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never `//evil.example` or a full URL (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/home"


@get("/login", opt=public(), include_in_schema=False)
async def login_page(
    next_path: Annotated[str | None, QueryParameter(name="next")] = None,
) -> Template:
    return Template(
        "accounts/login.html",
        context={"error": None, "username": "", "next": _safe_next(next_path)},
    )


@post("/login", opt=public(), include_in_schema=False)
async def login_submit(request: Request[Any, Any, Any], data: Form) -> Template | Redirect:
    username = data.get("username", "")
    try:
        caller = await services.authenticate(
            username, data.get("password", ""), sign_in_attempt(request, username)
        )
    except RateLimited as limited:
        return _login_form(data, limited.detail, limited.status_code, limited.headers)
    if caller is None:
        return _login_form(data, "That username and password do not match. Please try again.")
    sign_in(request, caller.membership_id)
    return Redirect(_safe_next(data.get("next")))


def _login_form(
    data: dict[str, str],
    error: str,
    status: int = 400,
    headers: dict[str, str] | None = None,
) -> Template:
    return Template(
        "accounts/login.html",
        context={
            "error": error,
            "username": data.get("username", ""),
            "next": _safe_next(data.get("next")),
        },
        status_code=status,
        headers=headers,
    )


@get("/signup", opt=public(), include_in_schema=False)
async def signup_page(
    request: Request[Any, Any, Any], role: FromQuery[str] = "newcomer"
) -> Template:
    errors = [services.ALREADY_SIGNED_IN] if IDENTITY_KEY in request.session else []
    return _signup_form(request, "mentor" if role == "mentor" else "newcomer", {}, errors)


def _signup_form(
    request: Request[Any, Any, Any],
    role: str,
    form: dict[str, str],
    errors: list[str],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    suggested = DEMO_PROGRAM if request.app.state.settings.is_development else ""
    return Template(
        "accounts/signup.html",
        context={"role": role, "form": form, "errors": errors, "default_program": suggested},
        status_code=status,
        headers=headers,
    )


@post("/signup", opt=public(), include_in_schema=False)
async def signup_submit(request: Request[Any, Any, Any], data: Form) -> Template | Redirect:
    role = "mentor" if data.get("role") == "mentor" else "newcomer"
    fields = {k: data.get(k, "").strip() for k in ("username", "display_name", "program")}
    try:
        sign_up = msgspec.convert(
            {**fields, "password": data.get("password", ""), "role": role}, SignUp
        )
        membership_id = await services.sign_up(
            sign_up, sign_up_attempt(request), signed_in=IDENTITY_KEY in request.session
        )
    except msgspec.ValidationError as error:
        return _signup_form(request, role, fields, [describe_validation_error(error)], 400)
    except DomainError as error:
        return _signup_form(request, role, fields, [error.message], error.status_code)
    except RateLimited as limited:
        return _signup_form(
            request, role, fields, [limited.detail], limited.status_code, limited.headers
        )
    sign_in(request, membership_id)
    return Redirect("/home")


@post("/logout", opt=public(), include_in_schema=False)
async def logout(request: Request[Any, Any, Any]) -> Redirect:
    request.clear_session()
    return Redirect("/login")


routes = [landing, login_page, login_submit, signup_page, signup_submit, logout]
