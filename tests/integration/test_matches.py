"""The match journey over HTTP: a newcomer asks, a supervisor approves an explained proposal, the
mentor accepts, both see the match; rematch, declines, lapses, the wait estimate and tenancy."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tandem.core.auth import Role
from tandem.core.tables import AuditEvent
from tandem.matches.tables import MatchProposal, MentorOffer
from tandem.notifications.tables import Notice, OutboxEvent
from tests.support.journey import new_mentor, ready_mentor, with_intake

pytestmark = pytest.mark.anyio


async def signed_in(make_client, username: str):  # type: ignore[no-untyped-def]
    client = await make_client()
    await client.login(username)
    return client


async def journey_people(make_client, people):  # type: ignore[no-untyped-def]
    """Program A's newcomer, supervisor and mentor, each signed in with a client of their own."""
    return tuple(
        [
            await signed_in(make_client, people.a[role].username)
            for role in (Role.NEWCOMER, Role.SUPERVISOR, Role.MENTOR)
        ]
    )


async def two_mentors_and_a_newcomer(people):  # type: ignore[no-untyped-def]
    """Program A's mentor and a second one (a weaker fit), both open; the newcomer's intake.
    Returns the second mentor."""
    await ready_mentor(people.a[Role.MENTOR].membership_id)
    second = await new_mentor(
        people.a[Role.MENTOR].program_id, "second-mentor", bio="Another mentor."
    )
    await with_intake(people.a[Role.NEWCOMER].membership_id)
    return second


async def ask(newcomer, supervisor) -> dict:  # type: ignore[no-untyped-def]
    """The newcomer asks for a mentor; the proposal the supervisors then see."""
    await newcomer.post("/api/v1/match-requests")
    return (await supervisor.get("/api/v1/proposals")).json()[0]


