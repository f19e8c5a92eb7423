"""The oversight figures against a known data set: the dashboard, the trends, their CSV and
charts, the lists behind the figures, and the program's health (issue 15)."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import datetime, timedelta

import pytest

from tandem.core.auth import Role
from tandem.core.database import transaction
from tandem.core.heartbeat import beat
from tandem.core.periodic import MATCHES_LOOP
from tandem.matches.services import places_changed
from tandem.matches.tables import MentorMatch, MentorRequest
from tandem.notifications.tables import Delivery, OutboxEvent
from tandem.safety.tables import Concern
from tandem.training.content import current_track
from tandem.training.tables import QuizAttempt
from tests.conftest import FROZEN_AT
from tests.support.builders import apply_as_mentor, caller, pass_track, trained_mentor
from tests.support.people import People

pytestmark = pytest.mark.anyio

HTML = {"accept": "text/html"}
NOW = FROZEN_AT  # a Monday, 09:00 UTC


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


async def request(
    people: People, *, asked: float, status: str, waited: float | None = None, program: str = "a"
) -> int:
    """A request by program `program`'s newcomer, asked `asked` days ago, matched `waited`
    days after asking when given."""
    newcomer = getattr(people, program)[Role.NEWCOMER]
    matched = days_ago(asked) + timedelta(days=waited) if waited is not None else None
    rows = await MentorRequest.insert(
        MentorRequest(
            newcomer=newcomer.membership_id,
            program=newcomer.program_id,
            status=status,
            created_at=days_ago(asked),
            updated_at=days_ago(asked),
            matched_at=matched,
        )
    ).returning(MentorRequest.id)
    return rows[0]["id"]


async def match(people: People, *, started: float, lasted: float | None) -> None:
    """A match in program A that started `started` days ago and ended `lasted` days later
    (still active when None)."""
    # The request behind it (not timed: the wait trend is tested on its own rows).
    request_id = await request(people, asked=started + 1, status="matched")
    # Written as the journey writes one: its places marker redrawn in the same transaction.
    async with transaction():
        await places_changed(people.a[Role.NEWCOMER].program_id)
        await MentorMatch.insert(
            MentorMatch(
                request=request_id,
                program=people.a[Role.NEWCOMER].program_id,
                newcomer=people.a[Role.NEWCOMER].membership_id,
                mentor=people.a[Role.MENTOR].membership_id,
                status="active" if lasted is None else "ended",
                started_at=days_ago(started),
                ended_at=None if lasted is None else days_ago(started) + timedelta(days=lasted),
                end_reason=None if lasted is None else "completed",
            )
        )


async def waiting_set(people: People) -> None:
    """Four newcomers waiting in A (1, 5, 10 and 40 days), one closed, one waiting in B."""
    await request(people, asked=1, status="waiting")
    await request(people, asked=5, status="under_review")
    await request(people, asked=10, status="offered")
    await request(people, asked=40, status="waiting")
    await request(people, asked=2, status="closed")
    await request(people, asked=3, status="waiting", program="b")


async def test_dashboard_counts_the_waiting_by_how_long(frozen, people, make_client) -> None:
    await waiting_set(people)
    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    figures = (await supervisor.get("/api/v1/oversight/dashboard")).json()
    assert figures["waiting"]["total"] == 4
    assert [b["count"] for b in figures["waiting"]["bands"]] == [1, 1, 1, 0, 1]
    assert (
        figures["waiting"]["bands"][1]["link"] == "/staff/dashboard/waiting?min_days=3&max_days=7"
    )
    # The list behind the "3 to 7 days" bar: exactly the one waiting 5 days.
    listed = await supervisor.get("/staff/dashboard/waiting?min_days=3&max_days=7", headers=HTML)
    assert listed.status_code == 200
    assert listed.text.count("<tr><td>") == 1
    assert ">5.0<" in listed.text
    everyone = await supervisor.get("/staff/dashboard/waiting", headers=HTML)
    assert everyone.text.count("<tr><td>") == 4


async def test_dashboard_page_draws_the_histogram_with_its_table(
    frozen, people, make_client
) -> None:
    await waiting_set(people)
    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    page = await supervisor.get("/staff/dashboard", headers=HTML)
    assert page.status_code == 200
    assert 'src="/staff/dashboard/waiting.svg?counts=1,1,1,0,1"' in page.text
    assert (
        "Under 3 days, 1; 3 to 7 days, 1; 1 to 2 weeks, 1; 2 to 4 weeks, 0; 4 weeks or more, 1."
        in page.text
    )
    assert '<a href="/staff/dashboard/waiting?min_days=28">1</a>' in page.text
    assert 'href="/staff/training"' in page.text


async def test_the_histogram_is_a_picture_of_the_counts_in_its_address(people, make_client) -> None:
    """Before: 16 kB of base64 inside every dashboard view, sent and escaped each time."""
    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    chart = await supervisor.get("/staff/dashboard/waiting.svg?counts=4,0,2,0,1")
    assert chart.status_code == 200
    assert chart.headers["content-type"].startswith("image/svg+xml")
    # The counts are the address: the browser may keep the picture, privately.
    assert chart.headers["cache-control"] == "private, max-age=31536000, immutable"
    assert chart.headers["content-security-policy"].startswith("default-src 'none';")
    assert "<script" not in chart.text
    labels = ["Under 3 days", "3 to 7 days", "1 to 2 weeks", "2 to 4 weeks", "4 weeks or more"]
    assert all(label in chart.text for label in labels)
    other = await supervisor.get("/staff/dashboard/waiting.svg?counts=0,0,0,0,9")
    assert other.text != chart.text
    # Every page around it still keeps out of caches.
    page = await supervisor.get("/staff/dashboard", headers=HTML)
    assert page.headers["cache-control"] == "no-store"
    assert "style-src 'self';" in page.headers["content-security-policy"]


@pytest.mark.parametrize("counts", ["", "1,2,3,4", "1,2,3,4,5,6", "1,2,-3,4,5", "1,2,x,4,5"])
async def test_the_histogram_refuses_counts_it_cannot_draw(
    counts: str, people, make_client
) -> None:
    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    answer = await supervisor.get(f"/staff/dashboard/waiting.svg?counts={counts}")
    assert answer.status_code == 400
    assert "5 whole numbers of newcomers, one per waiting band" in answer.text


async def test_only_staff_get_the_histogram(people, make_client) -> None:
    address = "/staff/dashboard/waiting.svg?counts=1,1,1,1,1"
    visitor = await make_client()
    assert (await visitor.get(address)).status_code == 401
    for role in (Role.NEWCOMER, Role.MENTOR):
        person = await make_client()
        await person.login(people.a[role].username)
        assert (await person.get(address)).status_code == 403, role


async def test_mentor_load_sorts_mentors_by_their_caseload(frozen, people, make_client) -> None:
    mentor = people.a[Role.MENTOR].membership_id
    await trained_mentor(mentor, capacity=1)
    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)

    async def load() -> dict[str, int]:
        figures = (await supervisor.get("/api/v1/oversight/dashboard")).json()
        return {f["state"]: f["count"] for f in figures["mentor_load"]}

    assert (await load())["idle"] == 1
    await match(people, started=3, lasted=None)
    assert (await load()) == {
        "at_capacity": 1, "with_room": 0, "idle": 0, "paused": 0, "not_taking": 0
    }  # fmt: skip
    listed = await supervisor.get("/staff/dashboard/mentors?load=at_capacity", headers=HTML)
    assert "Mentor A" in listed.text
    assert (
        "Mentor A"
        not in (await supervisor.get("/staff/dashboard/mentors?load=idle", headers=HTML)).text
    )
    bad = await supervisor.get("/staff/dashboard/mentors?load=busy")
    assert bad.status_code == 400
    assert "load" in bad.text


async def test_training_expiring_within_30_days(frozen, people, make_client) -> None:
    mentor = people.a[Role.MENTOR].membership_id
    await trained_mentor(mentor)
    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    figures = (await supervisor.get("/api/v1/oversight/dashboard")).json()
    assert figures["training"]["expiring"] == 0
    # Months on, the shortest renewal comes within 30 days (as the compliance page says).
    months = min(module.renewal_months for module in current_track().modules)
    frozen.advance(timedelta(days=months * 30.5 - 20))
    figures = (await supervisor.get("/api/v1/oversight/dashboard")).json()
    assert figures["training"]["expiring"] == 1
    report = (await supervisor.get("/api/v1/training/compliance")).json()
    [row] = [m for m in report["mentors"] if m["membership_id"] == mentor]
    assert datetime.fromisoformat(row["next_expiry"]) <= frozen.now() + timedelta(days=30)


async def matched_history(people: People) -> None:
    """Time to match: three matched in the week 3 weeks back (2, 4 and 9 days: median 4), one
    in the latest whole week (6 days). Retention: three matches started 100 days ago."""
    for waited in (2, 4, 9):  # matched on Monday 15 December, 21:00
        await request(people, asked=20.5 + waited, status="matched", waited=waited)
    await request(people, asked=6.5 + 6, status="matched", waited=6)  # Monday 29 December
    await match(people, started=100, lasted=None)  # still active: lasted 30 and 90 days
    await match(people, started=100, lasted=40)  # lasted 30, not 90
    await match(people, started=100, lasted=10)  # lasted neither
    await match(people, started=10, lasted=None)  # too young to tell


async def test_trends_figures_per_week(frozen, people, make_client) -> None:
    await matched_history(people)
    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    report = (await supervisor.get("/api/v1/oversight/trends?weeks=26")).json()
    assert report["weeks"] == 26
    assert report["until"] == "2026-01-12"  # this week included
    trends = {t["key"]: t for t in report["trends"]}
    wait = {row[0]: row[1:] for row in trends["time-to-match"]["rows"]}
    assert len(wait) == 26
    assert wait["2025-12-15"] == [4.0, 3]
    assert wait["2025-12-29"] == [6.0, 1]
    assert wait["2025-12-22"] == [None, 0]
    retention = {row[0]: row[1:] for row in trends["retention"]["rows"]}
    started_100 = (NOW - timedelta(days=100)).date()
    monday = (started_100 - timedelta(days=started_100.weekday())).isoformat()
    assert retention[monday] == [3, 66.7, 33.3]
    assert "4 matches started" in trends["retention"]["summary"]


async def test_trends_count_mentors_completing_the_track(frozen, people, make_client) -> None:
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    with frozen.frozen(days_ago(14)):
        await pass_track(mentor)
    # A mentor with one module passed has not completed the track: not counted.
    await QuizAttempt.insert(
        QuizAttempt(
            membership=people.a_pending_mentor.membership_id,
            program=people.a[Role.MENTOR].program_id,
            module_id=current_track().modules[0].id,
            content_version=1,
            started_at=days_ago(7),
            submitted_at=days_ago(7),
            passed=True,
        )
    )
    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    report = (await supervisor.get("/api/v1/oversight/trends")).json()
    assert report["weeks"] == 12
    [training] = [t for t in report["trends"] if t["key"] == "training"]
    completed = {row[0]: row[1] for row in training["rows"] if row[1]}
    assert completed == {"2025-12-22": 1}
    assert training["summary"].startswith("1 mentor completed")


async def test_trend_csv_holds_the_table(frozen, people, make_client) -> None:
    await matched_history(people)
    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    response = await supervisor.get("/staff/trends/download?trend=time-to-match&weeks=4")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "tandem-time-to-match-4-weeks.csv" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows == [
        ["Week starting", "Median days to a match", "Newcomers matched"],
        ["2025-12-15", "4.0", "3"],
        ["2025-12-22", "", "0"],
        ["2025-12-29", "6.0", "1"],
        ["2026-01-05", "", "0"],
    ]
    bad = await supervisor.get("/staff/trends/download?trend=weather&weeks=4")
    assert bad.status_code == 400
    assert "trend" in bad.text
    assert (await supervisor.get("/api/v1/oversight/trends?weeks=5")).status_code == 400


async def test_trends_page_shows_each_chart_with_words_and_table(
    frozen, people, make_client
) -> None:
    await matched_history(people)
    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    page = await supervisor.get("/staff/trends?weeks=4", headers=HTML)
    assert page.status_code == 200
    assert page.text.count('src="data:image/svg+xml;base64,') == 4
    assert page.text.count("<table>") == 4
    assert page.text.count("Download this table as CSV") == 4
    assert '<option value="4" selected>' in page.text
    assert "4 newcomers were matched" in page.text


async def test_health_reports_outbox_batch_and_loop(frozen, people, make_client) -> None:
    program = people.a[Role.ADMIN].program_id
    admin = await make_client()
    await admin.login(people.a[Role.ADMIN].username)
    before = (await admin.get("/api/v1/oversight/health")).json()
    assert [loop["last_tick"] for loop in before["loops"]] == [None, None, None, None]
    dead_before = before["outbox"]["dead"]
    event = await OutboxEvent.select(OutboxEvent.id).where(OutboxEvent.program == program).first()
    assert event is not None  # the mentor's approval, from `people`
    endpoint_rows = await admin.post(
        "/api/v1/webhook-endpoints", json={"label": "Hook", "url": "https://93.184.215.14/h"}
    )
    assert endpoint_rows.status_code == 201
    await Delivery.insert(
        Delivery(
            event=event["id"], endpoint=endpoint_rows.json()["id"], program=program, status="dead"
        )
    )
    await beat(MATCHES_LOOP, ok=True)
    await beat(MATCHES_LOOP, ok=True)
    after = (await admin.get("/api/v1/oversight/health")).json()
    assert after["outbox"]["dead"] == dead_before + 1
    matching, _, safety, _ = after["loops"]
    assert matching["last_tick"]["rounds"] == 2
    assert matching["seconds_since"] == 0
    assert safety["last_tick"] is None
    assert after["ok"] is False
    assert after["problems"] == [
        f"{dead_before + 1} notification deliveries gave up (dead letters)."
    ]
    page = await admin.get("/admin/health", headers=HTML)
    assert page.status_code == 200
    assert "2 rounds so far" in page.text
    assert "dead letters" in page.text


async def test_the_dashboard_is_the_staff_home(people, make_client) -> None:
    for role in (Role.SUPERVISOR, Role.ADMIN):
        staff = await make_client()
        await staff.login(people.a[role].username)
        home = await staff.get("/home", headers=HTML)
        assert home.status_code in {302, 303}
        assert home.headers["location"] == "/staff/dashboard"
        dashboard = await staff.get("/staff/dashboard", headers=HTML)
        assert 'href="/staff/overview">Mentor applications waiting: 1</a>' in dashboard.text
        assert ('href="/admin/health"' in dashboard.text) is (role is Role.ADMIN)
    newcomer = await make_client()
    await newcomer.login(people.a[Role.NEWCOMER].username)
    assert (await newcomer.get("/home", headers=HTML)).status_code == 200


async def test_the_applications_waiting_follow_sign_ups_and_decisions(people, make_client) -> None:
    """The count comes from the training gate's cached answer (the dashboard asks on every
    view): a mentor's sign-up and the decision on it each redraw it, here and in other processes."""
    staff = await make_client()
    await staff.login(people.a[Role.SUPERVISOR].username)
    waiting = 'href="/staff/overview">Mentor applications waiting: {}</a>'
    assert waiting.format(1) in (await staff.get("/staff/dashboard", headers=HTML)).text
    membership_id = await apply_as_mentor(await make_client())
    assert waiting.format(2) in (await staff.get("/staff/dashboard", headers=HTML)).text
    reason = {"reason": "The program is not taking new mentors this season."}
    declined = await staff.post(f"/api/v1/members/{membership_id}/decline", json=reason)
    assert declined.is_success, declined.text
    assert waiting.format(1) in (await staff.get("/staff/dashboard", headers=HTML)).text


