"""Check-ins and mentor self-care over HTTP: logging, the flags supervision sees, gone quiet, quiet
hours, the monthly wellbeing check-in, a confidential return to use (and its gate), export and
deletion. The match is the journey's: Monday 17:00-20:00 shared in the mentor's zone (Chicago)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tandem.core.auth import Role
from tandem.core.tables import AuditEvent
from tandem.matches import services as matches
from tandem.notifications.tables import OutboxEvent
from tandem.safety import services as safety
from tandem.safety.care_tables import CheckIn, ConversationRequest, ReturnToUseReport
from tandem.safety.tables import Concern
from tests.integration.test_query_budget import recording
from tests.support.journey import caller_of, new_mentor, new_newcomer, ready_mentor, with_intake

pytestmark = pytest.mark.anyio

N, M, S = Role.NEWCOMER, Role.MENTOR, Role.SUPERVISOR
WORRY = "She mentioned her rent is overdue and she feels low"


async def active_match(people) -> int:  # type: ignore[no-untyped-def]
    """Program A's newcomer matched with program A's mentor, through the journey's services."""
    mentor = await ready_mentor(people.a[M].membership_id)
    newcomer = await with_intake(people.a[N].membership_id)
    staff = await caller_of(people.a[S].membership_id)
    await matches.request_mentor(newcomer)
    [proposal] = await matches.review_queue(staff)
    await matches.approve_proposal(staff, proposal.id)
    [offer] = await matches.my_offers(mentor)
    return (await matches.accept_offer(mentor, offer.id)).id


async def signed_in(make_client, member):  # type: ignore[no-untyped-def]
    client = await make_client()
    await client.login(member.username)
    return client


def check_in(match_id: int, day, start: str = "18:00", **changes):  # type: ignore[no-untyped-def]
    return {
        "match_id": match_id,
        "contact_date": day.isoformat(),
        "start_time": start,
        "minutes": 30,
        "channel": "video",
        "topics": ["general"],
        **changes,
    }


async def test_a_check_in_inside_the_agreed_hours_raises_no_flag(make_client, people, frozen):
    match_id = await active_match(people)
    mentor = await signed_in(make_client, people.a[M])
    logged = await mentor.post("/api/v1/check-ins", json=check_in(match_id, frozen.today()))
    assert logged.status_code == 201, logged.text
    assert logged.json()["flags"] == []
    [mine] = (await mentor.get("/api/v1/check-ins")).json()
    assert mine["minutes"] == 30
    assert mine["topics"] == ["general"]
    supervisor = await signed_in(make_client, people.a[S])
    assert (await supervisor.get("/api/v1/check-ins/flags")).json() == []


async def test_contact_outside_the_hours_or_in_quiet_hours_is_flagged_for_supervision(
    make_client, people, frozen
):
    match_id = await active_match(people)
    mentor = await signed_in(make_client, people.a[M])
    late = await mentor.post("/api/v1/check-ins", json=check_in(match_id, frozen.today(), "23:15"))
    assert late.json()["flags"] == ["outside_agreed_hours"]
    # The mentor keeps 18:00-08:00 for themselves: 18:00 is no longer agreed, 17:00 still is.
    quiet = await mentor.put("/api/v1/self-care/quiet-hours", json={"start": 18, "end": 8})
    assert quiet.status_code == 200, quiet.text
    assert (quiet.json()["quiet_start"], quiet.json()["quiet_end"]) == (18, 8)
    evening = await mentor.post("/api/v1/check-ins", json=check_in(match_id, frozen.today()))
    assert evening.json()["flags"] == ["outside_agreed_hours"]
    early = await mentor.post(
        "/api/v1/check-ins", json=check_in(match_id, frozen.today(), "17:00", minutes=60)
    )
    assert early.json()["flags"] == []
    supervisor = await signed_in(make_client, people.a[S])
    flagged = (await supervisor.get("/api/v1/check-ins/flags")).json()
    assert [c["id"] for c in flagged] == [evening.json()["id"], late.json()["id"]]
    assert flagged[0]["mentor_name"] == "Mentor A"
    page = await supervisor.get("/staff/check-ins/flags")
    assert page.status_code == 200
    assert "Outside the agreed hours" in page.text
    events = await OutboxEvent.select(OutboxEvent.event_type).where(
        OutboxEvent.event_type == "safety.check_in_flagged"
    )
    assert len(events) == 2


async def test_a_sixth_contact_in_a_week_is_unusually_frequent(make_client, people, frozen):
    match_id = await active_match(people)
    mentor = await signed_in(make_client, people.a[M])
    flags = []
    for _ in range(6):
        logged = await mentor.post("/api/v1/check-ins", json=check_in(match_id, frozen.today()))
        flags.append(logged.json()["flags"])
    assert flags == [[]] * 5 + [["frequent_contact"]]


