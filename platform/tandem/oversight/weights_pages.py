"""The weights review page: the weights in use beside a suggestion learned from the program's
outcomes, the held-out evaluation in plain words, and adopt or reject (audited). Plain forms, no
JavaScript needed; a refused decision shows the friendly error page with the reason."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from tandem.core.auth import STAFF, CallerRequest, allow
from tandem.core.edge import PathId
from tandem.matches import services as matches
from tandem.oversight import weights

DONE = {
    "adopted": "Adopted. Every proposal from now on is scored with these weights and records"
    " their version.",
    "rejected": "Rejected. The current weights stay.",
}


async def _page(request: CallerRequest, status_code: int = 200, **context: Any) -> Template:
    review = await matches.weights_review(request.user)
    return Template(
        "oversight/weights.html",
        context={"review": review, **context},
        status_code=status_code,
    )


@get("/staff/weights", guards=[allow(*STAFF)], include_in_schema=False)
async def weights_page(request: CallerRequest, done: FromQuery[str | None] = None) -> Template:
    return await _page(request, done=DONE.get(done or ""))


@post("/staff/weights/suggest", guards=[allow(*STAFF)], include_in_schema=False)
async def suggest_page(request: CallerRequest) -> Template:
    """Look for better weights; the page then shows the suggestion, or why there is none."""
    result = await weights.suggest_weights(request.user)
    return await _page(request, refused=result.refused, suggested=result.suggested is not None)


@post("/staff/weights/{weights_version:int}/adopt", guards=[allow(*STAFF)], include_in_schema=False)
async def adopt_page(request: CallerRequest, weights_version: PathId) -> Redirect:
    await matches.adopt_weights(request.user, weights_version)
    return Redirect("/staff/weights?done=adopted")


@post(
    "/staff/weights/{weights_version:int}/reject", guards=[allow(*STAFF)], include_in_schema=False
)
async def reject_page(request: CallerRequest, weights_version: PathId) -> Redirect:
    await matches.reject_weights(request.user, weights_version)
    return Redirect("/staff/weights?done=rejected")


routes = [weights_page, suggest_page, adopt_page, reject_page]
