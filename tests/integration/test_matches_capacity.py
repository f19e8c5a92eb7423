"""Capacity under concurrency, the caseload tiers in the journey, the wait estimate on a known
history, and the hook another slice uses to hold mentors back."""

from __future__ import annotations

from datetime import timedelta

import anyio
import pytest

from tandem.core.auth import Role
from tandem.core.clock import clock
from tandem.matches import services
from tandem.matches.tables import MentorMatch, MentorOffer, MentorRequest
from tests.support.journey import new_mentor, new_newcomer, ready_mentor, with_intake

pytestmark = pytest.mark.anyio
CONCURRENT = 20


async def test_twenty_approvals_for_the_last_place_give_one_offer(
    make_client, people, frozen
) -> None:
    a = people.a
    mentor = a[Role.MENTOR].membership_id
    await ready_mentor(mentor, capacity=1)
    for index in range(CONCURRENT):
        newcomer = await new_newcomer(a[Role.MENTOR].program_id, f"newcomer-{index}")
        await services.request_mentor(newcomer)
    staff = await services_caller(a[Role.SUPERVISOR].membership_id)
    queue = await services.review_queue(staff)
    assert len(queue) == CONCURRENT
    assert {p.best.mentor_id for p in queue} == {mentor}

    clients = []
    for _ in range(4):
        client = await make_client()
        await client.login(a[Role.SUPERVISOR].username)
        clients.append(client)
    codes: list[int] = []

    async def approve(index: int, proposal_id: int) -> None:
        client = clients[index % len(clients)]
        response = await client.post(f"/api/v1/proposals/{proposal_id}/approve", json={})
        codes.append(response.status_code)
        if response.status_code == 409:
            assert "no place left" in response.json()["detail"]

    async with anyio.create_task_group() as group:
        for index, proposal in enumerate(queue):
            group.start_soon(approve, index, proposal.id)
    assert sorted(codes) == [200] + [409] * (CONCURRENT - 1)
    assert await MentorOffer.count().where(MentorOffer.mentor == mentor) == 1
    assert await MentorRequest.count().where(MentorRequest.status == "offered") == 1
    # The other nineteen stay in the queue for another mentor or a later place.
    assert len(await services.review_queue(staff)) == CONCURRENT - 1


async def services_caller(membership_id: int):  # type: ignore[no-untyped-def]
    from tests.support.journey import caller_of

    return await caller_of(membership_id)


async def test_a_full_caseload_cannot_be_approved_and_frees_when_a_match_ends(
    make_client, people, frozen
) -> None:
    a = people.a
    # Approved now (on the frozen clock), so the tier is counted from today.
    mentor = await new_mentor(a[Role.MENTOR].program_id, "new-mentor", capacity=6)
    staff = await services_caller(a[Role.SUPERVISOR].membership_id)
    # New mentors hold at most two mentees (the program's first-six-months tier).
    places = await services.mentor_places(a[Role.MENTOR].program_id)
    assert places[mentor.membership_id].limit == 2
    for index in range(3):
        newcomer = await new_newcomer(a[Role.MENTOR].program_id, f"newcomer-{index}")
        await services.request_mentor(newcomer)
    proposals = await services.review_queue(staff)
    for proposal in proposals[:2]:
        await services.approve_proposal(staff, proposal.id)
    with pytest.raises(services.Conflict):
        await services.approve_proposal(staff, proposals[2].id)
    assert await services.may_get_new_matches(a[Role.MENTOR].program_id) == set()
    offers = await services.my_offers(mentor)
    match = await services.accept_offer(mentor, offers[0].id)
    await services.end_match(mentor, match.id, services.EndReason.MENTOR_UNAVAILABLE)
    assert await services.may_get_new_matches(a[Role.MENTOR].program_id) == {mentor.membership_id}
    await services.approve_proposal(staff, proposals[2].id)
    # Six months on, the experienced tier gives four places.
    frozen.advance(timedelta(days=190))
    places = await services.mentor_places(a[Role.MENTOR].program_id)
    assert places[mentor.membership_id].limit == 4
    assert places[mentor.membership_id].places == 2