async def test_a_worry_note_reaches_supervisors_but_never_the_audit_or_the_outbox(
    make_client, people, frozen
):
    match_id = await active_match(people)
    mentor = await signed_in(make_client, people.a[M])
    body = check_in(match_id, frozen.today(), worried=True, note=WORRY)
    logged = await mentor.post("/api/v1/check-ins", json=body)
    assert logged.status_code == 201, logged.text
    supervisor = await signed_in(make_client, people.a[S])
    [line] = (await supervisor.get("/api/v1/check-ins/flags")).json()
    assert line["worried"]
    assert line["note"] == WORRY
    audit = await AuditEvent.select(AuditEvent.action, AuditEvent.detail)
    assert "check_in.notes_read" in {row["action"] for row in audit}
    assert WORRY not in json.dumps(audit, default=str)
    outbox = await OutboxEvent.select()
    assert outbox
    assert WORRY not in json.dumps(outbox, default=str)
    # The mentor's own list never shows the note back, and the newcomer cannot list check-ins.
    assert "note" not in (await mentor.get("/api/v1/check-ins")).json()[0]
    newcomer = await signed_in(make_client, people.a[N])
    assert (await newcomer.get("/api/v1/check-ins")).status_code == 403


async def test_bad_check_ins_are_refused_by_name(make_client, people, frozen):
    match_id = await active_match(people)
    mentor = await signed_in(make_client, people.a[M])
    today = frozen.today()
    cases = {
        "minutes": check_in(match_id, today, minutes=0),
        "channel": check_in(match_id, today, channel="carrier pigeon"),
        "start_time": check_in(match_id, today, start="25:00"),
        "topics": check_in(match_id, today, topics=[]),
    }
    for field, body in cases.items():
        refused = await mentor.post("/api/v1/check-ins", json=body)
        assert refused.status_code == 400, (field, refused.text)
        assert field in refused.text, refused.text
    future = await mentor.post("/api/v1/check-ins", json=check_in(match_id, today + timedelta(1)))
    assert future.status_code == 400
    assert "future" in future.text
    before = await mentor.post("/api/v1/check-ins", json=check_in(match_id, today - timedelta(1)))
    assert before.status_code == 400
    assert "before the match began" in before.text
    assert await CheckIn.count() == 0


async def test_only_the_matchs_own_mentor_may_log_for_it(make_client, people, frozen):
    match_id = await active_match(people)
    other = await new_mentor(people.a[M].program_id, "other-mentor")
    assert other.role is Role.MENTOR
    for client in (
        await signed_in(make_client, people.b[M]),
        await _client_for(make_client, "other-mentor"),
    ):
        refused = await client.post("/api/v1/check-ins", json=check_in(match_id, frozen.today()))
        assert refused.status_code == 404, refused.text
    await matches.end_match(await caller_of(people.a[N].membership_id), match_id, _completed())
    mentor = await signed_in(make_client, people.a[M])
    ended = await mentor.post("/api/v1/check-ins", json=check_in(match_id, frozen.today()))
    assert ended.status_code == 409


def _completed():  # type: ignore[no-untyped-def]
    return matches.EndReason.COMPLETED


async def _client_for(make_client, username: str):  # type: ignore[no-untyped-def]
    client = await make_client()
    await client.login(username)
    return client


async def test_a_match_goes_quiet_after_21_days_for_the_mentor_and_the_supervisor(
    make_client, people, frozen
):
    match_id = await active_match(people)
    program = people.a[M].program_id
    frozen.advance(timedelta(days=20))
    assert await safety.gone_quiet_matches(program) == []
    frozen.advance(timedelta(days=1))
    [quiet] = await safety.gone_quiet_matches(program)
    assert (quiet.match_id, quiet.mentor_id, quiet.newcomer_id) == (
        match_id,
        people.a[M].membership_id,
        people.a[N].membership_id,
    )
    assert (quiet.last_check_in, quiet.days_quiet) == (None, 21)
    mentor = await signed_in(make_client, people.a[M])
    supervisor = await signed_in(make_client, people.a[S])
    assert [q["match_id"] for q in (await mentor.get("/api/v1/check-ins/quiet")).json()] == [
        match_id
    ]
    staff_page = await supervisor.get("/staff/check-ins/quiet")
    assert staff_page.status_code == 200
    assert "Newcomer A" in staff_page.text
    assert "Gone quiet" in (await mentor.get("/mentor/check-ins")).text
    # Another mentor's quiet matches are not theirs to see.
    await new_mentor(program, "other-mentor")
    other = await _client_for(make_client, "other-mentor")
    assert (await other.get("/api/v1/check-ins/quiet")).json() == []
    # A check-in (Monday, the agreed evening) ends the quiet; 21 more days start it again.
    frozen.advance(timedelta(days=7))
    await mentor.post("/api/v1/check-ins", json=check_in(match_id, frozen.today()))
    assert await safety.gone_quiet_matches(program) == []
    frozen.advance(timedelta(days=21))
    [again] = await safety.gone_quiet_matches(program)
    assert again.last_check_in == frozen.today() - timedelta(days=21)
    assert again.days_quiet == 21


