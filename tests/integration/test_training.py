"""The training track over HTTP: taking quizzes, retake waits, renewal, versions and the gate."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from markupsafe import escape

from tandem.accounts import services as accounts
from tandem.accounts.tables import Program
from tandem.core.auth import Caller, Role
from tandem.core.clock import clock
from tandem.core.tables import AuditEvent
from tandem.profiles import services as profiles
from tandem.profiles.schemas import MentorProfileUpdate, Slot
from tandem.training import services
from tandem.training.content import Track, current_track
from tandem.training.tables import ContentVersion, LessonVisit, QuizAttempt
from tests.conftest import FROZEN_AT

pytestmark = pytest.mark.anyio

START = FROZEN_AT


async def caller(membership_id: int) -> Caller:
    found = await accounts.caller_for_membership(membership_id)
    assert found is not None
    return found


def _shown(questions: Sequence[Any]) -> list[tuple[str, list[str]]]:
    """(id, options as shown) from an attempt's questions, as JSON dicts or as `QuizQuestion`."""
    return [
        (q["id"], q["options"]) if isinstance(q, dict) else (q.id, q.options) for q in questions
    ]


def best_answers(module_id: str, questions: Sequence[Any]) -> dict[str, int]:
    """The key, read from the content on disk (never from a response), as the positions the
    attempt showed the best options at (options are shuffled per attempt)."""
    module = current_track().module(module_id)
    assert module is not None
    return {
        qid: options.index(module.question(qid).best.text)  # type: ignore[union-attr]
        for qid, options in _shown(questions)
    }


def wrong_answers(module_id: str, questions: Sequence[Any]) -> dict[str, int]:
    return {qid: (index + 1) % 3 for qid, index in best_answers(module_id, questions).items()}


async def pass_module(who: Caller, module_id: str) -> None:
    attempt = await services.start_attempt(who, module_id)
    result = await services.submit_attempt(
        who, attempt.id, best_answers(module_id, attempt.questions)
    )
    assert result.state == "passed"


async def fail_module(who: Caller, module_id: str) -> None:
    attempt = await services.start_attempt(who, module_id)
    result = await services.submit_attempt(
        who, attempt.id, wrong_answers(module_id, attempt.questions)
    )
    assert result.state == "not_passed"


async def pass_track(who: Caller) -> None:
    for module in current_track().modules:
        await pass_module(who, module.id)


def _rationales_and_keys(module_id: str) -> list[str]:
    module = current_track().module(module_id)
    assert module is not None
    return [q.rationale for q in module.questions]


