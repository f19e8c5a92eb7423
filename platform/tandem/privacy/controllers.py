"""JSON API: download my data; delete my account. Every signed-in person may call these for
themselves."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.params import JSONBody
from litestar.response import Response
from msgspec import Meta, Struct

from tandem.core.auth import CallerRequest, Role, allow
from tandem.privacy import services
from tandem.privacy.services import CONFIRMATION, check_confirmation


class DeleteRequest(Struct, forbid_unknown_fields=True):
    confirm: Annotated[str, Meta(description=f"Type exactly: {CONFIRMATION}")]


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
    check_confirmation(data.confirm)
    await services.delete_my_data(request.user)
    request.clear_session()


controllers = [export_data, delete_data]