async def test_a_return_to_use_pauses_new_matches_without_penalty(make_client, people, frozen):
    program = people.a[M].program_id
    await ready_mentor(people.a[M].membership_id)
    mentor = await signed_in(make_client, people.a[M])
    assert people.a[M].membership_id in await matches.may_get_new_matches(program)
    assert "You can be matched" in (await mentor.get("/home")).text
    reported = await mentor.post("/api/v1/self-care/return-to-use", json={})
    assert reported.status_code == 201, reported.text
    assert reported.json()["conversation_asked"] is True
    assert any("988" in step for step in reported.json()["support_plan"])
    assert people.a[M].membership_id not in await matches.may_get_new_matches(program)
    # That mentor is never proposed: the newcomer who fits them best waits instead.
    newcomer = await with_intake(people.a[N].membership_id)
    staff = await caller_of(people.a[S].membership_id)
    await matches.request_mentor(newcomer)
    assert await matches.review_queue(staff) == []
    care = (await mentor.get("/api/v1/self-care")).json()
    assert care["new_matches_held_since"] is not None
    home = (await mentor.get("/home")).text
    assert "You can be matched" not in home, "the home page follows the mentor's own hold"
    assert "New matches are paused while you look after yourself" in home
    # Places left are the caseload's: the page never tells a hold from a concern apart.
    assert care["load"]["places_left"] == 2
    # Ready again (agreed with the supervisor): proposed once more.
    # Never a disciplinary record: no concern exists, and no concern list shows anything.
    assert await Concern.count() == 0
    supervisor = await signed_in(make_client, people.a[S])
    assert (await supervisor.get("/api/v1/concerns")).json() == []
    ready = await mentor.post("/api/v1/self-care/return-to-use/ready")
    assert ready.status_code == 200
    assert ready.json()["new_matches_held_since"] is None
    assert people.a[M].membership_id in await matches.may_get_new_matches(program)
    again = await mentor.post("/api/v1/self-care/return-to-use/ready")
    assert again.status_code == 409


async def test_supervisors_learn_only_that_a_mentor_asked_to_talk(make_client, people, frozen):
    await ready_mentor(people.a[M].membership_id)
    mentor = await signed_in(make_client, people.a[M])
    await mentor.post("/api/v1/self-care/return-to-use", json={"talk_to_supervisor": True})
    supervisor = await signed_in(make_client, people.a[S])
    [asked] = (await supervisor.get("/api/v1/self-care/conversations")).json()
    assert set(asked) == {"id", "mentor_id", "mentor_name", "asked_at", "held_at"}
    # No staff page, list or JSON says why; the trail and the outbox neither.
    for url in (
        "/staff/self-care/conversations",
        "/staff/mentors/paused",
        "/staff/check-ins/flags",
        "/api/v1/mentors/paused",
        "/staff/dashboard",  # the staff home
        "/staff/overview",
    ):
        seen = await supervisor.get(url)
        assert seen.status_code == 200, url
        assert "return to use" not in seen.text.lower()
        assert "return_to_use" not in seen.text
    trail = await AuditEvent.select(AuditEvent.action, AuditEvent.entity, AuditEvent.detail)
    outbox = await OutboxEvent.select()
    assert "return" not in json.dumps([trail, outbox], default=str)
    assert {"self_care.recorded", "self_care.conversation_requested"} <= {
        row["action"] for row in trail
    }
    # The staff can neither read nor change the mentor's self-care.
    for method, url in (("GET", "/api/v1/self-care"), ("POST", "/api/v1/self-care/return-to-use")):
        assert (await supervisor.request(method, url, json={})).status_code == 403
    held = await supervisor.post(f"/api/v1/self-care/conversations/{asked['id']}/held")
    assert held.status_code == 200
    assert held.json()["held_at"] is not None