async def test_mentor_takes_a_module_over_the_api(client, people, frozen) -> None:
    mentor = people.a[Role.MENTOR]
    await client.login(mentor.username)
    track = (await client.get("/api/v1/training/modules")).json()
    assert track["total"] == 8
    assert track["current"] == 0
    statuses = {m["module_id"]: m for m in track["modules"]}
    assert statuses["mentor-role"]["status"] == "not_started"
    assert statuses["self-disclosure"]["status"] == "locked"
    assert statuses["self-disclosure"]["locked_reason"] == "prerequisites"

    lesson = (await client.get("/api/v1/training/modules/mentor-role")).json()
    assert '<div class="what-to-do">' in lesson["html"]
    # Reading records nothing; saying so does.
    assert lesson["module"]["status"] == "not_started"
    assert await LessonVisit.count() == 0
    read = await client.post("/api/v1/training/modules/mentor-role/read")
    assert read.status_code == 200, read.text
    assert read.json()["status"] == "in_progress"
    assert await LessonVisit.count() == 1

    started = await client.post("/api/v1/training/modules/mentor-role/attempts")
    assert started.status_code == 201
    quiz = started.json()
    assert quiz["state"] == "open"
    assert len(quiz["questions"]) == 6
    assert quiz["result"] is None
    # Nothing in the quiz says which option is best or why.
    assert "correct" not in started.text.lower()
    assert "best_option" not in started.text
    for rationale in _rationales_and_keys("mentor-role"):
        assert rationale[:60] not in started.text
    assert set(quiz["questions"][0]) == {"id", "stem", "critical", "options"}
    # Asking again returns the same open quiz instead of a fresh draw.
    again = (await client.post("/api/v1/training/modules/mentor-role/attempts")).json()
    assert again["id"] == quiz["id"]
    assert again["questions"] == quiz["questions"]

    answers = best_answers("mentor-role", quiz["questions"])
    url = f"/api/v1/training/attempts/{quiz['id']}/submit"
    # A partial sheet is refused, naming what is missing, and nothing is graded.
    first, *rest = quiz["questions"]
    partial = await client.post(url, json={"answers": {q["id"]: answers[q["id"]] for q in rest}})
    assert partial.status_code == 400
    assert f"Question 1 ({first['id']}) has no answer yet" in partial.json()["detail"]
    # Positions are integers: a string, or a digit that is not ASCII, is a clear 400.
    for wrong in ("2", "\u00b2", "\u2460"):
        sheet = {**answers, first["id"]: wrong}
        refused = await client.post(url, json={"answers": sheet})
        assert refused.status_code == 400, (wrong, refused.text)
        assert "answers" in refused.text
    assert (await client.get(f"/api/v1/training/attempts/{quiz['id']}")).json()["state"] == "open"
    submitted = await client.post(url, json={"answers": answers})
    assert submitted.status_code == 200, submitted.text
    result = submitted.json()
    assert result["state"] == "passed"
    assert result["result"]["right"] == 6
    assert all(f["rationale"] for f in result["result"]["feedback"])
    # Feedback speaks in the positions the mentor saw.
    for shown, feedback in zip(quiz["questions"], result["result"]["feedback"], strict=True):
        assert feedback["options"] == shown["options"]
        assert feedback["chosen"] == feedback["best_option"] == answers[shown["id"]]
    assert (await client.get(f"/api/v1/training/attempts/{quiz['id']}")).json()["state"] == "passed"

    track = (await client.get("/api/v1/training/modules")).json()
    passed = next(m for m in track["modules"] if m["module_id"] == "mentor-role")
    assert passed["status"] == "passed"
    assert passed["passed_version"] == current_track().modules[0].version
    assert passed["expires_at"].startswith("2028-01-05")
    assert await AuditEvent.exists().where(AuditEvent.action == "training.quiz_submitted")
    # A second submission of the same attempt is refused.
    resubmit = await client.post(
        f"/api/v1/training/attempts/{quiz['id']}/submit", json={"answers": answers}
    )
    assert resubmit.status_code == 409


async def test_quiz_page_shows_no_answer_before_submission(client, people, frozen) -> None:
    await client.login(people.a[Role.MENTOR].username)
    lesson = await client.get("/mentor/training/modules/overdose-response")
    assert lesson.status_code == 200
    assert "Please pass these modules first" in lesson.text  # the prerequisite comes first
    await pass_module(await caller(people.a[Role.MENTOR].membership_id), "mentor-role")
    lesson = await client.get("/mentor/training/modules/overdose-response")
    assert "Take the quiz" in lesson.text
    start = await client.post("/mentor/training/modules/overdose-response/quiz")
    assert start.status_code in {302, 303}
    quiz_url = start.headers["location"]
    page = await client.get(quiz_url)
    assert page.status_code == 200
    assert 'name="answer-' in page.text
    assert "Safety-critical" in page.text
    module = current_track().module("overdose-response")
    assert module is not None
    # Take out what the mentor must see (stems and options); nothing else may hint at the key.
    rest = page.text
    for question in module.questions:
        assert str(escape(question.rationale))[:60] not in page.text
        for text in (question.stem, *(o.text for o in question.options)):
            rest = rest.replace(str(escape(text)), "")
    assert "correct" not in rest.lower()
    assert "rationale" not in rest.lower()
    assert "(best answer)" not in rest

    attempt_id = int(quiz_url.rsplit("/", 1)[1])
    attempt = await services.get_attempt(
        await caller(people.a[Role.MENTOR].membership_id), attempt_id
    )
    keys = best_answers("overdose-response", attempt.questions)
    form = {f"answer-{q}": str(i) for q, i in keys.items()}
    # The form path refuses digits that are not ASCII (`str.isdigit` accepts them) with a 400.
    first = attempt.questions[0].id
    for wrong in ("\u00b2", "\u2460", "x"):
        refused = await client.post(quiz_url, data={**form, f"answer-{first}": wrong})
        assert refused.status_code == 400, wrong
    submitted = await client.post(quiz_url, data=form)
    assert submitted.status_code in {302, 303}
    result = await client.get(quiz_url)
    assert "passed" in result.text
    assert "(best answer)" in result.text
    shown = module.question(attempt.questions[0].id)
    assert shown is not None
    assert str(escape(shown.rationale))[:60] in result.text


