"""The match journey's places cache (`matches.services.mentor_places`): a repeated answer costs
the marker reads, and no change, from this process or another, nor the passing of time, ever
leaves it stale. Each step compares the cached answer with one worked out afresh from the
records (inside a transaction it always is), and checks that the step changed the answer, so a
change that forgot its marker fails here."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
import pytest

from tandem.accounts import services as accounts
from tandem.core.auth import Role
from tandem.core.database import transaction
from tandem.core.errors import Conflict
from tandem.core.statuses import MembershipStatus
from tandem.matches import services
from tandem.matches.lifecycle import EndReason, OfferStatus
from tandem.matches.services import MentorPlaces
from tandem.matches.tables import MentorOffer
from tandem.profiles import services as profiles
from tandem.safety import care_services as care
from tandem.safety import services as safety
from tandem.safety.care_schemas import ReturnToUseIn
from tandem.safety.rules import Action, Category, Outcome
from tandem.safety.schemas import ConcernCreate
from tests.conftest import FROZEN_AT
from tests.integration.test_query_budget import recording
from tests.support.builders import caller, mentor_with_profile, pass_module
from tests.support.journey import MENTOR_PROFILE, new_mentor, new_newcomer, ready_mentor

pytestmark = pytest.mark.anyio


class Places:
    """The program's cached answer, checked against a fresh one at every step."""

    def __init__(self, program_id: int) -> None:
        self.program_id = program_id
        self.last: dict[int, MentorPlaces] | None = None

    async def now(self) -> dict[int, MentorPlaces]:
        cached = await services.mentor_places(self.program_id)
        async with transaction():  # inside a transaction the answer is always worked out afresh
            assert cached == await services.mentor_places(self.program_id)
        return cached

    async def changed(self) -> dict[int, MentorPlaces]:
        """The answer after a step that must have changed it."""
        answer = await self.now()
        assert answer != self.last, "the step was meant to change the answer"
        self.last = answer
        return answer


def load(answer: dict[int, MentorPlaces], mentor: int) -> tuple[bool, int, int, int]:
    places = answer[mentor]
    return places.open, places.limit, places.active, places.offers


async def test_a_repeated_answer_costs_only_the_marker_reads(people, frozen, monkeypatch) -> None:
    mentor = await ready_mentor(people.a[Role.MENTOR].membership_id)
    first = await services.mentor_places(mentor.program_id)
    with recording(monkeypatch) as recorded:
        assert await services.mentor_places(mentor.program_id) == first
    # The two markers, and the training gate's own check of the eligibility marker.
    assert len(recorded.statements) == 3, recorded.statements
    assert all("marker" in sql for sql in recorded.statements)


async def test_another_process_is_heard_through_the_places_marker(people, frozen) -> None:
    mentor = await ready_mentor(people.a[Role.MENTOR].membership_id)
    newcomer = await new_newcomer(mentor.program_id, "asks")
    program = Places(mentor.program_id)
    await program.changed()
    await services.request_mentor(newcomer)
    [proposal] = await services.review_queue(await caller(people.a[Role.SUPERVISOR].membership_id))

    # Another process puts an offer to the mentor. Its row alone changes nothing here: the
    # answer comes from the cache, which is why every such change must redraw the marker...
    await MentorOffer.insert(
        MentorOffer(
            proposal=proposal.id,
            request=proposal.request_id,
            program=mentor.program_id,
            mentor=mentor.membership_id,
            status=OfferStatus.OPEN.value,
            created_at=FROZEN_AT,
            expires_at=FROZEN_AT + timedelta(days=2),
        )
    )
    assert load(await services.mentor_places(mentor.program_id), mentor.membership_id)[3] == 0
    # ...and once its transaction has (as the services do, first thing), this process sees it.
    async with transaction():
        await services.places_changed(mentor.program_id)
    assert load(await program.changed(), mentor.membership_id)[3] == 1


