"""Pages for signing up, signing in and out. They work without JavaScript."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.params import FromQuery, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from tandem.accounts import services
from tandem.accounts.schemas import SignUp
from tandem.core.auth import public
from tandem.core.errors import DomainError, FieldError
from tandem.core.forms import form_errors
from tandem.core.ratelimit import sign_in_rate_limit
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


@post("/login", opt=public(), middleware=[sign_in_rate_limit], include_in_schema=False)
async def login_submit(request: Request[Any, Any, Any], data: Form) -> Template | Redirect:
    caller = await services.authenticate(data.get("username", ""), data.get("password", ""))
    if caller is None:
        return Template(
            "accounts/login.html",
            context={
                "error": "That username and password do not match. Please try again.",
                "username": data.get("username", ""),
                "next": _safe_next(data.get("next")),
            },
            status_code=400,
        )
    request.set_session({"membership_id": caller.membership_id})
    return Redirect(_safe_next(data.get("next")))


@get("/signup", opt=public(), include_in_schema=False)
async def signup_page(
    request: Request[Any, Any, Any], role: FromQuery[str] = "newcomer"
) -> Template:
    return _signup_form(request, "mentor" if role == "mentor" else "newcomer", {}, [])


def _signup_form(
    request: Request[Any, Any, Any],
    role: str,
    form: dict[str, str],
    errors: list[FieldError],
    status: int = 200,
) -> Template:
    suggested = DEMO_PROGRAM if request.app.state.settings.is_development else ""
    return Template(
        "accounts/signup.html",
        context={"role": role, "form": form, "errors": errors, "default_program": suggested},
        status_code=status,
    )


@post("/signup", opt=public(), middleware=[sign_in_rate_limit], include_in_schema=False)
async def signup_submit(request: Request[Any, Any, Any], data: Form) -> Template | Redirect:
    role = "mentor" if data.get("role") == "mentor" else "newcomer"
    fields = {k: data.get(k, "").strip() for k in ("username", "display_name", "program")}
    try:
        sign_up = msgspec.convert(
            {**fields, "password": data.get("password", ""), "role": role}, SignUp
        )
        membership_id = await services.sign_up(sign_up)
    except msgspec.ValidationError as error:
        return _signup_form(request, role, fields, form_errors(error, SignUp), 400)
    except DomainError as error:
        return _signup_form(request, role, fields, form_errors(error, SignUp), error.status_code)
    request.set_session({"membership_id": membership_id})
    return Redirect("/home")


@post("/logout", opt=public(), include_in_schema=False)
async def logout(request: Request[Any, Any, Any]) -> Redirect:
    request.clear_session()
    return Redirect("/login")


routes = [landing, login_page, login_submit, signup_page, signup_submit, logout]