async def test_no_other_mentor_or_newcomer_sees_a_mentors_self_care(make_client, people, frozen):
    await ready_mentor(people.a[M].membership_id)
    mentor = await signed_in(make_client, people.a[M])
    await mentor.post("/api/v1/self-care/return-to-use", json={"talk_to_supervisor": False})
    answers = {"rested": 1, "load": 2, "supported": 3, "recovery": 2}
    await mentor.post("/api/v1/self-care/wellbeing", json=answers)
    other = await new_mentor(people.a[M].program_id, "other-mentor")
    assert other.role is Role.MENTOR
    other_client = await _client_for(make_client, "other-mentor")
    theirs = (await other_client.get("/api/v1/self-care")).json()
    assert theirs["new_matches_held_since"] is None
    assert theirs["last_wellbeing"] is None
    exported = (await other_client.get("/api/v1/me/export")).json()
    assert exported["self_care"]["return_to_use_reports"] == []
    assert exported["self_care"]["wellbeing_check_ins"] == []
    newcomer = await signed_in(make_client, people.a[N])
    assert (await newcomer.get("/api/v1/self-care")).status_code == 403
    # A newcomer's download has the same parts, empty: nobody else's self-care is in it.
    theirs_too = (await newcomer.get("/api/v1/me/export")).json()["self_care"]
    assert all(part == [] for part in theirs_too.values()), theirs_too
    assert await ConversationRequest.count() == 0


async def test_the_monthly_wellbeing_check_in_can_prompt_a_conversation(
    make_client, people, frozen
):
    await ready_mentor(people.a[M].membership_id)
    mentor = await signed_in(make_client, people.a[M])
    assert (await mentor.get("/api/v1/self-care")).json()["wellbeing_due"] is True
    fine = {"rested": 4, "load": 4, "supported": 5, "recovery": 4}
    answered = await mentor.post("/api/v1/self-care/wellbeing", json=fine)
    assert answered.status_code == 201
    assert answered.json()["suggests_conversation"] is False
    assert (await mentor.get("/api/v1/self-care")).json()["wellbeing_due"] is False
    low = await mentor.post(
        "/api/v1/self-care/wellbeing", json={**fine, "load": 1, "talk_to_supervisor": True}
    )
    assert low.json() == {**low.json(), "suggests_conversation": True, "conversation_asked": True}
    assert await ConversationRequest.count() == 1
    refused = await mentor.post("/api/v1/self-care/wellbeing", json={**fine, "rested": 9})
    assert refused.status_code == 400
    assert "rested" in refused.text
    frozen.advance(timedelta(days=31))
    assert (await mentor.get("/api/v1/self-care")).json()["wellbeing_due"] is True


async def test_quiet_hours_need_both_ends(make_client, people, frozen):
    await ready_mentor(people.a[M].membership_id)
    mentor = await signed_in(make_client, people.a[M])
    half = await mentor.put("/api/v1/self-care/quiet-hours", json={"start": 21})
    assert half.status_code == 400
    assert "end" in half.text
    same = await mentor.put("/api/v1/self-care/quiet-hours", json={"start": 9, "end": 9})
    assert same.status_code == 400
    cleared = await mentor.put("/api/v1/self-care/quiet-hours", json={})
    assert cleared.status_code == 200
    assert cleared.json()["quiet_start"] is None


async def test_a_mentors_load_at_a_glance(make_client, people, frozen):
    match_id = await active_match(people)
    mentor = await signed_in(make_client, people.a[M])
    await mentor.post("/api/v1/check-ins", json=check_in(match_id, frozen.today()))
    load = (await mentor.get("/api/v1/self-care")).json()["load"]
    assert load == {"active_matches": 1, "places_left": 1, "check_ins_this_month": 1}


async def test_export_includes_check_ins_and_self_care_and_deletion_removes_them(
    make_client, people, frozen
):
    match_id = await active_match(people)
    mentor = await signed_in(make_client, people.a[M])
    await mentor.post(
        "/api/v1/check-ins", json=check_in(match_id, frozen.today(), worried=True, note=WORRY)
    )
    await mentor.post("/api/v1/self-care/return-to-use", json={})
    exported = (await mentor.get("/api/v1/me/export")).json()
    assert exported["check_ins"][0]["note"] == WORRY
    assert len(exported["self_care"]["return_to_use_reports"]) == 1
    assert len(exported["self_care"]["conversation_requests"]) == 1
    newcomer = await signed_in(make_client, people.a[N])
    theirs = (await newcomer.get("/api/v1/me/export")).json()
    assert [c["minutes"] for c in theirs["check_ins_with_me"]] == [30]
    assert WORRY not in json.dumps(theirs)
    deleted = await mentor.post("/api/v1/me/delete", json={"confirm": "delete my data"})
    assert deleted.status_code in (200, 204), deleted.text
    assert await CheckIn.count() == 0
    assert await ReturnToUseReport.count() == 0
    assert await ConversationRequest.count() == 0


