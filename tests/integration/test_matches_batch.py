"""Batch matching across processes and over time: waiting requests retried soon after mentors
change (without the change waiting for it), one run at a time per program (PostgreSQL's advisory
lock, SQLite's lease row, taken over after expiry), and each program's own batch interval."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import anyio
import msgspec
import pytest

from tandem.core.auth import Role
from tandem.matches import jobs, services
from tandem.matches.tables import BatchRun, MentorRequest, RetryMarker
from tandem.profiles import services as profiles
from tests.support.journey import caller_of, new_newcomer, ready_mentor, with_intake

pytestmark = pytest.mark.anyio


async def _status(newcomer_id: int) -> str:
    row = (
        await MentorRequest.select(MentorRequest.status)
        .where(MentorRequest.newcomer == newcomer_id)
        .order_by(MentorRequest.id, ascending=False)
        .first()
    )
    assert row is not None
    return str(row["status"])


# --- retried when mentors change ---------------------------------------------------------------


async def test_a_mentor_finishing_training_marks_the_program_and_the_worker_proposes(
    people, frozen
) -> None:
    a = people.a
    newcomer = await with_intake(a[Role.NEWCOMER].membership_id)
    assert (await services.request_mentor(newcomer)).status == "waiting"  # nobody trained yet
    assert await RetryMarker.count() == 0
    await ready_mentor(a[Role.MENTOR].membership_id)  # saves a profile, passes the track
    # The change only left a marker: the request is untouched until the worker's round.
    assert await RetryMarker.count() >= 1
    assert await _status(newcomer.membership_id) == "waiting"
    assert await jobs.retry_marked() == 1
    assert await _status(newcomer.membership_id) == "under_review"
    assert await RetryMarker.count() == 0
    assert await jobs.retry_marked() == 0  # nothing marked, nothing run
    assert await BatchRun.count() == 1


async def _one_place_offered(people):  # type: ignore[no-untyped-def]
    """A mentor with one place, whose offer to a first newcomer holds it: (mentor, first)."""
    a = people.a
    mentor = await ready_mentor(a[Role.MENTOR].membership_id, capacity=1)
    staff = await caller_of(a[Role.SUPERVISOR].membership_id)
    first = await new_newcomer(a[Role.MENTOR].program_id, "first-newcomer")
    await services.request_mentor(first)
    await services.approve_proposal(staff, (await services.review_queue(staff))[0].id)
    return mentor, first


async def test_a_mentor_resuming_or_a_freed_place_retries_the_waiting(people, frozen) -> None:
    program = people.a[Role.MENTOR].program_id
    mentor, _ = await _one_place_offered(people)
    match = await services.accept_offer(mentor, (await services.my_offers(mentor))[0].id)
    await services.clear_markers(program, 10**9)
    second = await new_newcomer(program, "second-newcomer")
    assert (await services.request_mentor(second)).status == "waiting"  # the one place is taken

    await profiles.set_paused(mentor, True)
    await profiles.set_paused(mentor, False)
    assert await RetryMarker.count() == 2
    assert await jobs.retry_marked() == 0  # still no place
    assert await RetryMarker.count() == 0
    await services.end_match(mentor, match.id, services.EndReason.COMPLETED)
    assert await RetryMarker.count() == 1
    assert await _status(second.membership_id) == "waiting"
    assert await jobs.retry_marked() == 1
    assert await _status(second.membership_id) == "under_review"


async def test_a_declined_offer_frees_the_place_for_the_next_in_the_queue(people, frozen) -> None:
    program = people.a[Role.MENTOR].program_id
    mentor, first = await _one_place_offered(people)
    second = await new_newcomer(program, "second-newcomer")
    # The open offer holds the mentor's one place, so the second waits.
    assert (await services.request_mentor(second)).status == "waiting"
    await services.clear_markers(program, 10**9)
    await services.decline_offer(mentor, (await services.my_offers(mentor))[0].id)
    assert await RetryMarker.count() == 1
    # The first is never proposed the mentor who declined them; the second now is.
    assert await _status(first.membership_id) == "waiting"
    assert await _status(second.membership_id) == "waiting"
    assert await jobs.retry_marked() == 1
    assert await _status(second.membership_id) == "under_review"
    assert await _status(first.membership_id) == "waiting"


async def test_the_apps_retry_loop_picks_a_marker_up(settings, people, frozen) -> None:
    from tandem.app import create_app

    a = people.a
    newcomer = await with_intake(a[Role.NEWCOMER].membership_id)
    await services.request_mentor(newcomer)
    app = create_app(dataclasses.replace(settings, match_retry_seconds=0.05))
    async with app.lifespan():
        await ready_mentor(a[Role.MENTOR].membership_id)
        # A bounded wait for the loop's round (at most 30 s), not a timed assertion on speed.
        for _ in range(600):
            if await _status(newcomer.membership_id) != "waiting":
                break
            await anyio.sleep(0.05)
    assert await _status(newcomer.membership_id) == "under_review"


# --- one batch run at a time --------------------------------------------------------------------


async def test_the_lease_is_taken_once_released_and_taken_over_after_expiry(people, frozen) -> None:
    program = people.a[Role.MENTOR].program_id
    assert await services.take_batch_lease(program, "process-1")
    assert not await services.take_batch_lease(program, "process-2")
    await services.release_batch_lease(program, "process-2")  # not the holder: nothing happens
    assert not await services.take_batch_lease(program, "process-2")
    await services.release_batch_lease(program, "process-1")
    assert await services.take_batch_lease(program, "process-2")
    # process-2 dies holding it; once it expires anyone may take it over, and only one does.
    frozen.advance(timedelta(seconds=services.BATCH_LEASE_SECONDS + 1))
    taken = []

    async def take(holder: str) -> None:
        if await services.take_batch_lease(program, holder):
            taken.append(holder)

    async with anyio.create_task_group() as group:
        for index in range(10):
            group.start_soon(take, f"process-{index + 3}")
    assert len(taken) == 1
    # Another program's lease is its own.
    assert await services.take_batch_lease(people.b[Role.MENTOR].program_id, "process-2")


async def _holding_the_batch_lock(program: int, held: anyio.Event, done: anyio.Event) -> None:
    async with services._one_batch_at_a_time(program) as may_run:
        assert may_run
        held.set()
        await done.wait()


async def test_a_second_caller_skips_while_a_run_holds_the_program(people, frozen) -> None:
    a = people.a
    program = a[Role.MENTOR].program_id
    await services.request_mentor(await with_intake(a[Role.NEWCOMER].membership_id))
    await ready_mentor(a[Role.MENTOR].membership_id)
    held, done = anyio.Event(), anyio.Event()
    results = []

    async def second() -> None:
        await held.wait()
        results.append(await services.run_batch(program))
        done.set()

    async with anyio.create_task_group() as group:
        group.start_soon(_holding_the_batch_lock, program, held, done)
        group.start_soon(second)
    assert results == [None]
    assert await BatchRun.count() == 0
    run = await services.run_batch(program)  # released: the next run goes ahead
    assert run is not None
    assert run.proposed == 1


async def test_another_process_skips_while_this_one_holds_the_program(people) -> None:
    from tests.integration.test_cli import litestar

    a = people.a
    await services.request_mentor(await with_intake(a[Role.NEWCOMER].membership_id))
    await ready_mentor(a[Role.MENTOR].membership_id)
    held, done = anyio.Event(), anyio.Event()
    outputs = []

    async def other_process() -> None:
        await held.wait()
        outputs.append(await litestar("matches", "batch", "--program", "program-a"))
        done.set()

    async with anyio.create_task_group() as group:
        group.start_soon(_holding_the_batch_lock, a[Role.MENTOR].program_id, held, done)
        group.start_soon(other_process)
    code, output = outputs[0]
    assert code == 0, output
    assert "Another batch run is under way" in output
    code, output = await litestar("matches", "batch", "--program", "program-a")
    assert "Waiting 1, proposed 1" in output, output


# --- each program's interval ----------------------------------------------------------------


async def test_the_loop_honours_each_programs_batch_interval(people, frozen) -> None:
    from tandem.accounts import services as accounts

    a, b = people.a, people.b
    for side in (a, b):
        await services.request_mentor(await with_intake(side[Role.NEWCOMER].membership_id))
    staff_b = await caller_of(b[Role.SUPERVISOR].membership_id)
    settings_b = await accounts.program_settings(staff_b.program_id)
    await accounts.save_program_settings(
        staff_b, msgspec.structs.replace(settings_b, batch_interval_minutes=0)
    )
    program_a = a[Role.NEWCOMER].program_id
    # A (the default hour) has never run; B runs only by hand.
    assert await services.programs_due_for_batch() == [program_a]
    assert await jobs.periodic_steps() == {"lapsed": 0, "proposed": 0, "purged": 0}
    assert await services.programs_due_for_batch() == []
    frozen.advance(timedelta(minutes=59))
    assert await services.programs_due_for_batch() == []
    frozen.advance(timedelta(minutes=1))
    assert await services.programs_due_for_batch() == [program_a]
    runs = await BatchRun.select(BatchRun.program)
    assert runs == [{"program": program_a}]


async def test_a_batch_run_auto_approves_as_a_request_does(people, frozen) -> None:
    from tandem.accounts import services as accounts
    from tandem.matches.tables import MatchProposal, MentorOffer

    a = people.a
    program = a[Role.MENTOR].program_id
    staff = await caller_of(a[Role.SUPERVISOR].membership_id)
    settings = await accounts.program_settings(program)
    await accounts.save_program_settings(
        staff,
        msgspec.structs.replace(settings, auto_approve_matches=True, auto_approve_min_score=0.0),
    )
    for index in range(3):
        newcomer = await new_newcomer(program, f"newcomer-{index}")
        assert (await services.request_mentor(newcomer)).status == "waiting"
    await ready_mentor(a[Role.MENTOR].membership_id, capacity=2)
    run = await services.run_batch(program)
    assert run is not None
    assert (run.waiting, run.proposed) == (3, 2)
    assert await MentorOffer.count().where(MentorOffer.status == "open") == 2
    approved = await MatchProposal.select(MatchProposal.auto_approved, MatchProposal.status)
    assert approved == [{"auto_approved": True, "status": "approved"}] * 2
