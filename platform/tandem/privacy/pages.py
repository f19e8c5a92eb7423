"""Pages: what Tandem holds about you, and deleting your account."""

from __future__ import annotations

from litestar import get, post
from litestar.response import Redirect, Template

from tandem.core.auth import CallerRequest, Role, allow
from tandem.core.errors import Invalid
from tandem.core.forms import Form
from tandem.privacy import services
from tandem.privacy.services import CONFIRMATION, check_confirmation


@get("/privacy", guards=[allow(*Role)], include_in_schema=False)
async def privacy_page() -> Template:
    return Template("privacy/privacy.html", context={"confirmation": CONFIRMATION, "error": None})


@post("/privacy/delete", guards=[allow(*Role)], include_in_schema=False)
async def delete_page(request: CallerRequest, data: Form[str]) -> Template | Redirect:
    try:
        check_confirmation(data.get("confirm", ""))
    except Invalid as error:
        return Template(
            "privacy/privacy.html",
            context={"confirmation": CONFIRMATION, "error": error.message},
            status_code=400,
        )
    await services.delete_my_data(request.user)
    request.clear_session()
    return Redirect("/?deleted=1")


routes = [privacy_page, delete_page]
