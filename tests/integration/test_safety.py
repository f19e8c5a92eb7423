"""Concerns over HTTP: reporting (with a rematch in the same step), escalating now, the queue
and its actions, the gate on new matches, patterns, overdue escalation exactly once, retention,
export and deletion, and what a mentor can never learn: who reported them."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import anyio
import pytest

from tandem.accounts import services as accounts
from tandem.core.auth import Role
from tandem.core.tables import AuditEvent
from tandem.matches import services as matches
from tandem.matches.tables import MentorMatch
from tandem.notifications.tables import Notice, OutboxEvent
from tandem.safety import services as safety
from tandem.safety.tables import Concern
from tests.support.builders import caller
from tests.support.journey import ready_mentor, with_intake

pytestmark = pytest.mark.anyio

SECRET_WORDS = "He asked me to lend him 200 dollars on Tuesday"


async def signed_in(make_client: Any, username: str) -> Any:
    client = await make_client()
    await client.login(username)
    return client


async def matched(make_client: Any, people: Any) -> tuple[Any, Any, Any, int]:
    """Program A's newcomer matched with A's mentor: (newcomer, supervisor, mentor, match id)."""
    await ready_mentor(people.a[Role.MENTOR].membership_id)
    await with_intake(people.a[Role.NEWCOMER].membership_id)
    newcomer, supervisor, mentor = [
        await signed_in(make_client, people.a[role].username)
        for role in (Role.NEWCOMER, Role.SUPERVISOR, Role.MENTOR)
    ]
    assert (await newcomer.post("/api/v1/match-requests")).status_code == 201
    [proposal] = (await supervisor.get("/api/v1/proposals")).json()
    approved = await supervisor.post(f"/api/v1/proposals/{proposal['id']}/approve", json={})
    assert approved.status_code == 200, approved.text
    [offer] = (await mentor.get("/api/v1/offers")).json()
    accepted = await mentor.post(f"/api/v1/offers/{offer['id']}/accept")
    assert accepted.status_code == 200, accepted.text
    return newcomer, supervisor, mentor, accepted.json()["id"]


async def report(client: Any, match_id: int, category: str = "money", **extra: Any) -> Any:
    response = await client.post(
        "/api/v1/concerns", json={"category": category, "match_id": match_id, **extra}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_newcomer_reports_and_is_told_what_happens_next_and_by_when(
    make_client, people, frozen
) -> None:
    newcomer, supervisor, _, match_id = await matched(make_client, people)
    filed = await report(newcomer, match_id, "money", description=SECRET_WORDS)
    assert filed["severity"] == "S2"
    assert filed["status"] == "open"
    assert filed["due_at"].startswith("2026-01-05T13:00")  # 4 hours after 09:00 UTC
    assert "same day" in filed["what_happens_next"]
    assert "reporter" not in json.dumps(filed)
    # Every supervisor hears of it, with the event type only.
    notices = await Notice.select().where(Notice.event_type == "safety.concern_filed")
    assert {n["recipient"] for n in notices} == {people.a[Role.SUPERVISOR].membership_id}
    # The supervisor reads it in full, and that reading is audited.
    concern = (await supervisor.get(f"/api/v1/concerns/{filed['id']}")).json()
    assert concern["reporter_membership_id"] == people.a[Role.NEWCOMER].membership_id
    assert concern["about_membership_id"] == people.a[Role.MENTOR].membership_id
    assert concern["description"] == SECRET_WORDS
    opened = await AuditEvent.select().where(AuditEvent.action == "concern.opened")
    assert [e["entity_id"] for e in opened] == [str(filed["id"])]
    # Free text never reaches the audit trail or the outbox.
    audit_rows = await AuditEvent.select(AuditEvent.detail)
    events = await OutboxEvent.select(OutboxEvent.body)
    assert "200 dollars" not in json.dumps(audit_rows) + json.dumps(events)


async def test_answers_and_urgency_raise_the_severity(make_client, people, frozen) -> None:
    newcomer, _, _, match_id = await matched(make_client, people)
    assert (await report(newcomer, match_id, "gifts"))["severity"] == "S4"
    assert (await report(newcomer, match_id, "gifts", answers=["over_cap"]))["severity"] == "S3"
    assert (await report(newcomer, match_id, "gifts", urgent=True))["severity"] == "S1"
    wrong = await newcomer.post(
        "/api/v1/concerns",
        json={"category": "gifts", "match_id": match_id, "answers": ["sexual_contact"]},
    )
    assert wrong.status_code == 400
    assert "answers" in wrong.text


async def test_reporting_needs_a_match_of_ones_own(make_client, people, frozen) -> None:
    newcomer, _, _, match_id = await matched(make_client, people)
    other = await signed_in(make_client, people.b[Role.NEWCOMER].username)
    response = await other.post(
        "/api/v1/concerns", json={"category": "money", "match_id": match_id}
    )
    assert response.status_code == 404
    nothing = await newcomer.post("/api/v1/concerns", json={"category": "money"})
    assert nothing.status_code == 400
    assert "match" in nothing.json()["detail"]


async def test_a_newcomer_asks_for_another_mentor_in_the_same_step(
    make_client, people, frozen
) -> None:
    newcomer, _, _, match_id = await matched(make_client, people)
    filed = await report(newcomer, match_id, "romantic", ask_for_another_mentor=True)
    assert filed["rematch_requested"] is True
    mine = (await newcomer.get("/api/v1/match-requests/mine")).json()
    assert mine["status"] != "matched"
    assert (await newcomer.get(f"/api/v1/matches/{match_id}")).json()["status"] == "ended"
    # That mentor is excluded for them from now on (and, with an open S2, held back anyway).
    proposals = await matches.review_queue(await caller(people.a[Role.SUPERVISOR].membership_id))
    assert all(p.best.mentor_id != people.a[Role.MENTOR].membership_id for p in proposals)


async def test_a_mentor_cannot_ask_for_a_rematch_through_a_concern(
    make_client, people, frozen
) -> None:
    _, _, mentor, match_id = await matched(make_client, people)
    response = await mentor.post(
        "/api/v1/concerns",
        json={
            "category": "newcomer_pressure",
            "match_id": match_id,
            "ask_for_another_mentor": True,
        },
    )
    assert response.status_code == 400


async def test_the_queue_orders_by_severity_then_deadline_and_flags_overdue(
    make_client, people, frozen
) -> None:
    newcomer, supervisor, _, match_id = await matched(make_client, people)
    s4 = await report(newcomer, match_id, "communication")
    frozen.advance(timedelta(minutes=1))
    s2_late = await report(newcomer, match_id, "money")
    s3 = await report(newcomer, match_id, "scope")
    frozen.advance(timedelta(hours=5))
    s2_new = await report(newcomer, match_id, "romantic")
    queue = (await supervisor.get("/api/v1/concerns")).json()
    assert [c["id"] for c in queue] == [s2_late["id"], s2_new["id"], s3["id"], s4["id"]]
    assert [c["overdue"] for c in queue] == [True, False, False, False]
    overdue = (await supervisor.get("/api/v1/concerns?overdue=true")).json()
    assert [c["id"] for c in overdue] == [s2_late["id"]]
    s2 = (await supervisor.get("/api/v1/concerns?severity=S2")).json()
    assert {c["id"] for c in s2} == {s2_late["id"], s2_new["id"]}
    page = await supervisor.get("/staff/concerns?overdue=1")
    assert page.status_code == 200
    assert f"Open concern {s2_late['id']}" in page.text
    assert f"Open concern {s2_new['id']}" not in page.text
    assert 'class="overdue"' in page.text
    s1_page = await supervisor.get("/staff/concerns?severity=S1")
    assert "No open concerns match this view" in s1_page.text
    summary = await safety.open_concern_summary(people.a[Role.SUPERVISOR].program_id)
    assert [(s.severity, s.open, s.overdue) for s in summary] == [
        ("S1", 0, 0),
        ("S2", 2, 1),
        ("S3", 1, 0),
        ("S4", 1, 0),
    ]


async def test_acknowledge_note_act_and_close_each_audited(make_client, people, frozen) -> None:
    newcomer, supervisor, _, match_id = await matched(make_client, people)
    filed = await report(newcomer, match_id, "money")
    url = f"/api/v1/concerns/{filed['id']}"
    assert (await supervisor.post(f"{url}/acknowledge")).json()["status"] == "acknowledged"
    assert (await supervisor.post(f"{url}/acknowledge")).status_code == 409
    noted = await supervisor.post(f"{url}/notes", json={"note": "Spoke with both; see file."})
    assert noted.json()["steps"][-1]["note"] == "Spoke with both; see file."
    acted = await supervisor.post(f"{url}/act", json={"action": "suspend_match"})
    assert acted.json()["status"] == "acting"
    assert (await newcomer.get(f"/api/v1/matches/{match_id}")).json()["status"] == "ended"
    retake = await supervisor.post(
        f"{url}/act", json={"action": "require_retake", "module_id": "boundaries"}
    )
    assert retake.json()["retake_module"] == "boundaries"
    bad = await supervisor.post(f"{url}/act", json={"action": "require_retake", "module_id": "x"})
    assert bad.status_code == 400
    closed = await supervisor.post(f"{url}/close", json={"outcome": "corrective_plan"})
    assert closed.json()["status"] == "closed"
    assert closed.json()["outcome"] == "corrective_plan"
    assert (await supervisor.post(f"{url}/notes", json={"note": "late"})).status_code == 409
    actions = [
        (e["action"], e["detail"])
        for e in await AuditEvent.select().where(AuditEvent.entity == "concern")
    ]
    names = [a for a, _ in actions]
    for expected in (
        "concern.filed",
        "concern.acknowledged",
        "concern.noted",
        "concern.acted",
        "concern.closed",
    ):
        assert expected in names
    assert "see file" not in json.dumps(actions)


async def test_rematching_the_newcomer_after_a_suspension(make_client, people, frozen) -> None:
    newcomer, supervisor, _, match_id = await matched(make_client, people)
    filed = await report(newcomer, match_id, "money")
    url = f"/api/v1/concerns/{filed['id']}"
    await supervisor.post(f"{url}/act", json={"action": "suspend_match"})
    rematch = await supervisor.post(f"{url}/act", json={"action": "rematch_newcomer"})
    assert rematch.status_code == 200, rematch.text
    mine = (await newcomer.get("/api/v1/match-requests/mine")).json()
    assert mine["status"] in {"waiting", "under_review"}


async def test_open_s1_or_s2_concerns_and_pauses_hold_new_matches(
    make_client, people, frozen
) -> None:
    newcomer, supervisor, _, match_id = await matched(make_client, people)
    program = people.a[Role.MENTOR].program_id
    mentor = people.a[Role.MENTOR].membership_id
    assert mentor in await matches.may_get_new_matches(program)
    small = await report(newcomer, match_id, "scope")  # S3: no hold
    assert mentor in await matches.may_get_new_matches(program)
    paused = await supervisor.post(
        f"/api/v1/concerns/{small['id']}/act", json={"action": "pause_mentor"}
    )
    assert paused.json()["mentor_paused"] is True
    assert mentor not in await matches.may_get_new_matches(program)
    await supervisor.post(
        f"/api/v1/concerns/{small['id']}/close", json={"outcome": "resolved_with_coaching"}
    )
    assert mentor in await matches.may_get_new_matches(program)
    serious = await report(newcomer, match_id, "money")  # S2: held until closed
    assert mentor not in await matches.may_get_new_matches(program)
    await supervisor.post(
        f"/api/v1/concerns/{serious['id']}/close", json={"outcome": "not_substantiated"}
    )
    assert mentor in await matches.may_get_new_matches(program)


async def test_a_required_retake_holds_until_the_module_is_passed_again(
    make_client, people, frozen
) -> None:
    from tests.support.builders import pass_module

    newcomer, supervisor, _, match_id = await matched(make_client, people)
    program = people.a[Role.MENTOR].program_id
    mentor = people.a[Role.MENTOR].membership_id
    filed = await report(newcomer, match_id, "scope")
    await supervisor.post(
        f"/api/v1/concerns/{filed['id']}/act",
        json={"action": "require_retake", "module_id": "boundaries"},
    )
    assert mentor not in await matches.may_get_new_matches(program)
    frozen.advance(timedelta(minutes=5))
    await pass_module(await caller(mentor), "boundaries")
    assert mentor in await matches.may_get_new_matches(program)


async def test_three_small_concerns_about_a_mentor_in_90_days_raise_an_s3(
    make_client, people, frozen
) -> None:
    newcomer, _, _, match_id = await matched(make_client, people)
    for days in (0, 30, 30):
        frozen.advance(timedelta(days=days))
        await report(newcomer, match_id, "communication")
    rows = await Concern.select().where(Concern.from_pattern == True)  # noqa: E712
    assert len(rows) == 1
    assert rows[0]["severity"] == "S3"
    assert rows[0]["about"] == people.a[Role.MENTOR].membership_id
    assert rows[0]["reporter"] is None
    frozen.advance(timedelta(days=1))
    await report(newcomer, match_id, "communication")  # a fourth: not yet three new ones
    assert len(await Concern.select().where(Concern.from_pattern == True)) == 1  # noqa: E712
    events = await OutboxEvent.select().where(OutboxEvent.event_type == "safety.pattern_raised")
    assert len(events) == 1


async def _overdue_concerns(make_client: Any, people: Any, frozen: Any) -> list[int]:
    newcomer, _, _, match_id = await matched(make_client, people)
    ids = [(await report(newcomer, match_id, c))["id"] for c in ("money", "romantic")]
    frozen.advance(timedelta(hours=5))
    return ids


async def test_overdue_concerns_escalate_to_every_supervisor_exactly_once(
    make_client, people, frozen
) -> None:
    program = people.a[Role.SUPERVISOR].program_id
    second = await accounts.create_member(
        program_id=program,
        username="second-supervisor",
        display_name="Second",
        password="a long test password",
        role=Role.SUPERVISOR,
    )
    ids = await _overdue_concerns(make_client, people, frozen)
    # Two loop ticks at once (as two processes would run them), then a later one.
    results: list[int] = []

    async def tick() -> None:
        results.append(await safety.escalate_overdue())

    async with anyio.create_task_group() as group:
        group.start_soon(tick)
        group.start_soon(tick)
    results.append(await safety.escalate_overdue())
    # The two ticks may share the work (PostgreSQL) or one may take it all (SQLite's one
    # writer); together they escalate each concern once, and the later tick finds nothing.
    assert sum(results[:2]) == 2
    assert results[2] == 0
    events = await OutboxEvent.select().where(OutboxEvent.event_type == "safety.concern_overdue")
    assert sorted(int(e["subject_id"]) for e in events) == sorted(ids)
    notices = await Notice.select().where(Notice.event_type == "safety.concern_overdue")
    assert sorted(n["recipient"] for n in notices) == sorted(
        [people.a[Role.SUPERVISOR].membership_id, second] * 2
    )


async def test_overdue_escalation_exactly_once_across_two_processes(
    make_client, people, frozen
) -> None:
    """Two `litestar safety run` processes at once against the same database."""
    import os
    import sys

    await _overdue_concerns(make_client, people, frozen)
    command = [sys.executable, "-m", "litestar", "--app", "tandem.app:create_app", "safety", "run"]
    env = {**os.environ, "TANDEM_OUTBOX_WORKER": "0", "TANDEM_MATCH_LOOP_SECONDS": "0"}
    outputs: list[str] = []

    async def run() -> None:
        done = await anyio.run_process(command, env=env, check=True)
        outputs.append(done.stdout.decode())

    async with anyio.create_task_group() as group:
        group.start_soon(run)
        group.start_soon(run)
    escalated = sorted(int(o.split("escalated: ")[1].split(";")[0]) for o in outputs)
    assert sum(escalated) == 2
    events = await OutboxEvent.select().where(OutboxEvent.event_type == "safety.concern_overdue")
    assert len(events) == 2


async def test_acknowledging_in_time_means_no_overdue_escalation(
    make_client, people, frozen
) -> None:
    newcomer, supervisor, _, match_id = await matched(make_client, people)
    filed = await report(newcomer, match_id, "money")
    await supervisor.post(f"/api/v1/concerns/{filed['id']}/acknowledge")
    frozen.advance(timedelta(hours=5))
    assert await safety.escalate_overdue() == 0


async def test_closed_concerns_go_after_the_programs_retention(make_client, people, frozen) -> None:
    newcomer, supervisor, _, match_id = await matched(make_client, people)
    old = await report(newcomer, match_id, "gifts")
    kept = await report(newcomer, match_id, "gifts")
    await supervisor.post(
        f"/api/v1/concerns/{old['id']}/close", json={"outcome": "no_action_needed"}
    )
    frozen.advance(timedelta(days=731))
    assert await safety.purge_closed() == 1
    remaining = [r["id"] for r in await Concern.select(Concern.id)]
    assert old["id"] not in remaining
    assert kept["id"] in remaining  # still open: never purged


async def test_export_holds_concerns_filed_never_concerns_about_me(
    make_client, people, frozen
) -> None:
    newcomer, _, mentor, match_id = await matched(make_client, people)
    await report(newcomer, match_id, "money", description=SECRET_WORDS)
    await report(mentor, match_id, "newcomer_pressure")
    mine = (await newcomer.get("/api/v1/me/export")).json()
    assert [c["category"] for c in mine["concerns_filed"]] == ["money"]
    assert mine["concerns_filed"][0]["description"] == SECRET_WORDS
    theirs = (await mentor.get("/api/v1/me/export")).json()
    assert [c["category"] for c in theirs["concerns_filed"]] == ["newcomer_pressure"]
    assert SECRET_WORDS not in json.dumps(theirs)


async def test_a_reporter_who_deletes_their_account_leaves_the_concern_anonymous(
    make_client, people, frozen
) -> None:
    newcomer, supervisor, _, match_id = await matched(make_client, people)
    filed = await report(newcomer, match_id, "money")
    deleted = await newcomer.post("/api/v1/me/delete", json={"confirm": "delete my data"})
    assert deleted.status_code in {200, 204}, deleted.text
    concern = (await supervisor.get(f"/api/v1/concerns/{filed['id']}")).json()
    assert concern["reporter_membership_id"] is None
    assert concern["reporter_name"] == ""
    assert concern["status"] == "open"


async def test_a_mentor_escalates_now_and_the_on_call_supervisor_is_alerted(
    make_client, people, frozen
) -> None:
    _, _, mentor, match_id = await matched(make_client, people)
    program = people.a[Role.SUPERVISOR].program_id
    on_call = await accounts.create_member(
        program_id=program,
        username="on-call",
        display_name="On call",
        password="a long test password",
        role=Role.SUPERVISOR,
    )
    admin = await caller(people.a[Role.ADMIN].membership_id)
    current = await accounts.program_settings(program)
    import msgspec

    await accounts.save_program_settings(
        admin, msgspec.structs.replace(current, on_call_supervisor_id=on_call)
    )
    page = await mentor.get("/mentor/escalate")
    assert page.text.index("First: make everyone safe") < page.text.index("Alert the on-call")
    response = await mentor.post(
        "/api/v1/concerns/urgent", json={"situation": "overdose", "match_id": match_id}
    )
    assert response.status_code == 201, response.text
    filed = response.json()
    assert filed["severity"] == "S1"
    assert filed["due_at"].startswith("2026-01-05T09:15")
    notices = await Notice.select().where(Notice.event_type == "safety.urgent_concern")
    assert [n["recipient"] for n in notices] == [on_call]
    [event] = await OutboxEvent.select().where(OutboxEvent.event_type == "safety.urgent_concern")
    assert event["severity"] == "S1"
    # The mentor escalating is not held back from new matches: the concern is about the newcomer.
    assert people.a[Role.MENTOR].membership_id in await matches.may_get_new_matches(program)


async def test_every_concern_flow_shows_the_crisis_resources(make_client, people, frozen) -> None:
    newcomer, supervisor, mentor, match_id = await matched(make_client, people)
    filed = await report(newcomer, match_id, "money")
    pages = [
        (newcomer, "/concerns/new"),
        (newcomer, f"/concerns/mine?filed={filed['id']}"),
        (mentor, "/concerns/new"),
        (mentor, "/mentor/escalate"),
        (supervisor, "/staff/concerns"),
        (supervisor, f"/staff/concerns/{filed['id']}"),
        (supervisor, "/concerns/new"),
    ]
    for client, url in pages:
        page = await client.get(url)
        assert page.status_code == 200, url
        main = page.text.split('<main id="main"', 1)[1]
        assert "988" in main, f"{url}: no crisis line inside the page"
        assert "911" in main, f"{url}: no emergency number inside the page"


async def test_every_mentor_page_has_the_one_tap_escalation(make_client, people, frozen) -> None:
    _, supervisor, mentor, _ = await matched(make_client, people)
    for url in ("/home", "/mentor/matches", "/mentor/training", "/notifications", "/privacy"):
        assert 'href="/mentor/escalate"' in (await mentor.get(url)).text, url
    assert 'href="/mentor/escalate"' not in (await supervisor.get("/staff/dashboard")).text


async def test_the_forms_submit_as_a_person_would(make_client, people, frozen) -> None:
    newcomer, supervisor, mentor, match_id = await matched(make_client, people)
    refused = await newcomer.post("/concerns/new", data={"match_id": str(match_id)})
    assert refused.status_code == 400
    assert "category" in refused.text
    assert "Please choose what the concern is about." in refused.text
    assert "must be one of" not in refused.text
    sent = await newcomer.post(
        "/concerns/new",
        data={
            "match_id": str(match_id),
            "category": "gifts",
            # Ticked under another category: ignored; under gifts: counts.
            "answers": ["romantic:sexual_contact", "gifts:over_cap"],
            "description": "A gift card.",
        },
        follow_redirects=True,
    )
    assert sent.status_code == 200
    assert "A supervisor will respond by" in sent.text
    [row] = await Concern.select()
    assert row["severity"] == "S3"
    escalated = await mentor.post(
        "/mentor/escalate",
        data={"situation": "suicide_risk", "match_id": str(match_id)},
        follow_redirects=True,
    )
    assert escalated.status_code == 200
    assert "on-call supervisor" in escalated.text
    queue = await supervisor.get("/staff/concerns")
    urgent = (await Concern.select().where(Concern.severity == "S1"))[0]["id"]
    assert queue.text.index(f"Open concern {urgent}") < queue.text.index(
        f"Open concern {row['id']}"
    )
    base = f"/staff/concerns/{row['id']}"
    for path, data in (
        ("acknowledge", {}),
        ("notes", {"note": "Talked it through."}),
        ("act", {"action": "pause_mentor", "module_id": ""}),
        ("close", {"outcome": "resolved_with_coaching", "note": ""}),
    ):
        response = await supervisor.post(f"{base}/{path}", data=data)
        assert response.status_code in {302, 303}, (path, response.text)
    page = await supervisor.get(base)
    assert "Was it worth more than a small token, or cash?" in page.text
    assert "Was there sexual contact" not in page.text
    assert "Resolved with coaching" in page.text
    assert "Talked it through." in page.text
    assert (await supervisor.post(f"{base}/act", data={"action": "nope"})).status_code == 400


async def test_the_shared_reads(make_client, people, frozen) -> None:
    newcomer, _, _, match_id = await matched(make_client, people)
    await report(newcomer, match_id, "money")
    await report(newcomer, match_id, "money")
    frozen.advance(timedelta(days=7))
    await report(newcomer, match_id, "gifts")
    program = people.a[Role.NEWCOMER].program_id
    since = frozen.now() - timedelta(days=30)
    weekly = await safety.weekly_concerns_by_category(program, since, frozen.now() + timedelta(1))
    assert [(str(week), category, n) for week, category, n in weekly] == [
        ("2026-01-05", "money", 2),
        ("2026-01-12", "gifts", 1),
    ]
    assert await safety.match_ids_with_concerns(program) == {match_id}
    assert await safety.match_ids_with_concerns(people.b[Role.NEWCOMER].program_id) == set()


async def test_program_b_staff_never_see_program_as_concerns(make_client, people, frozen) -> None:
    newcomer, _, _, match_id = await matched(make_client, people)
    filed = await report(newcomer, match_id, "money")
    other = await signed_in(make_client, people.b[Role.SUPERVISOR].username)
    assert (await other.get("/api/v1/concerns")).json() == []
    assert (await other.get(f"/api/v1/concerns/{filed['id']}")).status_code == 404


async def test_staff_report_about_a_mentor_without_a_match(make_client, people, frozen) -> None:
    await ready_mentor(people.a[Role.MENTOR].membership_id)
    supervisor = await signed_in(make_client, people.a[Role.SUPERVISOR].username)
    response = await supervisor.post(
        "/api/v1/concerns",
        json={
            "category": "confidentiality",
            "about_membership_id": people.a[Role.MENTOR].membership_id,
        },
    )
    assert response.status_code == 201, response.text
    foreign = await supervisor.post(
        "/api/v1/concerns",
        json={
            "category": "confidentiality",
            "about_membership_id": people.b[Role.MENTOR].membership_id,
        },
    )
    assert foreign.status_code == 404


async def test_staff_set_response_times_and_the_on_call_supervisor(
    make_client, people, frozen
) -> None:
    supervisor = await signed_in(make_client, people.a[Role.SUPERVISOR].username)
    current = (await supervisor.get("/api/v1/concerns/settings")).json()
    assert current["s1_response_minutes"] == 15
    assert current["closed_concern_retention_days"] == 730
    form = {
        "time_zone": "Europe/Berlin",
        "s1_response_minutes": "10",
        "s2_response_hours": "3",
        "s3_response_business_days": "2",
        "s4_response_business_days": "5",
        "on_call_supervisor_id": str(people.a[Role.SUPERVISOR].membership_id),
        "closed_concern_retention_days": "365",
    }
    saved = await supervisor.post("/staff/concerns/settings", data=form)
    assert saved.status_code in {302, 303}, saved.text
    page = await supervisor.get("/staff/concerns/settings?done=saved")
    assert 'value="Europe/Berlin"' in page.text
    settings = await accounts.program_settings(people.a[Role.SUPERVISOR].program_id)
    assert (settings.s1_response_minutes, settings.time_zone) == (10, "Europe/Berlin")
    assert settings.on_call_supervisor_id == people.a[Role.SUPERVISOR].membership_id
    refused = await supervisor.post(
        "/staff/concerns/settings",
        data={**form, "time_zone": "Mars/Olympus", "s1_response_minutes": "0"},
    )
    assert refused.status_code == 400
    assert "time zone" in refused.text or "s1" in refused.text.lower()
    not_staff = await supervisor.put(
        "/api/v1/concerns/settings",
        json={**{k: int(v) if v.isdigit() else v for k, v in form.items()},
              "on_call_supervisor_id": people.a[Role.MENTOR].membership_id},
    )  # fmt: skip
    assert not_staff.status_code == 400
    assert "supervisor" in not_staff.json()["detail"]


async def test_only_staff_name_a_person_and_only_of_their_own_program(
    make_client, people, frozen
) -> None:
    newcomer, supervisor, _, match_id = await matched(make_client, people)
    named = await newcomer.post(
        "/api/v1/concerns",
        json={"category": "money", "match_id": match_id, "about_membership_id": 1},
    )
    assert named.status_code == 400
    foreign = await supervisor.post(
        "/api/v1/concerns",
        json={
            "category": "money",
            "match_id": match_id,
            "about_membership_id": people.b[Role.MENTOR].membership_id,
        },
    )
    assert foreign.status_code == 404
    assert await Concern.count() == 0


async def test_escalation_says_who_and_steps_are_chosen_not_defaulted(
    make_client, people, frozen
) -> None:
    """The urgent form names the mentee (preselected when there is one), or says it is someone
    else; a supervisor's step or outcome is never taken from a list's first entry."""
    newcomer, supervisor, mentor, match_id = await matched(make_client, people)
    page = (await mentor.get("/mentor/escalate")).text
    assert f'<option value="{match_id}" selected>' in page
    assert 'value="none"' in page
    await mentor.post("/mentor/escalate", data={"situation": "overdose", "match_id": "none"})
    await mentor.post("/mentor/escalate", data={"situation": "abuse", "match_id": str(match_id)})
    rows = await Concern.select(Concern.match_id).order_by(Concern.id)
    assert [row["match_id"] for row in rows] == [None, match_id]
    base = f"/staff/concerns/{(await report(newcomer, match_id, 'money'))['id']}"
    page = (await supervisor.get(base)).text
    assert '<option value="" selected disabled>Choose a step</option>' in page
    assert '<option value="" selected disabled>Choose an outcome</option>' in page
    refused = await supervisor.post(f"{base}/act", data={"action": ""})
    assert refused.status_code == 400
    assert "Please choose a step to take." in refused.text
    assert 'action="/staff/concerns/' in refused.text, "the concern's page again, not a dead end"
    long_note = "We talked. " * 400
    kept = await supervisor.post(f"{base}/notes", data={"note": long_note})
    assert kept.status_code == 400
    assert "Please keep the note under 4,000 characters." in kept.text
    assert long_note.strip() in kept.text, "what the supervisor typed is kept"
    assert await MentorMatch.exists().where(
        (MentorMatch.id == match_id) & MentorMatch.ended_at.is_null()
    ), "an empty choice suspended nothing"


async def test_a_newcomer_without_a_match_is_told_before_filling_in_anything(
    make_client, people
) -> None:
    newcomer = await signed_in(make_client, people.a[Role.NEWCOMER].username)
    page = (await newcomer.get("/concerns/new")).text
    assert "you have no active match right now" in page
    assert 'action="/concerns/new"' not in page
    assert "988" in page, "the crisis numbers stay"
