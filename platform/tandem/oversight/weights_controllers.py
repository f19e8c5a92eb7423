"""JSON API of the outcome loop: the weights in use, a suggestion learned from outcomes, and the
supervisor's decision on it (audited). Staff of the program only; versions are per program, so
another program's version answers 404."""

from __future__ import annotations

from litestar import Controller, get, post

from tandem.core.auth import STAFF, CallerRequest, allow
from tandem.core.edge import PathId
from tandem.matches import services as matches
from tandem.matches.schemas import WeightsReviewOut, WeightsSuggestionOut, WeightsVersionOut
from tandem.oversight import weights


class WeightsController(Controller):
    path = "/api/v1/oversight/weights"
    tags = ["oversight"]
    guards = [allow(*STAFF)]

    @get("")
    async def review(self, request: CallerRequest) -> WeightsReviewOut:
        """The weights in use, the suggestion waiting for a decision, and every past version."""
        return await matches.weights_review(request.user)

    @post("/suggest", status_code=200)
    async def suggest(self, request: CallerRequest) -> WeightsSuggestionOut:
        """Learn weights from the program's outcomes: a suggestion, or why there is none."""
        return await weights.suggest_weights(request.user)

    @post("/{weights_version:int}/adopt", status_code=200)
    async def adopt(self, request: CallerRequest, weights_version: PathId) -> WeightsVersionOut:
        """Adopt a suggestion: proposals from now on are scored with it and record it."""
        return await matches.adopt_weights(request.user, weights_version)

    @post("/{weights_version:int}/reject", status_code=200)
    async def reject(self, request: CallerRequest, weights_version: PathId) -> WeightsVersionOut:
        """Turn a suggestion down; the current weights stay."""
        return await matches.reject_weights(request.user, weights_version)


controllers = [WeightsController]
