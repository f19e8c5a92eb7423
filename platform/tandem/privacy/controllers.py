"""Download my data; delete my account. Every signed-in person may call these for themselves."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.params import JSONBody, URLEncodedBody
from litestar.response import Redirect, Response, Template
from msgspec import Meta, Struct

from tandem.core.auth import CallerRequest, Role, allow
from tandem.core.errors import Invalid
from tandem.privacy import services

CONFIRMATION = "delete my data"


class DeleteRequest(Struct, forbid_unknown_fields=True):
    confirm: Annotated[str, Meta(description=f"Type exactly: {CONFIRMATION}")]


def _check_confirmation(text: str) -> None:
    if text.strip().lower() != CONFIRMATION:
        raise Invalid(f'To delete your data, type "{CONFIRMATION}".', field="confirm")


@get("/api/v1/me/export", guards=[allow(*Role)], tags=["privacy"])
async def export_data(request: CallerRequest) -> Response[dict[str, Any]]:
    """Everything Tandem holds about you, as a JSON download."""
    data = await services.export_my_data(request.user)
    return Response(
        data, headers={"content-disposition": 'attachment; filename="tandem-my-data.json"'}
    )


@post("/api/v1/me/delete", guards=[allow(*Role)], tags=["privacy"], status_code=204)
async def delete_data(request: CallerRequest, data: JSONBody[DeleteRequest]) -> None:
    """Erase your account and everything attached to it. This cannot be undone."""
    _check_confirmation(data.confirm)
    await services.delete_my_data(request.user)
    request.clear_session()


@get("/privacy", guards=[allow(*Role)], include_in_schema=False)
async def privacy_page() -> Template:
    return Template("privacy/privacy.html", context={"confirmation": CONFIRMATION, "error": None})


@post("/privacy/delete", guards=[allow(*Role)], include_in_schema=False)
async def delete_page(
    request: CallerRequest, data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    try:
        _check_confirmation(data.get("confirm", ""))
    except Invalid as error:
        return Template(
            "privacy/privacy.html",
            context={"confirmation": CONFIRMATION, "error": error.message},
            status_code=400,
        )
    await services.delete_my_data(request.user)
    request.clear_session()
    return Redirect("/?deleted=1")


routes = [export_data, delete_data, privacy_page, delete_page]