async def test_a_critical_item_missed_fails_even_with_a_high_score(people, frozen) -> None:
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    await pass_module(mentor, "mentor-role")
    attempt = await services.start_attempt(mentor, "overdose-response")
    module = current_track().module("overdose-response")
    assert module is not None
    answers = best_answers("overdose-response", attempt.questions)
    critical = next(q.id for q in attempt.questions if q.critical)
    answers[critical] = (answers[critical] + 1) % 3
    result = await services.submit_attempt(mentor, attempt.id, answers)
    assert result.result is not None
    assert result.result.right == 5  # 83%: above the pass mark
    assert result.result.critical_missed == 1
    assert result.state == "not_passed"


async def test_retakes_need_review_then_a_wait_then_a_supervisor(
    client, make_client, people, frozen
) -> None:
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    module = "mentor-role"
    await fail_module(mentor, module)
    status = (await services.track_progress(mentor)).modules[0]
    assert status.needs_review
    assert not status.can_take_quiz
    await client.login(people.a[Role.MENTOR].username)
    refused = await client.post(f"/api/v1/training/modules/{module}/attempts")
    assert refused.status_code == 409
    assert "read the module again" in refused.json()["detail"]

    frozen.advance(timedelta(minutes=5))
    await services.mark_read(mentor, module)  # the review
    frozen.advance(timedelta(minutes=5))
    await fail_module(mentor, module)  # second try, straight after the review
    frozen.advance(timedelta(minutes=5))
    await services.mark_read(mentor, module)
    status = (await services.track_progress(mentor)).modules[0]
    assert status.failures == 2
    assert status.wait_until == START + timedelta(minutes=10, hours=24)
    assert (await client.post(f"/api/v1/training/modules/{module}/attempts")).status_code == 409

    frozen.advance(timedelta(hours=24))
    await fail_module(mentor, module)  # third try after the wait
    frozen.advance(timedelta(minutes=5))
    await services.mark_read(mentor, module)
    status = (await services.track_progress(mentor)).modules[0]
    assert status.status == "locked"
    assert status.locked_reason == "failures"
    assert not status.can_take_quiz

    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    report = (await supervisor.get("/api/v1/training/compliance")).json()
    row = next(m for m in report["mentors"] if m["membership_id"] == mentor.membership_id)
    assert row["state"] == "locked"
    assert row["locked_modules"] == [module]
    # Another program's supervisor cannot see or unlock this mentor.
    outsider = await make_client()
    await outsider.login(people.b[Role.SUPERVISOR].username)
    url = f"/api/v1/training/mentors/{mentor.membership_id}/modules/{module}/unlock"
    body = {"remediation": "supervision_conversation"}
    assert (await outsider.post(url, json=body)).status_code == 404
    assert (await supervisor.post(url, json={"remediation": "chat"})).status_code == 400
    unlocked = await supervisor.post(url, json=body)
    assert unlocked.status_code == 200, unlocked.text
    assert unlocked.json()["can_take_quiz"] is True
    assert (await supervisor.post(url, json=body)).status_code == 409
    event = await AuditEvent.select().where(AuditEvent.action == "training.unlocked").first()
    assert event is not None
    assert event["actor_id"] is not None

    # A fourth try within 90 days of the first is the last one until the first leaves the window,
    # reopening or not.
    await fail_module(mentor, module)
    frozen.advance(timedelta(minutes=5))
    await services.mark_read(mentor, module)
    status = (await services.track_progress(mentor)).modules[0]
    assert status.attempt_limit_until == START + timedelta(days=90)
    assert not status.can_take_quiz
    refused = await client.post(f"/api/v1/training/modules/{module}/attempts")
    assert refused.status_code == 409
    assert "4 times in 90 days" in refused.json()["detail"]
    shown = (await client.get("/api/v1/training/modules")).json()
    assert shown["modules"][0]["attempt_limit_until"] is not None
    frozen.advance(START + timedelta(days=90, minutes=1) - clock.now())
    await pass_module(mentor, module)


