"""The tenancy matrix beside the role matrix: every route that names a record by id, called by
program B's people with program A's ids, answers 404, exactly as for a record that does not exist.

The routes come from the app (as in `test_access_matrix.py`), so a new route with an id in its
path is covered the day it is served: it fails here until `program_a_records` names one of
program A's records for its parameter. Each call is checked against a control: the same request
by program A's own people finds the record (anything but 404), so a 404 from B means "not
yours", not "no such thing" or "bad request".
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest
from litestar import Litestar

from tandem.accounts import services as accounts
from tandem.core.auth import PUBLIC_OPT_KEY, Role
from tandem.notifications.tables import OutboxEvent
from tandem.safety.care_tables import ConversationRequest
from tandem.training import services as training
from tandem.training.tables import QuizAttempt
from tests.support.builders import best_answers, newcomer_with_intake, trained_mentor
from tests.support.outcomes import suggested_weights
from tests.support.people import People
from tests.support.routes import declared_roles, served_routes

pytestmark = pytest.mark.anyio

PARAMETER = re.compile(r"\{(\w+):\w+\}")
# Parameters that name no program's record: the training track is the same for every program.
SHARED_PARAMETERS = {"module_id": "mentor-role"}
PUBLIC_WEBHOOK = "https://93.184.215.14/hooks"  # a public address literal: no DNS needed


async def program_a_records(people: People, make_client: Any) -> dict[str, Any]:
    """One real record of program A for each kind of id a path can carry."""
    newcomer = people.a[Role.NEWCOMER].membership_id
    mentor = people.a[Role.MENTOR].membership_id
    await newcomer_with_intake(newcomer)
    trained = await trained_mentor(mentor)
    first = await QuizAttempt.select(QuizAttempt.id).where(QuizAttempt.membership == mentor).first()
    attempt = await training.get_attempt(trained, first["id"])
    admin = await make_client()
    await admin.login(people.a[Role.ADMIN].username)
    endpoint = await admin.post(
        "/api/v1/webhook-endpoints", json={"label": "A's hook", "url": PUBLIC_WEBHOOK}
    )
    assert endpoint.status_code == 201, endpoint.text
    mentor_client = await make_client()
    await mentor_client.login(people.a[Role.MENTOR].username)
    notices = (await mentor_client.get("/api/v1/notifications")).json()
    event = await OutboxEvent.select(OutboxEvent.id).where(
        OutboxEvent.program == people.a[Role.ADMIN].program_id
    ).first()  # fmt: skip
    answers = best_answers(attempt.module_id, attempt.questions)
    journey = await _match_journey(people, make_client, mentor_client)
    asked = await mentor_client.post("/api/v1/self-care/conversation")
    assert asked.status_code == 201, asked.text
    conversation = await ConversationRequest.select(ConversationRequest.id).first()
    weights_version = await suggested_weights(people.a[Role.SUPERVISOR].program_id)
    return {
        **journey,
        "newcomer": newcomer,
        "mentor": mentor,
        "applicant": people.a_pending_mentor.membership_id,
        "attempt_id": attempt.id,
        "answers": answers,
        "notice_id": notices[0]["id"],
        "event_id": event["id"],
        "endpoint_id": endpoint.json()["id"],
        "conversation_id": conversation["id"],
        "weights_version": weights_version,
    }


async def _match_journey(people: People, make_client: Any, mentor: Any) -> dict[str, int]:
    """A's newcomer asks, A's supervisor approves, A's mentor accepts: one record of each kind."""
    newcomer = await make_client()
    await newcomer.login(people.a[Role.NEWCOMER].username)
    asked = await newcomer.post("/api/v1/match-requests")
    assert asked.status_code == 201, asked.text
    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    [proposal] = (await supervisor.get("/api/v1/proposals")).json()
    approved = await supervisor.post(f"/api/v1/proposals/{proposal['id']}/approve", json={})
    assert approved.status_code == 200, approved.text
    [offer] = (await mentor.get("/api/v1/offers")).json()
    accepted = await mentor.post(f"/api/v1/offers/{offer['id']}/accept")
    assert accepted.status_code == 200, accepted.text
    concern = await newcomer.post(
        "/api/v1/concerns",
        json={"category": "communication", "match_id": accepted.json()["id"]},
    )
    assert concern.status_code == 201, concern.text
    return {
        "concern_id": concern.json()["id"],
        "request_id": asked.json()["id"],
        "proposal_id": proposal["id"],
        "offer_id": offer["id"],
        "match_id": accepted.json()["id"],
    }


def _member_for(path: str) -> str:
    """Which of program A's members a `{membership_id}` names on this path."""
    if path.endswith("/approve"):
        return "applicant"
    if "/newcomers/" in path or path.endswith("/status"):
        return "newcomer"
    return "mentor"


def _url(path: str, records: dict[str, Any]) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in SHARED_PARAMETERS:
            return SHARED_PARAMETERS[name]
        if name == "membership_id":
            return str(records[_member_for(path)])
        assert name in records, f"{path}: give program A a real record for {{{name}}}"
        return str(records[name])

    return PARAMETER.sub(fill, path)


