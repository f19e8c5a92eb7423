"""Every form of the match journey, submitted over HTTP as a person would."""

from __future__ import annotations

import re

import pytest

from tandem.core.auth import Role
from tandem.matches.tables import MatchProposal, MentorMatch, MentorOffer, MentorRequest
from tests.support.journey import new_mentor, ready_mentor, with_intake

pytestmark = pytest.mark.anyio
HTML = {"accept": "text/html"}


async def signed_in(make_client, username: str):  # type: ignore[no-untyped-def]
    client = await make_client()
    await client.login(username)
    return client


def redirected_to(response, path: str) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code in (302, 303) and response.headers["location"].startswith(path)


async def test_the_intake_reminder_only_for_those_without_one(make_client, people) -> None:
    newcomer = await signed_in(make_client, people.a[Role.NEWCOMER].username)
    assert "Fill in my intake" in (await newcomer.get("/match", headers=HTML)).text
    await with_intake(people.a[Role.NEWCOMER].membership_id)
    assert "Fill in my intake" not in (await newcomer.get("/match", headers=HTML)).text


async def test_the_journey_through_the_pages(make_client, people, frozen) -> None:
    a = people.a
    await ready_mentor(a[Role.MENTOR].membership_id)
    await new_mentor(a[Role.MENTOR].program_id, "second-mentor", bio="Another mentor.")
    await with_intake(a[Role.NEWCOMER].membership_id)
    newcomer = await signed_in(make_client, a[Role.NEWCOMER].username)
    supervisor = await signed_in(make_client, a[Role.SUPERVISOR].username)
    mentor = await signed_in(make_client, a[Role.MENTOR].username)

    page = await newcomer.get("/match", headers=HTML)
    assert 'action="/match/request"' in page.text
    asked = await newcomer.post("/match/request", headers=HTML)
    assert redirected_to(asked, "/match?done=asked")
    page = await newcomer.get("/match?done=asked", headers=HTML)
    assert "Waiting for review" in page.text
    assert "We cannot say yet how long" in page.text
    assert "988" in page.text

    home = await supervisor.get("/staff/overview", headers=HTML)
    assert "1 proposed match waiting for review" in home.text
    queue = await supervisor.get("/staff/matches", headers=HTML)
    assert "Proposed matches waiting for review (1)" in queue.text
    link = re.search(r'href="(/staff/matches/proposals/\d+)"', queue.text)
    assert link is not None
    detail = await supervisor.get(link.group(1), headers=HTML)
    assert "Proposed mentor: Mentor A" in detail.text
    assert "Both follow SMART Recovery" in detail.text
    assert "Alternative: Second-mentor" in detail.text
    assert "America/New_York time" in detail.text
    assert "18:00" in detail.text
    assert "Every hard rule held" in detail.text
    approved = await supervisor.post(f"{link.group(1)}/approve", data={}, headers=HTML)
    assert redirected_to(approved, "/staff/matches?done=approved")
    again = await supervisor.post(f"{link.group(1)}/approve", data={}, headers=HTML)
    assert again.status_code == 409
    assert "This proposal is approved" in again.text

    offers = await mentor.get("/mentor/matches", headers=HTML)
    assert "Would you mentor Newcomer A?" in offers.text
    assert "Recovery pathway(s)" in offers.text  # shared by the newcomer
    assert "<dd>SMART Recovery</dd>" in offers.text, "in words, not the stored code"
    assert "smart_recovery" not in offers.text
    assert "after work" not in offers.text  # hopes were not shared
    offer_id = (await MentorOffer.select(MentorOffer.id).first())["id"]
    accepted = await mentor.post(f"/mentor/offers/{offer_id}/accept", headers=HTML)
    assert redirected_to(accepted, "/mentor/matches?done=accepted")
    mentees = await mentor.get("/mentor/matches", headers=HTML)
    assert "Your mentee Newcomer A" in mentees.text

    home = await mentor.get("/home", headers=HTML)
    assert "My mentees" in home.text
    assert "Newcomer A" in home.text
    home = await newcomer.get("/home", headers=HTML)
    assert "Your mentor is <strong>Mentor A</strong>" in home.text
    page = await newcomer.get("/match", headers=HTML)
    assert "Your mentor is Mentor A" in page.text
    assert "Video call" in page.text
    assert "You share 3 hours a week" in page.text
    rematch = await newcomer.post("/match/rematch", headers=HTML)
    assert redirected_to(rematch, "/match?done=rematch")
    page = await newcomer.get("/match?done=rematch", headers=HTML)
    assert "will not be suggested to you again" in page.text
    assert "Waiting for review" in page.text