async def test_expiry_removes_eligibility_after_a_grace_for_existing_matches(
    people, frozen
) -> None:
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    program = mentor.program_id
    assert mentor.membership_id not in await services.eligible_mentor_ids(program)
    await pass_track(mentor)
    assert await services.eligible_mentor_ids(program) == {mentor.membership_id}
    assert not await services.in_grace_period(program, mentor.membership_id)

    # Eleven and a half months on: the overdose and suicide modules are due soon.
    frozen.set(START + timedelta(days=350))
    progress = await services.track_progress(mentor)
    due = {m.module_id for m in progress.modules if m.status == "expiring_soon"}
    assert due == {"overdose-response", "suicide-and-escalation"}
    assert progress.eligible

    # A year and a day on: they expired. No new matches; existing ones continue for 30 days.
    frozen.set(START + timedelta(days=366))
    assert mentor.membership_id not in await services.eligible_mentor_ids(program)
    assert await services.in_grace_period(program, mentor.membership_id)
    ends = (await services.grace_period_ends(program))[mentor.membership_id]
    assert ends == datetime(2027, 1, 5, 9, 0, tzinfo=UTC) + timedelta(days=30)
    progress = await services.track_progress(mentor)
    expired = [m for m in progress.modules if m.status == "expired"]
    assert {m.module_id for m in expired} == {"overdose-response", "suicide-and-escalation"}
    assert all(m.retake_reason == "renewal_due" and m.can_take_quiz for m in expired)
    frozen.set(ends + timedelta(minutes=1))
    assert not await services.in_grace_period(program, mentor.membership_id)

    # Renewing both modules restores eligibility.
    await pass_module(mentor, "overdose-response")
    await pass_module(mentor, "suicide-and-escalation")
    assert mentor.membership_id in await services.eligible_mentor_ids(program)
    # The gate can also answer for a moment in the past.
    assert mentor.membership_id in await services.eligible_mentor_ids(
        program, at=START + timedelta(days=10)
    )


async def test_program_settings_override_renewal_periods(people, frozen) -> None:
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    settings = await accounts.program_settings(mentor.program_id)
    changed = msgspec.structs.replace(
        settings, safety_module_renewal_months=6, full_track_renewal_months=36
    )
    await Program.update({Program.settings: msgspec.json.encode(changed).decode()}).where(
        Program.id == mentor.program_id
    )
    await pass_track(mentor)
    statuses = {m.module_id: m for m in (await services.track_progress(mentor)).modules}
    assert statuses["overdose-response"].expires_at == datetime(2026, 7, 5, 9, tzinfo=UTC)
    assert statuses["boundaries"].expires_at == datetime(2029, 1, 5, 9, tzinfo=UTC)


def _with_version(track: Track, module_id: str, version: int, material: bool) -> Track:
    modules = tuple(
        dataclasses.replace(m, version=version, material_change=material)
        if m.id == module_id
        else m
        for m in track.modules
    )
    return dataclasses.replace(track, modules=modules, by_id={m.id: m for m in modules})


async def test_material_changes_need_a_retake_and_wording_fixes_do_not(
    people, frozen, monkeypatch
) -> None:
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    program = mentor.program_id
    original = current_track()
    await pass_track(mentor)
    assert mentor.membership_id in await services.eligible_mentor_ids(program)

    base = original.module("boundaries").version  # type: ignore[union-attr]

    async def serve(version: int, material: bool) -> None:
        """Deploy a new version of the boundaries module: a restart registers it."""
        track = _with_version(original, "boundaries", version, material)
        monkeypatch.setattr(services, "current_track", lambda: track)
        await services.register_content_versions()

    async def boundaries() -> Any:
        progress = await services.track_progress(mentor)
        return next(m for m in progress.modules if m.module_id == "boundaries")

    frozen.advance(timedelta(days=1))
    await serve(base + 1, False)  # a wording fix: the earlier pass still counts
    status = await boundaries()
    assert status.status == "passed"
    assert status.passed_version == base

    frozen.advance(timedelta(days=1))
    await serve(base + 2, True)  # what a mentor must know changed
    status = await boundaries()
    assert status.status == "expired"
    assert status.retake_reason == "new_version"
    assert status.lapsed_at == clock.now()  # from its release, registered at start-up
    assert mentor.membership_id not in await services.eligible_mentor_ids(program)
    assert await services.in_grace_period(program, mentor.membership_id)

    await pass_module(mentor, "boundaries")
    frozen.advance(timedelta(days=1))
    await serve(base + 3, False)  # another wording fix after the retake
    status = await boundaries()
    assert status.status == "passed"
    assert status.passed_version == base + 2
    assert mentor.membership_id in await services.eligible_mentor_ids(program)
    # Going straight to a wording fix on top of the material version still remembers that it
    # was material: the history is kept in the database, one row per version.
    await serve(base + 4, False)
    await services.register_content_versions()  # a second process starting: no new rows
    assert (await boundaries()).passed_version == base + 2
    rows = await ContentVersion.count().where(ContentVersion.module_id == "boundaries")
    assert rows == 5


