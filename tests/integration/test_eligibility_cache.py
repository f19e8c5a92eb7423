"""The training gate's cache (`training.services.eligible_mentor_ids`): a repeated answer costs
one small read, and no change, from this process or another, nor the passing of time, ever
leaves it stale. Each step compares the cached answer with one worked out afresh from the
records (a chosen `at` always is)."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from tandem.accounts import services as accounts
from tandem.core import changes
from tandem.core.auth import Role
from tandem.core.clock import clock
from tandem.core.database import transaction
from tandem.core.statuses import MembershipStatus
from tandem.profiles import services as profiles
from tandem.profiles.tables import MentorProfile
from tandem.training import services
from tests.conftest import FROZEN_AT
from tests.integration.test_query_budget import recording
from tests.support.builders import caller, fail_module, mentor_with_profile, pass_track

pytestmark = pytest.mark.anyio


async def gate(program_id: int) -> set[int]:
    """The cached answer, after checking it against the records."""
    cached = await services.eligible_mentor_ids(program_id)
    assert cached == await services.eligible_mentor_ids(program_id, at=clock.now())
    return cached


async def test_a_repeated_answer_costs_one_read_of_the_marker(people, frozen, monkeypatch) -> None:
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    await pass_track(mentor)
    assert await services.eligible_mentor_ids(mentor.program_id) == {mentor.membership_id}
    with recording(monkeypatch) as recorded:
        assert await services.eligible_mentor_ids(mentor.program_id) == {mentor.membership_id}
    assert len(recorded.statements) == 1
    assert "eligibility_marker" in recorded.statements[0]


async def test_another_process_is_heard_through_the_marker_alone(people, frozen) -> None:
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    program = mentor.program_id
    await mentor_with_profile(mentor.membership_id)
    await pass_track(mentor)
    assert await gate(program) == {mentor.membership_id}

    # Another process pauses the mentor. Its row alone changes nothing here: the answer comes
    # from the cache, which is why every such change must redraw the marker...
    await MentorProfile.update({MentorProfile.paused: True}).where(
        MentorProfile.membership == mentor.membership_id
    )
    assert await services.eligible_mentor_ids(program) == {mentor.membership_id}
    # ...and once its transaction has (as `profiles.set_paused` does), this process sees it.
    async with transaction():
        await changes.eligibility_changed(program)
    assert await gate(program) == set()


async def test_every_kind_of_change_reaches_the_cached_answer(people, frozen) -> None:
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    pending = await caller(people.a_pending_mentor.membership_id)
    staff = await caller(people.a[Role.SUPERVISOR].membership_id)
    other = await caller(people.b[Role.MENTOR].membership_id)
    program = mentor.program_id
    await mentor_with_profile(mentor.membership_id)
    assert await gate(program) == set()

    await pass_track(mentor)  # quiz passes
    await pass_track(other)  # another program's change leaves this one's answer right
    assert await gate(program) == {mentor.membership_id}
    await pass_track(pending)
    await fail_module(pending, "mentor-role")  # a failed retake takes nothing away
    assert await gate(program) == {mentor.membership_id}
    await accounts.approve_mentor(staff, pending.membership_id)  # approval
    both = {mentor.membership_id, pending.membership_id}
    assert await gate(program) == both

    await profiles.set_paused(mentor, True)  # pause and resume
    assert await gate(program) == {pending.membership_id}
    await profiles.set_paused(mentor, False)
    assert await gate(program) == both

    # Settings: two months on, a one-month renewal of the safety modules lapses both mentors.
    frozen.advance(timedelta(days=61))
    assert await gate(program) == both
    settings = await accounts.program_settings(program)
    await accounts.save_program_settings(
        staff, msgspec.structs.replace(settings, safety_module_renewal_months=1)
    )
    assert await gate(program) == set()
    await accounts.save_program_settings(staff, settings)
    assert await gate(program) == both

    # Status: deactivated and back.
    await accounts.set_member_status(staff, pending.membership_id, MembershipStatus.INACTIVE)
    assert await gate(program) == {mentor.membership_id}
    await accounts.set_member_status(staff, pending.membership_id, MembershipStatus.ACTIVE)
    assert await gate(program) == both

    await accounts.delete_person(pending)  # an erased account
    assert await gate(program) == {mentor.membership_id}
    assert await gate(other.program_id) == {other.membership_id}


async def test_time_alone_ends_a_cached_answer_when_a_pass_expires(
    people, frozen, monkeypatch
) -> None:
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    program = mentor.program_id
    await pass_track(mentor)
    assert await gate(program) == {mentor.membership_id}
    # The safety modules renew after twelve months: a minute before, the answer still holds
    # (one read, nothing recomputed); at the moment itself, with no change made, it is gone.
    expiry = FROZEN_AT.replace(year=FROZEN_AT.year + 1)
    frozen.set(expiry - timedelta(minutes=1))
    with recording(monkeypatch) as recorded:
        assert await services.eligible_mentor_ids(program) == {mentor.membership_id}
    assert len(recorded.statements) == 1
    frozen.set(expiry)
    assert await gate(program) == set()


async def test_a_clock_set_back_or_a_pass_recorded_later_is_answered_right(people, frozen) -> None:
    mentor = await caller(people.a[Role.MENTOR].membership_id)
    program = mentor.program_id
    frozen.set(FROZEN_AT + timedelta(days=10))
    await pass_track(mentor)
    assert await gate(program) == {mentor.membership_id}
    # Back before the passes: they do not count yet, however the answer was cached...
    frozen.set(FROZEN_AT)
    assert await gate(program) == set()
    # ...and they start to count at the moment they were recorded.
    frozen.set(FROZEN_AT + timedelta(days=10) - timedelta(seconds=1))
    assert await gate(program) == set()
    frozen.set(FROZEN_AT + timedelta(days=10))
    assert await gate(program) == {mentor.membership_id}