async def test_another_slice_can_hold_mentors_back(people, frozen) -> None:
    a = people.a
    mentor = await ready_mentor(a[Role.MENTOR].membership_id)

    async def hold_everyone(program_id: int, candidates: frozenset[int]) -> set[int]:
        return set(candidates)

    assert await services.may_get_new_matches(mentor.program_id) == {mentor.membership_id}
    services.add_match_gate(hold_everyone)
    try:
        assert await services.may_get_new_matches(mentor.program_id) == set()
        newcomer = await with_intake(a[Role.NEWCOMER].membership_id)
        asked = await services.request_mentor(newcomer)
        assert asked.status == "waiting"
    finally:
        services.remove_match_gate(hold_everyone)


async def test_wait_estimate_reads_the_programs_own_history(people, frozen) -> None:
    a = people.a
    program = a[Role.NEWCOMER].program_id
    newcomer = a[Role.NEWCOMER].membership_id
    now = clock.now()

    async def past(
        days_ago: int, waited_days: float, languages: list[str], formats: list[str]
    ) -> None:
        asked = now - timedelta(days=days_ago)
        await MentorRequest.insert(
            MentorRequest(
                newcomer=newcomer,
                program=program,
                status="closed",
                languages=languages,
                formats=formats,
                created_at=asked,
                updated_at=asked,
                matched_at=asked + timedelta(days=waited_days),
            )
        )

    for waited in (2, 3, 4, 6, 8, 9):
        await past(40, waited, ["en"], ["video"])
    await past(40, 60, ["es"], ["video"])  # another language: not like this one
    await past(40, 50, ["en"], ["in_person"])  # another format
    await past(200, 70, ["en"], ["video"])  # matched long before the last 90 days
    estimate = await services.wait_estimate(program, ["en", "pl"], ["video", "phone"])
    assert (estimate.based_on, estimate.low_days, estimate.high_days) == (6, 3, 8)
    assert estimate.sentence().startswith("Usually 3 to 8 days (based on 6 similar requests")
    thin = await services.wait_estimate(program, ["es"], ["video"])
    assert thin.based_on == 1
    assert not thin.known
    assert await MentorMatch.count() == 0


async def test_batch_matching_proposes_for_the_waiting_queue_under_places(
    make_client, people, frozen
) -> None:
    from tandem.matches.jobs import periodic_steps

    a = people.a
    program = a[Role.MENTOR].program_id
    for index in range(3):
        newcomer = await new_newcomer(program, f"newcomer-{index}")
        assert (await services.request_mentor(newcomer)).status == "waiting"  # no mentor yet
    await ready_mentor(a[Role.MENTOR].membership_id, capacity=2)
    run = await services.run_batch(program)
    assert run is not None
    assert (run.waiting, run.proposed, run.unmatched) == (3, 2, {"capacity_exhausted": 1})
    assert list(run.timings) == ["load_requests", "load_mentors", "assign", "explain", "store"]
    staff = await services_caller(a[Role.SUPERVISOR].membership_id)
    queue = await services.review_queue(staff)
    assert len(queue) == 2
    assert all("Both follow SMART Recovery" in p.best.reasons for p in queue)
    supervisor = await make_client()
    await supervisor.login(a[Role.SUPERVISOR].username)
    page = await supervisor.get("/staff/matches", headers={"accept": "text/html"})
    assert "3 waiting, 2 proposed, 1 unmatched (places all taken)" in page.text
    # Within the program's batch interval the periodic round leaves the queue alone; once it
    # has passed, it finds the one still waiting and runs again; nothing lapses yet. Proposals
    # hold no place, so the third newcomer is proposed the same mentor once more.
    assert await periodic_steps() == {"lapsed": 0, "proposed": 0, "purged": 0}
    frozen.advance(timedelta(hours=1))
    assert await periodic_steps() == {"lapsed": 0, "proposed": 1, "purged": 0}


async def test_the_batch_command_reports_the_runs_figures(people, frozen) -> None:
    from tests.integration.test_cli import litestar

    a = people.a
    newcomer = await with_intake(a[Role.NEWCOMER].membership_id)
    await services.request_mentor(newcomer)
    await ready_mentor(a[Role.MENTOR].membership_id)
    code, output = await litestar("matches", "batch", "--program", "program-a")
    assert code == 0, output
    assert "Waiting 1, proposed 1, unmatched none" in output
    code, output = await litestar("matches", "run")
    assert code == 0, output
    assert (
        "Offers lapsed: 0; proposals made: 0; after mentor changes: 0; "
        "ended matches past retention unlinked: 0." in output
    )