async def test_reading_pages_writes_no_training_rows(client, people, frozen) -> None:
    """GETs only read: no lesson visit, no content version, no attempt (issue 12)."""
    await client.login(people.a[Role.MENTOR].username)
    before = [await table.count() for table in (ContentVersion, LessonVisit, QuizAttempt)]
    for url in (
        "/mentor/training",
        "/mentor/training/modules/mentor-role",
        "/api/v1/training/modules",
        "/api/v1/training/modules/mentor-role",
        "/mentor/training/certificate",
        "/home",
    ):
        assert (await client.get(url)).status_code == 200, url
    after = [await table.count() for table in (ContentVersion, LessonVisit, QuizAttempt)]
    assert after == before
    assert before[0] == len(current_track().modules)  # registered once, at start-up


async def test_mark_as_read_is_a_form_on_the_lesson_page(client, people, frozen) -> None:
    """The deliberate step a retake needs, submitted as a person would from the page."""
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    await client.login(people.a[Role.MENTOR].username)
    await fail_module(mentor, "mentor-role")
    frozen.advance(timedelta(minutes=20))  # reading it again
    page = await client.get("/mentor/training/modules/mentor-role")
    assert "read the module again" in page.text  # the visit itself counts for nothing
    action = "/mentor/training/modules/mentor-role/read"
    assert f'action="{action}"' in page.text
    assert "Mark as read" in page.text
    field = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert field is not None
    marked = await client.post(action, data={"_csrf_token": field.group(1)})
    assert marked.status_code in {302, 303}
    page = await client.get(marked.headers["location"])
    assert "marked as read" in page.text
    assert "Take the quiz" in page.text
    assert (await services.track_progress(mentor)).modules[0].can_take_quiz


async def test_the_gate_needs_approval_training_and_no_pause(people, frozen) -> None:
    pending = await caller(people.a_pending_mentor.membership_id)
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    other = await caller(people.b[Role.MENTOR].membership_id)
    program = mentor.program_id
    for person in (pending, mentor, other):
        await pass_track(person)
    assert await services.eligible_mentor_ids(program) == {mentor.membership_id}
    assert await services.trained_mentor_ids(program) == {
        mentor.membership_id,
        pending.membership_id,
    }
    assert await services.eligible_mentor_ids(other.program_id) == {other.membership_id}
    # The one-mentor answer agrees with the program-wide one, and stays inside the program.
    assert await services.is_trained(program, pending.membership_id)
    assert not await services.is_trained(program, other.membership_id)
    assert not await services.is_trained(program, people.a[Role.NEWCOMER].membership_id)

    await profiles.save_mentor_profile(
        mentor,
        MentorProfileUpdate(
            recovery_start=datetime(2020, 1, 1).date(),
            pathways=["twelve_step"],
            languages=["en"],
            formats=["video"],
            gender="woman",
            timezone="America/Chicago",
            availability=[Slot(day=0, start="17:00", end="21:00")],
        ),
    )
    await profiles.set_paused(mentor, True)
    assert await services.eligible_mentor_ids(program) == set()
    await profiles.set_paused(mentor, False)
    assert await services.eligible_mentor_ids(program) == {mentor.membership_id}

    staff = await caller(people.a[Role.SUPERVISOR].membership_id)
    await accounts.approve_mentor(staff, pending.membership_id)
    assert await services.eligible_mentor_ids(program) == {
        mentor.membership_id,
        pending.membership_id,
    }
    await accounts.set_member_status(staff, mentor.membership_id, "inactive")
    assert await services.eligible_mentor_ids(program) == {pending.membership_id}
    assert not await services.is_trained(program, mentor.membership_id)


async def test_answers_are_checked_and_attempts_are_private(make_client, people, frozen) -> None:
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    attempt = await services.start_attempt(mentor, "mentor-role")
    other = await make_client()
    await other.login(people.b[Role.MENTOR].username)
    assert (await other.get(f"/api/v1/training/attempts/{attempt.id}")).status_code == 404
    own = await make_client()
    await own.login(people.a[Role.MENTOR].username)
    url = f"/api/v1/training/attempts/{attempt.id}/submit"
    unknown = await own.post(url, json={"answers": {"not-a-question": 0}})
    assert unknown.status_code == 400
    out_of_range = await own.post(url, json={"answers": {attempt.questions[0].id: 9}})
    assert out_of_range.status_code == 400
    extra = await own.post(url, json={"answers": {}, "score": 1})
    assert extra.status_code == 400
    assert (await own.get("/api/v1/training/modules/no-such-module")).status_code == 404
    # An empty sheet is refused (400, every question named), not graded as a failure.
    partial = await own.post(url, json={"answers": {}})
    assert partial.status_code == 400
    assert "Questions 1, 2, 3, 4, 5, 6" in partial.json()["detail"]
    assert (await services.get_attempt(mentor, attempt.id)).state == "open"