async def concern(
    people: People, *, severity: str, category: str, filed: float, **row: object
) -> None:
    """A concern in program A (B with `program="b"`) filed `filed` days ago, due a day later."""
    program = people.b if row.pop("program", "a") == "b" else people.a
    # Written as safety writes one: the places marker (its match gate) redrawn with it.
    async with transaction():
        await places_changed(program[Role.ADMIN].program_id)
        await Concern.insert(
            Concern(
                program=program[Role.ADMIN].program_id,
                category=category,
                severity=severity,
                status=row.pop("status", "open"),
                filed_at=days_ago(filed),
                due_at=days_ago(filed) + timedelta(days=1),
                **row,
            )
        )


async def test_dashboard_concerns_overdue_first_and_quiet_matches(
    frozen, people, make_client
) -> None:
    await concern(people, severity="S2", category="money", filed=0.1)
    await concern(people, severity="S2", category="money", filed=0.2)
    await concern(people, severity="S4", category="communication", filed=3)  # overdue
    await concern(people, severity="S1", category="safety", filed=3, status="closed")
    await concern(people, severity="S1", category="safety", filed=3, program="b")
    await match(people, started=30, lasted=None)  # no check-in in 30 days: gone quiet
    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    figures = (await supervisor.get("/api/v1/oversight/dashboard")).json()
    assert [(c["severity"], c["open"], c["overdue"]) for c in figures["concerns"]] == [
        ("S4", 1, 1), ("S1", 0, 0), ("S2", 2, 0), ("S3", 0, 0)
    ]  # fmt: skip
    assert figures["concerns"][0]["link"] == "/staff/concerns?severity=S4"
    assert figures["concerns_overdue"] == 1
    assert figures["quiet"] == {"matches": 1, "link": "/staff/check-ins/quiet"}
    page = (await supervisor.get("/staff/dashboard", headers=HTML)).text
    assert (
        '<a href="/staff/concerns?overdue=1"><strong>1</strong> past their response deadline'
        in page
    )
    assert (
        '<a href="/staff/check-ins/quiet"><strong>1</strong> match with no recent check-in' in page
    )
    # The lists behind the figures answer.
    for link in (
        "/staff/concerns?severity=S4",
        "/staff/concerns?overdue=1",
        "/staff/check-ins/quiet",
    ):
        assert (await supervisor.get(link, headers=HTML)).status_code == 200, link