async def test_supervisor_forms_choose_decline_retry_and_end(make_client, people, frozen) -> None:
    a = people.a
    await ready_mentor(a[Role.MENTOR].membership_id)
    second = await new_mentor(a[Role.MENTOR].program_id, "second-mentor", bio="Another mentor.")
    await with_intake(a[Role.NEWCOMER].membership_id)
    newcomer = await signed_in(make_client, a[Role.NEWCOMER].username)
    supervisor = await signed_in(make_client, a[Role.SUPERVISOR].username)
    await newcomer.post("/match/request", headers=HTML)
    proposal_id = (await MatchProposal.select(MatchProposal.id).first())["id"]

    bad = await supervisor.post(
        f"/staff/matches/proposals/{proposal_id}/approve", data={"mentor_id": "x"}, headers=HTML
    )
    assert bad.status_code == 400
    assert "choose a mentor" in bad.text
    declined = await supervisor.post(
        f"/staff/matches/proposals/{proposal_id}/decline",
        data={"note": "They know each other from work"},
        headers=HTML,
    )
    assert redirected_to(declined, "/staff/matches?done=declined")
    detail = await supervisor.get(f"/staff/matches/proposals/{proposal_id}", headers=HTML)
    assert "They know each other from work" in detail.text

    request_id = (await MentorRequest.select(MentorRequest.id).first())["id"]
    retried = await supervisor.post(f"/staff/matches/requests/{request_id}/retry", headers=HTML)
    assert redirected_to(retried, "/staff/matches?done=retried")
    second_proposal = await MatchProposal.select().where(MatchProposal.status == "pending").first()
    assert second_proposal["mentor"] == second.membership_id

    chosen = await supervisor.post(
        f"/staff/matches/proposals/{second_proposal['id']}/approve",
        data={"mentor_id": str(second.membership_id)},
        headers=HTML,
    )
    assert redirected_to(chosen, "/staff/matches?done=approved")
    second_mentor = await signed_in(make_client, "second-mentor")
    offer_id = (await MentorOffer.select(MentorOffer.id).first())["id"]
    await second_mentor.post(f"/mentor/offers/{offer_id}/accept", headers=HTML)
    match_id = (await MentorMatch.select(MentorMatch.id).first())["id"]
    queue = await supervisor.get("/staff/matches", headers=HTML)
    assert f"End match #{match_id}" in queue.text
    ended = await supervisor.post(
        f"/staff/matches/{match_id}/end", data={"reason": "safety"}, headers=HTML
    )
    assert redirected_to(ended, "/staff/matches?done=ended")
    bad_reason = await supervisor.post(
        f"/staff/matches/{match_id}/end", data={"reason": "because"}, headers=HTML
    )
    assert bad_reason.status_code == 400
    assert "choose why" in bad_reason.text


async def test_mentor_declines_and_ends_through_forms(make_client, people, frozen) -> None:
    a = people.a
    await ready_mentor(a[Role.MENTOR].membership_id)
    await with_intake(a[Role.NEWCOMER].membership_id)
    newcomer = await signed_in(make_client, a[Role.NEWCOMER].username)
    supervisor = await signed_in(make_client, a[Role.SUPERVISOR].username)
    mentor = await signed_in(make_client, a[Role.MENTOR].username)

    async def offer_to_mentor() -> int:
        proposal = await MatchProposal.select().where(MatchProposal.status == "pending").first()
        await supervisor.post(f"/staff/matches/proposals/{proposal['id']}/approve", headers=HTML)
        offer = await MentorOffer.select().where(MentorOffer.status == "open").first()
        return int(offer["id"])

    await newcomer.post("/match/request", headers=HTML)
    offer_id = await offer_to_mentor()
    declined = await mentor.post(
        f"/mentor/offers/{offer_id}/decline", data={"reason": "Moving house"}, headers=HTML
    )
    assert redirected_to(declined, "/mentor/matches?done=declined")
    page = await mentor.get("/mentor/matches?done=declined", headers=HTML)
    assert "no penalty" in page.text
    assert "You have no offers or mentees right now" in page.text
    newcomer_page = await newcomer.get("/match", headers=HTML)
    assert "Moving house" not in newcomer_page.text
    assert "That is not about you" in newcomer_page.text  # no other mentor fits: kind words

    withdrawn = await newcomer.post("/match/withdraw", headers=HTML)
    assert redirected_to(withdrawn, "/match?done=withdrawn")
    # Declining one offer carries no penalty: a new request may propose the same mentor.
    await newcomer.post("/match/request", headers=HTML)
    latest = await MentorRequest.select().order_by(MentorRequest.id, ascending=False).first()
    assert latest["status"] == "under_review"


