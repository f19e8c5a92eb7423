"""A mentor's track cached per process (`training.services._track_of`, behind the program's
eligibility marker): a repeated view costs one small read, and no change, from this process or
another, nor the passing of time, ever leaves what the mentor or their supervisor sees stale.
Each step compares the cached track with one worked out afresh from the records, the way the
writes read it (`_mentor_states`, inside their transaction)."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from tandem.accounts import services as accounts
from tandem.core import changes
from tandem.core.auth import Caller, Role
from tandem.core.database import transaction
from tandem.profiles import services as profiles
from tandem.training import rules, services
from tandem.training.content import current_track
from tandem.training.rules import ModuleState
from tandem.training.schemas import TrackProgress
from tandem.training.tables import QuizAttempt
from tests.conftest import FROZEN_AT
from tests.integration.test_query_budget import recording
from tests.integration.test_safety import matched, report
from tests.integration.test_training import _with_version
from tests.support.builders import caller, fail_module, mentor_with_profile, pass_module, pass_track

pytestmark = pytest.mark.anyio


async def track(mentor: Caller) -> TrackProgress:
    """The cached track, after checking it against the records."""
    cached = await services.track_progress(mentor)
    context = await services._context(mentor.program_id, None)
    fresh = await services._mentor_states(context, mentor.program_id, mentor.membership_id)
    paused = mentor.membership_id in await profiles.paused_mentor_ids(mentor.program_id)
    assert cached.modules == fresh
    assert cached.eligible == rules.may_be_matched(mentor.status, paused, fresh)
    return cached


def state(progress: TrackProgress, module_id: str) -> ModuleState:
    return next(m for m in progress.modules if m.module_id == module_id)


async def test_a_repeated_view_costs_one_read_of_the_marker(people, frozen, monkeypatch) -> None:
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    await fail_module(mentor, "mentor-role")
    frozen.advance(timedelta(minutes=5))
    await services.mark_read(mentor, "mentor-role")  # which leaves the track cached
    services.forget_eligibility()
    # Worked out afresh: the marker, the settings, the records (one query over attempts,
    # lessons read and reopenings) and the pauses.
    with recording(monkeypatch) as recorded:
        first = await services.track_progress(mentor)
    assert len(recorded.statements) == 4, "\n".join(recorded.statements)
    assert first == await track(mentor)
    assert first.modules[0].failures == 1
    assert not first.modules[0].needs_review  # the lesson read came through the one query
    with recording(monkeypatch) as recorded:
        assert await services.track_progress(mentor) == first
        assert (await services.lesson(mentor, "mentor-role")).module == first.modules[0]
        assert (await services.certificate(mentor)).modules == []
    assert len(recorded.statements) == 3
    assert all("eligibility_marker" in sql for sql in recorded.statements)


async def test_every_kind_of_change_reaches_the_cached_track(make_client, people, frozen) -> None:
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    staff = await caller(people.a[Role.SUPERVISOR].membership_id)
    other = await caller(people.b[Role.MENTOR].membership_id)
    await mentor_with_profile(mentor.membership_id)
    module = "mentor-role"
    assert state(await track(mentor), module).status == "not_started"

    attempt = await services.start_attempt(mentor, module)  # an open attempt
    assert state(await track(mentor), module).open_attempt_id == attempt.id
    await fail_module(mentor, module)  # a failed attempt
    assert state(await track(mentor), module).needs_review
    await pass_track(other)  # another program's change leaves this one's track right
    frozen.advance(timedelta(minutes=5))
    await services.mark_read(mentor, module)  # the review
    assert state(await track(mentor), module).can_take_quiz
    for _ in range(2):
        await fail_module(mentor, module)
        frozen.advance(timedelta(days=1))
        await services.mark_read(mentor, module)
    assert state(await track(mentor), module).locked_reason == "failures"
    await services.unlock_module(staff, mentor.membership_id, module, "supervised_review")
    assert state(await track(mentor), module).locked_reason is None

    await pass_track(mentor)  # passes
    progress = await track(mentor)
    assert progress.complete
    assert progress.eligible
    await profiles.set_paused(mentor, True)  # a pause
    assert not (await track(mentor)).eligible
    await profiles.set_paused(mentor, False)
    assert (await track(mentor)).eligible

    # The program's settings: a one-month renewal of the safety modules lapses them at once
    # two months on (checked first with the time alone).
    frozen.advance(timedelta(days=61))
    assert (await track(mentor)).complete
    settings = await accounts.program_settings(mentor.program_id)
    await accounts.save_program_settings(
        staff, msgspec.structs.replace(settings, safety_module_renewal_months=1)
    )
    assert state(await track(mentor), "overdose-response").status == "expired"
    await accounts.save_program_settings(staff, settings)
    assert (await track(mentor)).complete

    # The supervisor's view of the mentor is the same track.
    supervised = await services.mentor_progress(staff, mentor.membership_id)
    assert supervised.progress.modules == (await track(mentor)).modules


async def test_time_alone_ends_a_cached_track(people, frozen, monkeypatch) -> None:
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    await pass_track(mentor)
    module = "overdose-response"
    assert state(await track(mentor), module).status == "passed"
    # The safety modules renew after twelve months and are due 30 days before.
    expiry = FROZEN_AT.replace(year=FROZEN_AT.year + 1)
    for moment, status in (
        (expiry - rules.EXPIRING_WINDOW, "expiring_soon"),
        (expiry, "expired"),
    ):
        frozen.set(moment - timedelta(minutes=1))
        with recording(monkeypatch) as recorded:
            before = state(await services.track_progress(mentor), module).status
        assert len(recorded.statements) == 1  # still the cached track
        frozen.set(moment)
        assert before != status
        assert state(await track(mentor), module).status == status


async def test_the_wait_before_a_third_try_ends_by_itself(people, frozen) -> None:
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    module = "mentor-role"
    for _ in range(2):
        await fail_module(mentor, module)
        frozen.advance(timedelta(minutes=5))
        await services.mark_read(mentor, module)
    waiting = state(await track(mentor), module)
    assert waiting.wait_until is not None
    assert not waiting.can_take_quiz
    frozen.set(waiting.wait_until)
    assert state(await track(mentor), module).can_take_quiz


async def test_a_clock_set_back_or_a_pass_recorded_later_is_shown_right(people, frozen) -> None:
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    frozen.set(FROZEN_AT + timedelta(days=10))
    await pass_track(mentor)
    assert (await track(mentor)).complete
    frozen.set(FROZEN_AT)  # before the passes: they do not count yet
    assert (await track(mentor)).current == 0
    frozen.set(FROZEN_AT + timedelta(days=10))
    assert (await track(mentor)).complete


async def test_another_process_is_heard_through_the_marker_alone(people, frozen) -> None:
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    module = current_track().modules[0]
    assert (await track(mentor)).current == 0
    # Another process records a pass. Its row alone changes nothing here: the track comes
    # from the cache, which is why every such write must redraw the marker...
    await QuizAttempt.insert(
        QuizAttempt(
            membership=mentor.membership_id,
            program=mentor.program_id,
            module_id=module.id,
            content_version=module.version,
            started_at=FROZEN_AT,
            submitted_at=FROZEN_AT,
            passed=True,
        )
    )
    assert (await services.track_progress(mentor)).current == 0
    # ...and once its transaction has (as `submit_attempt` does), this process sees it.
    async with transaction():
        await changes.eligibility_changed(mentor.program_id)
    assert (await track(mentor)).current == 1


async def test_a_new_content_version_reaches_the_cached_track(people, frozen, monkeypatch) -> None:
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    await pass_track(mentor)
    assert (await track(mentor)).complete
    frozen.advance(timedelta(days=1))
    base = current_track().module("boundaries").version  # type: ignore[union-attr]
    served = _with_version(current_track(), "boundaries", base + 1, True)
    monkeypatch.setattr(services, "current_track", lambda: served)
    await services.register_content_versions()  # a restart with a material change
    assert state(await track(mentor), "boundaries").retake_reason == "new_version"


async def test_a_retake_the_safety_slice_requires_shows_once_passed(
    make_client, people, frozen
) -> None:
    newcomer, supervisor, _, match_id = await matched(make_client, people)
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    passed_at = state(await track(mentor), "boundaries").passed_at
    filed = await report(newcomer, match_id, "scope")
    acted = await supervisor.post(
        f"/api/v1/concerns/{filed['id']}/act",
        json={"action": "require_retake", "module_id": "boundaries"},
    )
    assert acted.status_code == 200, acted.text
    # The hold itself lives in the safety slice's match gate; the track is the records'.
    assert state(await track(mentor), "boundaries").passed_at == passed_at
    frozen.advance(timedelta(minutes=5))
    await pass_module(mentor, "boundaries")
    assert state(await track(mentor), "boundaries").passed_at == FROZEN_AT + timedelta(minutes=5)