async def test_the_whole_journey_over_http(make_client, people, frozen) -> None:
    a = people.a
    await ready_mentor(a[Role.MENTOR].membership_id)
    await with_intake(a[Role.NEWCOMER].membership_id)
    newcomer, supervisor, mentor = await journey_people(make_client, people)

    asked = await newcomer.post("/api/v1/match-requests")
    assert asked.status_code == 201, asked.text
    assert asked.json()["status"] == "under_review"
    assert "cannot say yet" in asked.json()["wait"]["sentence"]
    again = await newcomer.post("/api/v1/match-requests")
    assert again.status_code == 409
    assert "under review" in again.json()["detail"]

    queue = (await supervisor.get("/api/v1/proposals")).json()
    assert len(queue) == 1
    proposal = queue[0]
    assert proposal["best"]["mentor_id"] == a[Role.MENTOR].membership_id
    best = proposal["best"]
    assert "Both follow SMART Recovery" in best["reasons"]
    # Mon 6-9 pm in New York is Mon 5-8 pm in Chicago: all three hours are shared.
    assert best["shared_hours"] == 3.0
    assert best["shared_grid"] == [[18, 19, 20], [], [], [], [], [], []]  # the newcomer's zone
    assert round(sum(c["points"] for c in best["contributions"]), 3) == round(best["score"], 3)
    assert "no_remaining_capacity" in best["rules_held"]
    assert proposal["weights"]["pathway"] == 3.0
    assert best["load"] == {"active": 0, "open_offers": 0, "limit": 2, "places_left": 2}

    approved = await supervisor.post(f"/api/v1/proposals/{proposal['id']}/approve", json={})
    assert approved.status_code == 200, approved.text
    twice = await supervisor.post(f"/api/v1/proposals/{proposal['id']}/approve", json={})
    assert twice.status_code == 409
    assert "approved" in twice.json()["detail"]
    assert (await newcomer.get("/api/v1/match-requests/mine")).json()["status"] == "offered"

    offers = (await mentor.get("/api/v1/offers")).json()
    assert len(offers) == 1
    assert offers[0]["newcomer_name"] == "Newcomer A"
    assert offers[0]["shared"] == {"pathways": ["smart_recovery"]}  # only what was agreed
    assert offers[0]["shared_grid"][0] == [17, 18, 19]  # in the mentor's own time zone
    accepted = await mentor.post(f"/api/v1/offers/{offers[0]['id']}/accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["partner_name"] == "Newcomer A"
    assert "hopes" not in accepted.json()["shared"]

    mine = (await newcomer.get("/api/v1/match-requests/mine")).json()
    assert mine["status"] == "matched"
    assert mine["match"]["partner_name"] == "Mentor A"
    assert mine["match"]["ways_to_meet"] == ["Video call"]
    assert mine["match"]["shared"] == {}
    assert mine["match"]["shared_grid"][0] == [18, 19, 20]

    actions = [
        r["action"] for r in await AuditEvent.select(AuditEvent.action).order_by(AuditEvent.id)
    ]
    for action in (
        "match.requested",
        "match.proposed",
        "match.proposal_approved",
        "match.offer_accepted",
    ):
        assert action in actions
    events = {r["event_type"] for r in await OutboxEvent.select(OutboxEvent.event_type)}
    assert {"matches.requested", "matches.proposal_waiting", "matches.offer_made",
            "matches.match_active", "matches.offer_accepted"} <= events  # fmt: skip
    told = await Notice.count().where(Notice.recipient == a[Role.NEWCOMER].membership_id)
    assert told >= 1


async def test_a_newcomer_asks_for_another_mentor_and_never_gets_the_first_again(
    make_client, people, frozen
) -> None:
    a = people.a
    first = a[Role.MENTOR].membership_id
    await ready_mentor(first)
    second = await new_mentor(a[Role.MENTOR].program_id, "second-mentor", bio="Another mentor.")
    await with_intake(a[Role.NEWCOMER].membership_id)
    newcomer, supervisor, mentor = await journey_people(make_client, people)
    proposal = await ask(newcomer, supervisor)
    assert proposal["best"]["mentor_id"] == first  # the better bio match
    assert [alt["mentor_id"] for alt in proposal["alternatives"]] == [second.membership_id]
    await supervisor.post(f"/api/v1/proposals/{proposal['id']}/approve", json={})
    offer = (await mentor.get("/api/v1/offers")).json()[0]
    await mentor.post(f"/api/v1/offers/{offer['id']}/accept")

    left = await newcomer.post("/api/v1/match-requests/mine/rematch")
    assert left.status_code == 200, left.text
    assert left.json()["status"] == "under_review"
    proposals = (await supervisor.get("/api/v1/proposals")).json()
    assert len(proposals) == 1
    assert proposals[0]["best"]["mentor_id"] == second.membership_id
    assert proposals[0]["alternatives"] == []
    # The mentor is told kindly, never why.
    ended = await mentor.get(f"/api/v1/matches/{offer['id']}")
    assert ended.json()["status"] == "ended"
    assert ended.json()["end_reason"] is None
    assert (await mentor.get("/api/v1/matches")).json() == []


async def test_the_mentor_declines_and_the_next_mentor_is_proposed(
    make_client, people, frozen
) -> None:
    second = await two_mentors_and_a_newcomer(people)
    newcomer, supervisor, mentor = await journey_people(make_client, people)
    proposal = await ask(newcomer, supervisor)
    await supervisor.post(f"/api/v1/proposals/{proposal['id']}/approve", json={})
    offer = (await mentor.get("/api/v1/offers")).json()[0]
    declined = await mentor.post(
        f"/api/v1/offers/{offer['id']}/decline", json={"reason": "A busy month at work"}
    )
    assert declined.status_code == 204, declined.text
    again = await mentor.post(f"/api/v1/offers/{offer['id']}/decline", json={})
    assert again.status_code == 409
    assert "declined" in again.json()["detail"]
    mine = (await newcomer.get("/api/v1/match-requests/mine")).json()
    assert mine["status"] == "under_review"
    assert "busy" not in str(mine)
    queue = (await supervisor.get("/api/v1/proposals")).json()
    assert [p["best"]["mentor_id"] for p in queue] == [second.membership_id]
    row = (
        await MentorOffer.select(MentorOffer.decline_reason)
        .where(MentorOffer.id == offer["id"])
        .first()
    )
    assert row["decline_reason"] == "A busy month at work"
    audit = await AuditEvent.select(AuditEvent.detail).where(
        AuditEvent.action == "match.offer_declined"
    )
    assert "busy" not in str(audit)


async def test_supervisor_chooses_an_alternative_or_declines_with_a_private_note(
    make_client, people, frozen
) -> None:
    a = people.a
    second = await two_mentors_and_a_newcomer(people)
    newcomer, supervisor, _ = await journey_people(make_client, people)
    proposal = await ask(newcomer, supervisor)
    stranger = await supervisor.post(
        f"/api/v1/proposals/{proposal['id']}/approve", json={"mentor_id": 99999}
    )
    assert stranger.status_code == 400
    assert stranger.json()["extra"]["field"] == "mentor_id"
    chosen = await supervisor.post(
        f"/api/v1/proposals/{proposal['id']}/approve", json={"mentor_id": second.membership_id}
    )
    assert chosen.status_code == 200, chosen.text
    offer = await MentorOffer.select().first()
    assert offer["mentor"] == second.membership_id
    row = await MatchProposal.select().first()
    assert row["chosen_mentor"] == second.membership_id
    assert row["reviewed_by"] == a[Role.SUPERVISOR].membership_id


async def test_declining_a_proposal_keeps_the_note_for_staff_and_requeues(
    make_client, people, frozen
) -> None:
    a = people.a
    await ready_mentor(a[Role.MENTOR].membership_id)
    await with_intake(a[Role.NEWCOMER].membership_id)
    newcomer, supervisor, _ = await journey_people(make_client, people)
    proposal = await ask(newcomer, supervisor)
    declined = await supervisor.post(
        f"/api/v1/proposals/{proposal['id']}/decline", json={"note": "They know each other"}
    )
    assert declined.status_code == 200, declined.text
    assert declined.json()["staff_note"] == "They know each other"
    mine = (await newcomer.get("/api/v1/match-requests/mine")).json()
    assert mine["status"] == "waiting"
    assert "know each other" not in str(mine)
    audit = (
        await AuditEvent.select(AuditEvent.detail)
        .where(AuditEvent.action == "match.proposal_declined")
        .output(load_json=True)
    )
    assert audit[0]["detail"] == {"changed": ["staff_note"]}
    # Looking again never proposes the declined mentor for this request.
    retried = await supervisor.post(f"/api/v1/match-requests/{mine['id']}/retry")
    assert retried.json() == {"status": "waiting"}
    waiting = (await supervisor.get("/api/v1/match-requests/waiting")).json()
    assert waiting[0]["reasons"] == [["The newcomer left, blocked or reported this mentor", 1]]


async def test_no_feasible_mentor_is_told_kindly_and_staff_see_the_reasons(
    make_client, people, frozen
) -> None:
    a = people.a
    await ready_mentor(a[Role.MENTOR].membership_id)
    await new_mentor(a[Role.MENTOR].program_id, "second-mentor", languages=["en", "es"])
    await with_intake(a[Role.NEWCOMER].membership_id, languages=["pl"])
    newcomer, supervisor, _ = await journey_people(make_client, people)
    asked = await newcomer.post("/api/v1/match-requests")
    assert asked.status_code == 201
    assert asked.json()["status"] == "waiting"
    assert asked.json()["no_mentor_fits_yet"] is True
    page = await newcomer.get("/match", headers={"accept": "text/html"})
    assert "That is not about you" in page.text
    waiting = (await supervisor.get("/api/v1/match-requests/waiting")).json()
    assert waiting[0]["mentors_considered"] == 2
    assert ["No language in common", 2] in waiting[0]["reasons"]
    # A mentor who speaks Polish joins: looking again proposes them.
    polish = await new_mentor(a[Role.MENTOR].program_id, "polish-mentor", languages=["pl"])
    retried = await supervisor.post(f"/api/v1/match-requests/{waiting[0]['id']}/retry")
    assert retried.json() == {"status": "under_review"}
    queue = (await supervisor.get("/api/v1/proposals")).json()
    assert queue[0]["best"]["mentor_id"] == polish.membership_id


async def test_an_unanswered_offer_lapses_to_the_next_mentor(make_client, people, frozen) -> None:
    from tandem.matches import services

    second = await two_mentors_and_a_newcomer(people)
    newcomer, supervisor, _ = await journey_people(make_client, people)
    proposal = await ask(newcomer, supervisor)
    await supervisor.post(f"/api/v1/proposals/{proposal['id']}/approve", json={})
    frozen.advance(timedelta(hours=71))
    assert await services.lapse_offers() == 0
    frozen.advance(timedelta(hours=2))
    assert await services.lapse_offers() == 1
    assert await services.lapse_offers() == 0
    offer = await MentorOffer.select(MentorOffer.status).first()
    assert offer["status"] == "lapsed"
    queue = (await supervisor.get("/api/v1/proposals")).json()
    assert [p["best"]["mentor_id"] for p in queue] == [second.membership_id]
    assert (await newcomer.get("/api/v1/match-requests/mine")).json()["status"] == "under_review"


async def test_another_program_sees_none_of_it(make_client, people, frozen) -> None:
    a, b = people.a, people.b
    await ready_mentor(a[Role.MENTOR].membership_id)
    await with_intake(a[Role.NEWCOMER].membership_id)
    newcomer, supervisor, mentor = await journey_people(make_client, people)
    request = (await newcomer.post("/api/v1/match-requests")).json()
    proposal = (await supervisor.get("/api/v1/proposals")).json()[0]
    await supervisor.post(f"/api/v1/proposals/{proposal['id']}/approve", json={})
    offer = (await mentor.get("/api/v1/offers")).json()[0]
    match = (await mentor.post(f"/api/v1/offers/{offer['id']}/accept")).json()

    other_staff = await signed_in(make_client, b[Role.SUPERVISOR].username)
    other_mentor = await signed_in(make_client, b[Role.MENTOR].username)
    assert (await other_staff.get("/api/v1/proposals")).json() == []
    assert (await other_staff.get("/api/v1/matches")).json() == []
    for client, method, url, body in (
        (other_staff, "GET", f"/api/v1/proposals/{proposal['id']}", None),
        (other_staff, "POST", f"/api/v1/proposals/{proposal['id']}/decline", {}),
        (other_staff, "POST", f"/api/v1/match-requests/{request['id']}/retry", None),
        (other_staff, "GET", f"/api/v1/matches/{match['id']}", None),
        (other_staff, "POST", f"/api/v1/matches/{match['id']}/end", {"reason": "safety"}),
        (other_mentor, "POST", f"/api/v1/offers/{offer['id']}/accept", None),
        (other_staff, "GET", f"/staff/matches/proposals/{proposal['id']}", None),
    ):
        response = await client.request(method, url, json=body)
        assert response.status_code == 404, (url, response.text)
    # Inside program A, a mentor who is not part of the match cannot see it either.
    outsider = await new_mentor(a[Role.MENTOR].program_id, "outsider")
    stranger = await signed_in(make_client, "outsider")
    assert (await stranger.get(f"/api/v1/matches/{match['id']}")).status_code == 404
    assert outsider.membership_id != a[Role.MENTOR].membership_id


async def test_export_and_deletion_cover_the_journey(make_client, people, frozen) -> None:
    a = people.a
    await ready_mentor(a[Role.MENTOR].membership_id)
    await with_intake(a[Role.NEWCOMER].membership_id)
    newcomer, supervisor, mentor = await journey_people(make_client, people)
    proposal = await ask(newcomer, supervisor)
    await supervisor.post(f"/api/v1/proposals/{proposal['id']}/approve", json={})
    offer = (await mentor.get("/api/v1/offers")).json()[0]
    await mentor.post(f"/api/v1/offers/{offer['id']}/accept")

    exported = (await newcomer.get("/api/v1/me/export")).json()
    assert [r["status"] for r in exported["match_requests"]] == ["matched"]
    assert [m["status"] for m in exported["matches"]] == ["active"]
    before = await Notice.count().where(Notice.recipient == a[Role.NEWCOMER].membership_id)
    deleted = await mentor.post("/api/v1/me/delete", json={"confirm": "delete my data"})
    assert deleted.status_code == 204, deleted.text
    # The newcomer is told kindly, the request is closed and they may ask again.
    after = await Notice.count().where(Notice.recipient == a[Role.NEWCOMER].membership_id)
    assert after == before + 1
    mine = (await newcomer.get("/api/v1/match-requests/mine")).json()
    assert mine["status"] == "closed"
    assert (await newcomer.get("/api/v1/matches")).json() == []
