"""JSON API of the match journey under /api/v1. Every route names who may call it; every query
is scoped to the caller's program, so another program's records answer 404."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import JSONBody

from tandem.core.auth import STAFF, CallerRequest, Role, allow
from tandem.core.edge import PathId
from tandem.matches import services
from tandem.matches.schemas import (
    MatchEnd,
    MatchOut,
    OfferDecline,
    OfferOut,
    ProposalApproval,
    ProposalDecline,
    ProposalOut,
    RequestOut,
    WaitingRequestOut,
)


class MatchRequestController(Controller):
    path = "/api/v1/match-requests"
    tags = ["matches"]

    @post("", guards=[allow(Role.NEWCOMER)])
    async def ask(self, request: CallerRequest) -> RequestOut:
        """Ask for a mentor (the intake must be filled in); the engine proposes at once."""
        return await services.request_mentor(request.user)

    @get("/mine", guards=[allow(Role.NEWCOMER)])
    async def mine(self, request: CallerRequest) -> RequestOut:
        """Where my request stands, with an honest wait estimate."""
        return await services.my_request(request.user)

    @post("/mine/withdraw", guards=[allow(Role.NEWCOMER)], status_code=204)
    async def withdraw(self, request: CallerRequest) -> None:
        await services.withdraw_request(request.user)

    @post("/mine/rematch", guards=[allow(Role.NEWCOMER)], status_code=200)
    async def rematch(self, request: CallerRequest) -> RequestOut:
        """Ask for a different mentor, no reason needed; the current one is never proposed again."""
        return await services.ask_for_another_mentor(request.user)

    @get("/waiting", guards=[allow(*STAFF)])
    async def waiting(self, request: CallerRequest) -> list[WaitingRequestOut]:
        """Requests no mentor fits yet, with the hard rules counted over all mentors."""
        return await services.waiting_requests(request.user)

    @post("/{request_id:int}/retry", guards=[allow(*STAFF)], status_code=200)
    async def retry(self, request: CallerRequest, request_id: PathId) -> dict[str, str]:
        status = await services.retry_request(request.user, request.user.program_id, request_id)
        return {"status": status}


class ProposalController(Controller):
    path = "/api/v1/proposals"
    tags = ["matches"]

    @get("", guards=[allow(*STAFF)])
    async def queue(self, request: CallerRequest) -> list[ProposalOut]:
        """Proposals waiting for review, the longest-waiting first."""
        return await services.review_queue(request.user)

    @get("/{proposal_id:int}", guards=[allow(*STAFF)])
    async def one(self, request: CallerRequest, proposal_id: PathId) -> ProposalOut:
        return await services.get_proposal(request.user, proposal_id)

    @post("/{proposal_id:int}/approve", guards=[allow(*STAFF)], status_code=200)
    async def approve(
        self, request: CallerRequest, proposal_id: PathId, data: JSONBody[ProposalApproval]
    ) -> ProposalOut:
        """Approve the proposed mentor or an alternative; 409 if that mentor has no place left."""
        return await services.approve_proposal(request.user, proposal_id, data.mentor_id)

    @post("/{proposal_id:int}/decline", guards=[allow(*STAFF)], status_code=200)
    async def decline(
        self, request: CallerRequest, proposal_id: PathId, data: JSONBody[ProposalDecline]
    ) -> ProposalOut:
        return await services.decline_proposal(request.user, proposal_id, data.note)


class OfferController(Controller):
    path = "/api/v1/offers"
    tags = ["matches"]

    @get("", guards=[allow(Role.MENTOR)])
    async def mine(self, request: CallerRequest) -> list[OfferOut]:
        return await services.my_offers(request.user)

    @post("/{offer_id:int}/accept", guards=[allow(Role.MENTOR)], status_code=200)
    async def accept(self, request: CallerRequest, offer_id: PathId) -> MatchOut:
        return await services.accept_offer(request.user, offer_id)

    @post("/{offer_id:int}/decline", guards=[allow(Role.MENTOR)], status_code=204)
    async def decline(
        self, request: CallerRequest, offer_id: PathId, data: JSONBody[OfferDecline]
    ) -> None:
        """Decline without penalty; the optional reason is read by staff only."""
        await services.decline_offer(request.user, offer_id, data.reason)


class MatchController(Controller):
    path = "/api/v1/matches"
    tags = ["matches"]

    @get("", guards=[allow(*Role)])
    async def mine(self, request: CallerRequest) -> list[MatchOut]:
        """My active matches (staff: the program's)."""
        return await services.my_matches(request.user)

    @get("/{match_id:int}", guards=[allow(*Role)])
    async def one(self, request: CallerRequest, match_id: PathId) -> MatchOut:
        return await services.get_match(request.user, match_id)

    @post("/{match_id:int}/end", guards=[allow(*Role)], status_code=200)
    async def end(
        self, request: CallerRequest, match_id: PathId, data: JSONBody[MatchEnd]
    ) -> MatchOut:
        return await services.end_match(request.user, match_id, data.reason)


controllers = [MatchRequestController, ProposalController, OfferController, MatchController]