async def test_approving_decides_on_the_records_never_on_the_cache(people, frozen) -> None:
    """Approval re-checks the mentor's places inside its transaction: a cached answer that
    still shows a free place (here one that was never told of an offer) cannot overfill them."""
    staff = await caller(people.a[Role.SUPERVISOR].membership_id)
    mentor = await ready_mentor(people.a[Role.MENTOR].membership_id, capacity=1)
    await services.request_mentor(await new_newcomer(mentor.program_id, "asks"))
    [proposal] = await services.review_queue(staff)
    await MentorOffer.insert(
        MentorOffer(
            proposal=proposal.id,
            request=proposal.request_id,
            program=mentor.program_id,
            mentor=mentor.membership_id,
            status=OfferStatus.OPEN.value,
            created_at=FROZEN_AT,
            expires_at=FROZEN_AT + timedelta(days=2),
        )
    )
    cached = await services.mentor_places(mentor.program_id)
    assert cached[mentor.membership_id].places == 1  # stale, as it was never told
    with pytest.raises(Conflict, match="no place left"):
        await services.approve_proposal(staff, proposal.id)


async def test_every_change_of_the_match_journey_reaches_the_cached_answer(people, frozen) -> None:
    staff = await caller(people.a[Role.SUPERVISOR].membership_id)
    mentor = await ready_mentor(people.a[Role.MENTOR].membership_id, capacity=2)
    me = mentor.membership_id
    program = Places(mentor.program_id)
    assert load(await program.changed(), me) == (True, 2, 0, 0)
    first, second = [await new_newcomer(mentor.program_id, f"newcomer-{i}") for i in (1, 2)]

    await services.request_mentor(first)  # a proposal changes no place...
    assert load(await program.now(), me) == (True, 2, 0, 0)
    [proposal] = await services.review_queue(staff)
    await services.approve_proposal(staff, proposal.id)  # ...an offer made holds one
    assert load(await program.changed(), me) == (True, 2, 0, 1)
    [offer] = await services.my_offers(mentor)
    await services.decline_offer(mentor, offer.id)  # declined: the place is free again
    assert load(await program.changed(), me) == (True, 2, 0, 0)

    await services.request_mentor(second)
    for proposal in await services.review_queue(staff):
        await services.approve_proposal(staff, proposal.id)
    assert load(await program.changed(), me) == (True, 2, 0, 1)
    frozen.advance(timedelta(days=4))
    assert await services.lapse_offers() == 1  # lapsed
    assert load(await program.changed(), me) == (True, 2, 0, 0)

    await services.withdraw_request(second)  # withdrawn with its open offer, if any
    await services.request_mentor(second)
    for proposal in await services.review_queue(staff):
        await services.approve_proposal(staff, proposal.id)
    assert load(await program.changed(), me) == (True, 2, 0, 1)
    await services.withdraw_request(second)
    assert load(await program.changed(), me) == (True, 2, 0, 0)

    await services.request_mentor(second)
    for proposal in await services.review_queue(staff):
        await services.approve_proposal(staff, proposal.id)
    [offer] = await services.my_offers(mentor)
    match = await services.accept_offer(mentor, offer.id)  # accepted: a match starts
    assert load(await program.changed(), me) == (True, 2, 1, 0)
    await services.end_match(mentor, match.id, EndReason.MENTOR_UNAVAILABLE)  # and ends
    assert load(await program.changed(), me) == (True, 2, 0, 0)


async def test_every_change_below_the_journey_reaches_the_cached_answer(people, frozen) -> None:
    staff = await caller(people.a[Role.SUPERVISOR].membership_id)
    mentor = await ready_mentor(people.a[Role.MENTOR].membership_id, capacity=2)
    me = mentor.membership_id
    program = Places(mentor.program_id)
    other = Places(people.b[Role.MENTOR].program_id)
    assert load(await program.changed(), me) == (True, 2, 0, 0)
    await other.changed()

    await mentor_with_profile(me, **{**MENTOR_PROFILE, "capacity": 1})
    assert load(await program.changed(), me) == (True, 1, 0, 0)  # a capacity change
    await profiles.set_paused(mentor, True)  # a pause and a resume
    assert load(await program.changed(), me) == (False, 1, 0, 0)
    await profiles.set_paused(mentor, False)
    assert load(await program.changed(), me) == (True, 1, 0, 0)

    settings = await accounts.program_settings(mentor.program_id)  # the caseload's settings
    await accounts.save_program_settings(
        staff, msgspec.structs.replace(settings, caseload_new_mentor=0)
    )
    assert load(await program.changed(), me) == (True, 0, 0, 0)
    await accounts.save_program_settings(staff, settings)
    assert load(await program.changed(), me) == (True, 1, 0, 0)

    # A member approved (trained first: the training gate's marker moves too), then removed.
    pending = await caller(people.a_pending_mentor.membership_id)
    await ready_mentor(pending.membership_id)
    await program.changed()  # listed (not approved yet: closed to matches)
    assert load(program.last or {}, pending.membership_id)[0] is False
    await accounts.approve_mentor(staff, pending.membership_id)
    assert load(await program.changed(), pending.membership_id)[0] is True
    await accounts.set_member_status(staff, pending.membership_id, MembershipStatus.INACTIVE)
    assert load(await program.changed(), pending.membership_id)[0] is False
    joined = await new_mentor(mentor.program_id, "joined")  # a mentor who joins
    assert joined.membership_id in await program.changed()
    await accounts.delete_person(joined)  # and one who erases their account
    assert joined.membership_id not in await program.changed()
    # Nothing of this touched the other program's answer.
    assert await other.now() == other.last