def _body(method: str, path: str, records: dict[str, Any]) -> dict[str, Any]:
    """A valid body where the route takes one, so the answer is about the record, not the form."""
    answers = records["answers"]
    if path.endswith("/status"):
        return {"json": {"status": "active"}}
    key = "json" if path.startswith("/api/") else "data"
    if path.endswith("/decline") and ("/members/" in path or "/offers/" in path):
        return {key: {"reason": "Our mentor places are full this season."}}
    if "/proposals/" in path:
        return {key: {"note": "Another mentor fits better."} if path.endswith("/decline") else {}}
    if path.endswith("/end"):
        return {key: {"reason": "completed"}}
    if "/concerns/" in path:
        concern_bodies = {
            "notes": {"note": "Talked it through."},
            "act": {"action": "pause_mentor"},
            "close": {"outcome": "no_action_needed"},
        }
        return {key: concern_bodies.get(path.rsplit("/", 1)[-1], {})}
    if path.endswith("/unlock"):
        return {key: {"remediation": "supervision_conversation"}}
    if path == "/api/v1/training/attempts/{attempt_id:int}/submit":
        return {"json": {"answers": answers}}
    if method == "POST" and path == "/mentor/training/attempts/{attempt_id:int}":
        return {"data": {f"answer-{qid}": str(choice) for qid, choice in answers.items()}}
    return {}


def routes_with_program_ids(app: Litestar) -> dict[tuple[str, str], set[Role]]:
    """Every guarded route whose path names a program's record, with the roles it admits."""
    return {
        key: declared_roles(handler)
        for key, handler in served_routes(app).items()
        if not handler.opt.get(PUBLIC_OPT_KEY)
        and set(PARAMETER.findall(key[1])) - set(SHARED_PARAMETERS)
    }


async def test_program_b_gets_404_for_every_record_of_program_a(
    app: Litestar, make_client, people
) -> None:
    routes = routes_with_program_ids(app)
    assert len(routes) >= 15, "the route scan found too little"
    records = await program_a_records(people, make_client)
    clients = {}
    for label in ("a", "b"):
        for role in Role:
            client = await make_client()
            await client.login(getattr(people, label)[role].username)
            clients[label, role] = client
    failures = []
    for (method, path), roles in sorted(routes.items()):
        url = _url(path, records)
        body = _body(method, path, records)
        # B first: a control call by A may change the record (approve, disable, submit).
        for role in sorted(roles):
            response = await clients["b", role].request(
                method, url, headers={"accept": "application/json"}, **body
            )
            if response.status_code != 404:
                failures.append(f"B's {role} {method} {url}: {response.status_code}, not 404")
        controls = [
            (await clients["a", role].request(
                method, url, headers={"accept": "application/json"}, **body
            )).status_code
            for role in sorted(roles)
        ]  # fmt: skip
        if not any(code not in {401, 403, 404} for code in controls):
            failures.append(
                f"A's own {method} {url} found nothing ({controls}): fix program_a_records"
            )
    assert failures == []


# Routes that name records in their query string rather than their path (the audit trail's
# filters): program B's staff, filtering by program A's people and records, find nothing.
QUERY_FILTERED = {
    ("GET", "/api/v1/oversight/audit"),
    ("GET", "/staff/audit"),
    ("GET", "/staff/audit.csv"),
}
RECORD_QUERY_PARAMETERS = {"person", "record"}


def _parameters(handler: Any) -> set[str]:
    """The names a handler takes, directly or through its dependencies."""
    names = set(handler.parsed_fn_signature.parameters)
    for provider in handler.resolve_dependencies().values():
        names |= set(inspect.signature(provider.dependency).parameters)
    return names


def routes_with_record_filters(app: Litestar) -> set[tuple[str, str]]:
    """Every served route taking a query parameter that names a person or a record."""
    return {
        key
        for key, handler in served_routes(app).items()
        if RECORD_QUERY_PARAMETERS & _parameters(handler)
    }


async def test_program_b_finds_none_of_program_a_in_filtered_lists(
    app: Litestar, make_client, people
) -> None:
    assert routes_with_record_filters(app) == QUERY_FILTERED, "add the route to QUERY_FILTERED"
    records = await program_a_records(people, make_client)
    a_newcomer = await accounts.caller_for_membership(records["newcomer"])
    assert a_newcomer is not None
    # A's newcomer asked for a mentor, and A's supervisor approved proposal `proposal_id`.
    filters = {
        "person": {"person": a_newcomer.person_id},
        "record": {"entity": "match_proposal", "record": records["proposal_id"]},
    }
    failures = []
    for label, finds in (("b", False), ("a", True)):
        for role in (Role.SUPERVISOR, Role.ADMIN):
            client = await make_client()
            await client.login(getattr(people, label)[role].username)
            for key, params in filters.items():
                api = (await client.get("/api/v1/oversight/audit", params=params)).json()
                page = await client.get("/staff/audit", params=params)
                rows = (await client.get("/staff/audit.csv", params=params)).text.splitlines()
                found = (bool(api["items"]), "No events match" not in page.text, len(rows) > 1)
                if found != (finds, finds, finds):
                    failures.append(f"{label}'s {role} filtering by {key}: found {found}")
    assert failures == []