async def test_mentor_and_newcomer_end_forms(make_client, people, frozen) -> None:
    a = people.a
    await ready_mentor(a[Role.MENTOR].membership_id)
    await with_intake(a[Role.NEWCOMER].membership_id)
    newcomer = await signed_in(make_client, a[Role.NEWCOMER].username)
    supervisor = await signed_in(make_client, a[Role.SUPERVISOR].username)
    mentor = await signed_in(make_client, a[Role.MENTOR].username)

    async def match_up() -> int:
        await newcomer.post("/match/request", headers=HTML)
        proposal = await MatchProposal.select().where(MatchProposal.status == "pending").first()
        await supervisor.post(f"/staff/matches/proposals/{proposal['id']}/approve", headers=HTML)
        offer = await MentorOffer.select().where(MentorOffer.status == "open").first()
        await mentor.post(f"/mentor/offers/{offer['id']}/accept", headers=HTML)
        match = await MentorMatch.select().where(MentorMatch.status == "active").first()
        return int(match["id"])

    match_id = await match_up()
    ended = await mentor.post(
        f"/mentor/matches/{match_id}/end", data={"reason": "completed"}, headers=HTML
    )
    assert redirected_to(ended, "/mentor/matches?done=ended")
    page = await newcomer.get("/match", headers=HTML)
    assert 'action="/match/request"' in page.text  # may ask again

    match_id = await match_up()  # a mentor ending a match may be proposed again later
    ended = await newcomer.post(f"/match/{match_id}/end", headers=HTML)
    assert redirected_to(ended, "/match?done=ended")
    page = await newcomer.get("/match?done=ended", headers=HTML)
    assert "Thank you for the time you put in" in page.text


async def test_the_settings_form_saves_audits_and_names_a_bad_field(make_client, people) -> None:
    from tandem.accounts import services as accounts
    from tandem.core.tables import AuditEvent

    a = people.a
    supervisor = await signed_in(make_client, a[Role.SUPERVISOR].username)
    page = await supervisor.get("/staff/settings", headers=HTML)
    assert 'name="offer_hours" type="number" min="1" max="336" value="72"' in page.text
    assert 'name="batch_interval_minutes" type="number" min="0" max="10080" value="60"' in page.text
    assert "hopes bio" in page.text  # the weights, view only
    form = {
        "min_mentor_recovery_days": "365",
        "new_mentor_months": "6",
        "caseload_new_mentor": "1",
        "caseload_experienced_mentor": "3",
        "offer_hours": "48",
        "batch_interval_minutes": "30",
        "auto_approve_matches": "on",
        "auto_approve_min_score": "7.5",
        "crisis_resources": "Riverside warmline | 555-0100 | Evenings 6-11 pm",
        "ended_match_retention_days": "730",
    }
    saved = await supervisor.post("/staff/settings", data=form, headers=HTML)
    assert redirected_to(saved, "/staff/settings?done=saved")
    settings = await accounts.program_settings(a[Role.SUPERVISOR].program_id)
    assert (settings.offer_hours, settings.caseload_new_mentor, settings.auto_approve_matches) == (
        48,
        1,
        True,
    )
    assert settings.crisis_resources[0].contact == "555-0100"
    assert settings.batch_interval_minutes == 30
    home = await supervisor.get("/staff/overview", headers=HTML)
    assert "Riverside warmline" in home.text  # shown on every page of the program
    audit = (
        await AuditEvent.select(AuditEvent.detail)
        .where(AuditEvent.action == "program.settings_saved")
        .output(load_json=True)
    )
    assert {"offer_hours", "batch_interval_minutes"} <= set(audit[0]["detail"]["changed"])
    assert "555" not in str(audit)
    bad = await supervisor.post("/staff/settings", data={**form, "offer_hours": "0"}, headers=HTML)
    assert bad.status_code == 400
    assert "Hours a mentor has to answer an offer must be a whole number from 1 to 336." in bad.text
    assert 'value="0"' in bad.text
    other = await signed_in(make_client, people.b[Role.SUPERVISOR].username)
    page = await other.get("/staff/settings", headers=HTML)
    assert "555-0100" not in page.text