async def test_trends_count_concerns_by_category(frozen, people, make_client) -> None:
    await concern(people, severity="S2", category="money", filed=5)  # week of 29 December
    await concern(people, severity="S2", category="money", filed=6)
    await concern(people, severity="S3", category="romantic", filed=13)  # week of 22 December
    await concern(people, severity="S3", category="romantic", filed=13, program="b")
    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    response = await supervisor.get("/staff/trends/download?trend=concerns&weeks=4")
    rows = list(csv.reader(io.StringIO(response.text)))
    header, *weeks = rows
    assert len(header) == 3
    assert header[0] == "Week starting"
    assert [w[0] for w in weeks] == ["2025-12-15", "2025-12-22", "2025-12-29", "2026-01-05"]
    by_week = {w[0]: dict(zip(header[1:], map(int, w[1:]), strict=True)) for w in weeks}
    romantic, money = header[1], header[2]  # in the taxonomy's order
    assert by_week["2025-12-22"] == {romantic: 1, money: 0}
    assert by_week["2025-12-29"] == {romantic: 0, money: 2}


async def test_a_late_loop_is_a_problem(frozen, people, make_client, app) -> None:
    app.state.settings = dataclasses.replace(app.state.settings, match_loop_seconds=300)
    admin = await make_client()
    await admin.login(people.a[Role.ADMIN].username)
    assert (await admin.get("/api/v1/oversight/health")).json()["ok"] is True  # not yet ticked
    await beat(MATCHES_LOOP, ok=True)
    frozen.advance(timedelta(seconds=2 * 300 + 61))
    report = (await admin.get("/api/v1/oversight/health")).json()
    assert report["loops"][0]["stale"] is True
    assert report["problems"] == [
        "The matching (offer lapses, batch runs) loop has not ticked when it should have."
    ]
    await beat(MATCHES_LOOP, ok=False)
    report = (await admin.get("/api/v1/oversight/health")).json()
    assert report["problems"] == [
        "The matching (offer lapses, batch runs) loop's last round failed; see the service log."
    ]