async def test_every_change_of_the_safety_gates_reaches_the_cached_answer(people, frozen) -> None:
    staff = await caller(people.a[Role.SUPERVISOR].membership_id)
    mentor = await ready_mentor(people.a[Role.MENTOR].membership_id)
    me = mentor.membership_id
    newcomer = await new_newcomer(mentor.program_id, "matched")
    await services.request_mentor(newcomer)
    [proposal] = await services.review_queue(staff)
    await services.approve_proposal(staff, proposal.id)
    [offer] = await services.my_offers(mentor)
    match = await services.accept_offer(mentor, offer.id)
    program = Places(mentor.program_id)
    assert load(await program.changed(), me)[0] is True

    async def report(category: str) -> Any:
        data = ConcernCreate(category=Category(category), match_id=match.id)
        return await safety.report_concern(newcomer, data)

    serious = await report("money")  # an open S2 concern holds the mentor...
    assert load(await program.changed(), me)[0] is False
    await safety.acknowledge(staff, serious.id)  # (acknowledged, still open and held)
    assert load(await program.now(), me)[0] is False
    await safety.close(staff, serious.id, Outcome.NOT_SUBSTANTIATED)  # ...until it closes
    assert load(await program.changed(), me)[0] is True

    small = await report("scope")  # an S3 holds no one, a supervisor's pause does
    assert load(await program.now(), me)[0] is True
    await safety.act(staff, small.id, Action.PAUSE_MENTOR)
    assert load(await program.changed(), me)[0] is False
    await safety.close(staff, small.id, Outcome.RESOLVED_WITH_COACHING)
    assert load(await program.changed(), me)[0] is True

    retake = await report("scope")  # a required retake holds until the module is passed
    await safety.act(staff, retake.id, Action.REQUIRE_RETAKE, "boundaries")
    assert load(await program.changed(), me)[0] is False
    frozen.advance(timedelta(minutes=5))
    await pass_module(mentor, "boundaries")
    assert load(await program.changed(), me)[0] is True

    await care.report_return_to_use(mentor, ReturnToUseIn())  # a return to use
    assert load(await program.changed(), me)[0] is False
    await care.ready_to_return(mentor)
    assert load(await program.changed(), me)[0] is True


async def test_time_alone_moves_a_mentor_to_the_experienced_tier(
    people, frozen, monkeypatch
) -> None:
    # Approved now, on the frozen clock: two mentees for the first six months, then four.
    mentor = await new_mentor(people.a[Role.MENTOR].program_id, "new-mentor", capacity=6)
    me = mentor.membership_id
    assert load(await Places(mentor.program_id).now(), me)[1] == 2
    approved = (await accounts.membership_in_program(mentor, me))["approved_at"]
    experienced = approved.replace(month=approved.month + 6)
    frozen.set(experienced - timedelta(minutes=1))
    with recording(monkeypatch) as recorded:
        assert load(await services.mentor_places(mentor.program_id), me)[1] == 2
    assert len(recorded.statements) == 3, "the answer still held: nothing was recomputed"
    frozen.set(experienced)
    assert load(await Places(mentor.program_id).now(), me)[1] == 4
    # A clock set back is answered right as well.
    frozen.set(experienced - timedelta(days=1))
    assert load(await Places(mentor.program_id).now(), me)[1] == 2