# --- pages, submitted as a person does ---------------------------------------------------------


async def test_the_check_in_form_logs_and_shows_problems_beside_their_fields(
    make_client, people, frozen
):
    match_id = await active_match(people)
    mentor = await signed_in(make_client, people.a[M])
    page = await mentor.get("/mentor/check-ins")
    assert page.status_code == 200
    assert "Newcomer A" in page.text
    form = {
        "match_id": str(match_id),
        "contact_date": frozen.today().isoformat(),
        "start_time": "18:00",
        "minutes": "45",
        "channel": "phone",
        "topics": ["goals", "meetings"],
    }
    done = await mentor.post("/mentor/check-ins", data=form)
    assert done.status_code in (302, 303)
    assert done.headers["location"].endswith("done=logged")
    late = await mentor.post("/mentor/check-ins", data={**form, "start_time": "23:00"})
    assert late.headers["location"].endswith("done=flagged")
    refused = await mentor.post("/mentor/check-ins", data={**form, "minutes": "lots"})
    assert refused.status_code == 400
    assert 'id="minutes-error"' in refused.text
    assert 'value="lots"' in refused.text
    assert await CheckIn.count() == 2


async def test_the_self_care_forms(make_client, people, frozen):
    await ready_mentor(people.a[M].membership_id)
    mentor = await signed_in(make_client, people.a[M])
    assert "My load at a glance" in (await mentor.get("/mentor/self-care")).text
    saved = await mentor.post("/mentor/self-care/quiet-hours", data={"start": "21", "end": "7"})
    assert saved.headers["location"].endswith("done=quiet-hours")
    half = await mentor.post("/mentor/self-care/quiet-hours", data={"start": "21", "end": ""})
    assert half.status_code == 400
    assert 'id="end-error"' in half.text
    wellbeing = {"rested": "2", "load": "3", "supported": "4", "recovery": "4"}
    low = await mentor.post("/mentor/self-care/wellbeing", data=wellbeing)
    assert low.headers["location"].endswith("done=wellbeing-low")
    missing = await mentor.post("/mentor/self-care/wellbeing", data={"rested": "2"})
    assert missing.status_code == 400
    asked = await mentor.post("/mentor/self-care/conversation")
    assert asked.headers["location"].endswith("done=conversation")
    form = await mentor.get("/mentor/self-care/return-to-use")
    assert "no penalty" in form.text
    told = await mentor.post("/mentor/self-care/return-to-use", data={"talk_to_supervisor": "yes"})
    assert told.status_code == 200
    assert "A supportive plan" in told.text
    ready = await mentor.post("/mentor/self-care/ready")
    assert ready.headers["location"].endswith("done=ready")
    not_held = await mentor.post("/mentor/self-care/ready")
    assert not_held.status_code == 409
    supervisor = await signed_in(make_client, people.a[S])
    listed = await supervisor.get("/staff/self-care/conversations")
    assert "Mentor A" in listed.text
    [request] = await ConversationRequest.select(ConversationRequest.id)
    held = await supervisor.post(f"/staff/self-care/conversations/{request['id']}/held")
    assert held.headers["location"].endswith("done=held")


async def test_gone_quiet_reads_in_one_query(people, frozen, monkeypatch):  # type: ignore[no-untyped-def]
    """The dashboard's contract: one statement however many matches the program has."""
    await active_match(people)
    program = people.a[N].program_id
    await new_mentor(program, "second-mentor")
    second = await new_newcomer(program, "second-newcomer")
    staff = await caller_of(people.a[S].membership_id)
    await matches.request_mentor(second)
    [proposal] = await matches.review_queue(staff)
    await matches.approve_proposal(staff, proposal.id)
    chosen = await caller_of(proposal.best.mentor_id)
    [offer] = await matches.my_offers(chosen)
    await matches.accept_offer(chosen, offer.id)
    frozen.advance(timedelta(days=30))
    with recording(monkeypatch) as recorded:
        quiet = await safety.gone_quiet_matches(program)
    assert len(quiet) == 2
    assert len(recorded.statements) == 1


async def test_check_in_and_wellbeing_errors_use_the_pages_words(make_client, people, frozen):
    mentor = await signed_in(make_client, people.a[M])
    refused = await mentor.post("/api/v1/self-care/wellbeing", json={"load": 3})
    assert refused.status_code == 400
    assert "how rested and well you have felt" in refused.text
    assert "fill in rested" not in refused.text, "the field's label, not its code name"