async def test_certificate_lists_modules_versions_and_expiry(client, people, frozen) -> None:
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    await client.login(people.a[Role.MENTOR].username)
    await pass_module(mentor, "mentor-role")
    partial = (await client.get("/api/v1/training/certificate")).json()
    assert partial["complete"] is False
    assert [m["module_id"] for m in partial["modules"]] == ["mentor-role"]
    await pass_track(mentor)
    certificate = (await client.get("/api/v1/training/certificate")).json()
    assert certificate["complete"] is True
    assert len(certificate["modules"]) == 8
    assert certificate["expires_at"].startswith("2027-01-05")
    page = await client.get("/mentor/training/certificate")
    assert page.status_code == 200
    assert "Certificate of completion" in page.text
    # Printing hides everything but the certificate (the rules live in the stylesheet: the
    # Content-Security-Policy allows no inline styles).
    assert 'class="card certificate"' in page.text
    assert "body:has(.certificate)" in (await client.get("/static/tandem.css")).text
    assert "Overdose" in page.text


async def test_supervisor_sees_compliance_as_json_and_page(make_client, people, frozen) -> None:
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    pending = await caller(people.a_pending_mentor.membership_id)
    await pass_track(mentor)
    await pass_module(pending, "mentor-role")
    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    report = (await supervisor.get("/api/v1/training/compliance")).json()
    assert report["counts"]["expiring_soon"] == 0
    assert report["counts"]["complete"] == 1
    assert report["counts"]["in_progress"] == 1
    rows = {m["membership_id"]: m for m in report["mentors"]}
    assert rows[mentor.membership_id]["eligible"] is True
    assert rows[pending.membership_id]["eligible"] is False
    assert people.b[Role.MENTOR].membership_id not in rows
    detail = await supervisor.get(f"/api/v1/training/mentors/{mentor.membership_id}")
    assert detail.json()["progress"]["complete"] is True
    newcomer = people.a[Role.NEWCOMER].membership_id
    assert (await supervisor.get(f"/api/v1/training/mentors/{newcomer}")).status_code == 404
    page = await supervisor.get("/staff/training")
    assert page.status_code == 200
    assert "Training compliance" in page.text

    clock.set(START + timedelta(days=366))
    report = (await supervisor.get("/api/v1/training/compliance")).json()
    assert report["counts"]["expired"] == 1
    row = next(m for m in report["mentors"] if m["membership_id"] == mentor.membership_id)
    assert row["in_grace_until"] is not None
    assert row["eligible"] is False


async def test_mentor_pages_show_the_track(client, people, frozen) -> None:
    await client.login(people.a[Role.MENTOR].username)
    page = await client.get("/mentor/training")
    assert page.status_code == 200
    assert "0 of 8 modules" in page.text
    home = await client.get("/home")
    assert "/mentor/training" in home.text
    lesson = await client.get("/mentor/training/modules/boundaries")
    assert '<div class="what-to-do">' in lesson.text
    assert "<script" not in lesson.text.split("<main", 1)[1]


async def test_training_records_are_in_the_mentors_export(people, frozen) -> None:
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    await pass_module(mentor, "mentor-role")
    exported = await services.export_training(mentor)
    [attempt] = exported["training"]["attempts"]
    assert (attempt["module_id"], attempt["passed"], attempt["content_version"]) == (
        "mentor-role", True, current_track().modules[0].version,
    )  # fmt: skip


async def test_completing_the_track_tells_the_supervisors(people, frozen) -> None:
    from tandem.notifications import services as notifications
    from tandem.notifications.tables import OutboxEvent

    mentor = await caller(people.a[Role.MENTOR].membership_id)
    supervisor = await caller(people.a[Role.SUPERVISOR].membership_id)
    modules = current_track().modules
    for module in modules[:-1]:
        await pass_module(mentor, module.id)
    before = {n.event_type for n in await notifications.list_notices(supervisor)}
    assert "training.track_completed" not in before
    await pass_module(mentor, modules[-1].id)
    notices = await notifications.list_notices(supervisor)
    assert "training.track_completed" in {n.event_type for n in notices}
    passes = await OutboxEvent.count().where(OutboxEvent.event_type == "training.module_passed")
    assert passes == len(modules)
