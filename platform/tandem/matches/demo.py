"""The demo program's match journey: a living queue with a history and a batch run's figures,
through the real services.

Called by `tandem.demo.load_demo` once the people, profiles and training exist. The past is
replayed on the one clock (`clock.frozen`), so the wait estimate has real history to read, and
today's requests are left in every state a visitor may want to see.
"""

from __future__ import annotations

import random
from datetime import timedelta

from tandem.core.auth import Caller, Role, program_caller
from tandem.core.clock import clock
from tandem.core.database import transaction
from tandem.core.errors import DomainError
from tandem.matches import services
from tandem.matches.lifecycle import EndReason, MatchStatus, RequestStatus
from tandem.matches.tables import MentorMatch, MentorRequest
from tandem.profiles import services as profiles
from tandem.profiles.schemas import NewcomerIntake

HISTORY = range(10, 34)  # newcomer indexes replayed over the past 80 days
OUTCOME_PEOPLE = range(34, 90)  # newcomers (with an intake) in the older outcome history
OUTCOME_MATCHES = 240  # past matches, 100 to 700 days ago, for the outcome loop to learn from


async def _approve(staff: Caller, newcomer: Caller) -> int | None:
    """Approve the newcomer's pending proposal; the mentor it went to, or None."""
    queue = [
        p for p in await services.review_queue(staff) if p.newcomer_id == newcomer.membership_id
    ]
    if not queue:
        return None
    try:
        await services.approve_proposal(staff, queue[0].id)
    except DomainError:  # that mentor's places went meanwhile
        return None
    return queue[0].best.mentor_id


async def _offer_and_accept(
    staff: Caller, newcomer: Caller, mentors: dict[int, Caller]
) -> int | None:
    """Approve the newcomer's proposal and have the mentor accept; the match id, or None.
    Offers are answered at once here, so the mentor's only open offer is this one."""
    mentor_id = await _approve(staff, newcomer)
    if mentor_id is None:
        return None
    mentor = mentors[mentor_id]
    offer = (await services.my_offers(mentor))[0]
    return (await services.accept_offer(mentor, offer.id)).id


async def load_match_demo(
    staff: Caller, newcomers: list[Caller], mentors: dict[int, Caller], seed: int
) -> dict[str, int]:
    """Replay a history and leave today's queue in every state; returns who is at which step
    (label -> membership id) for the printed demo logins."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    now = clock.now()
    # History: requests over the past 80 days, matched after 1 to 9 days; most of them ended
    # since (completed), which frees the places again.
    for step, index in enumerate(HISTORY):
        asked = now - timedelta(days=80 - step * 3)
        with clock.frozen(asked):
            request = await services.request_mentor(newcomers[index])
            if request.status != RequestStatus.UNDER_REVIEW.value:
                await services.withdraw_request(newcomers[index])
                continue
            clock.advance(timedelta(days=rng.randint(1, 9), hours=rng.randint(0, 20)))
            match_id = await _offer_and_accept(staff, newcomers[index], mentors)
            if match_id is not None and step % 2 != 0:
                clock.advance(timedelta(days=rng.randint(1, 10)))
                await services.end_match(newcomers[index], match_id, EndReason.COMPLETED)
    steps: dict[str, int] = {}
    # Today: one request at each step. newcomer001 (index 0) is left to ask for themselves.
    under_review, offered, active, ended, unmatched = (newcomers[i] for i in (1, 2, 3, 4, 5))
    for person in (active, ended):
        await services.request_mentor(person)
        match_id = await _offer_and_accept(staff, person, mentors)
        if person is ended and match_id is not None:
            await services.end_match(person, match_id, EndReason.COMPLETED)
    steps["newcomer (matched)"] = active.membership_id
    steps["newcomer (match ended)"] = ended.membership_id
    await services.request_mentor(offered)
    mentor_id = await _approve(staff, offered)
    steps["newcomer (mentor asked)"] = offered.membership_id
    if mentor_id is not None:
        steps["mentor (offer to answer)"] = mentor_id
    await services.request_mentor(under_review)
    steps["newcomer (waiting for review)"] = under_review.membership_id
    # Nobody in the program speaks Polish: no mentor fits, and staff see why.
    intake = await profiles.get_intake(unmatched)
    await profiles.save_intake(
        unmatched,
        NewcomerIntake(
            **{
                **{f: getattr(intake, f) for f in NewcomerIntake.__struct_fields__},
                "languages": ["pl"],
            }
        ),
    )
    await services.request_mentor(unmatched)
    steps["newcomer (no mentor fits yet)"] = unmatched.membership_id
    # A batch run over whoever is still waiting, so supervisors see its figures; it has seen
    # every change the demo made to its mentors, so their retry markers are done with.
    marked = await services.marked_programs()
    await services.run_batch(staff.program_id)
    if staff.program_id in marked:
        await services.clear_markers(staff.program_id, marked[staff.program_id])
    return steps


async def load_outcome_history(
    program_id: int, newcomers: list[Caller], mentors: dict[int, Caller], seed: int
) -> int:
    """Older matches that have ended, each with a known outcome, so a supervisor can review
    weights learned from them (`/staff/weights`); returns how many.

    In this past, a pair who share lived experience usually lasted and a shared pathway helped a
    little; the engine's own weights count a shared pathway most, so the loop finds better ones.
    The rows are written directly (a replay through the services would take minutes) and are
    older than the wait estimate's 90 days, so they leave it alone. Call this before
    `load_match_demo`, so today's requests stay each newcomer's latest.
    """
    rng = random.Random(seed + 15)  # noqa: S311 - demo data, not security
    reader = program_caller(program_id)
    intakes = [
        await profiles.get_intake(reader, newcomers[i].membership_id) for i in OUTCOME_PEOPLE
    ]
    found = await profiles.mentor_profiles(reader, sorted(mentors))
    mentor_profiles = [found[m] for m in sorted(found)]
    now = clock.now()
    async with transaction():
        for _ in range(OUTCOME_MATCHES):
            intake, mentor = rng.choice(intakes), rng.choice(mentor_profiles)
            lived = bool(set(intake.lived_experience) & set(mentor.lived_experience))
            pathway = bool(set(intake.pathways) & set(mentor.pathways))
            lasting = rng.random() < 0.25 + 0.5 * lived + 0.15 * pathway
            days_ago = rng.randint(100, 700)
            lasted = rng.randint(91, min(days_ago - 1, 300)) if lasting else rng.randint(3, 80)
            started = now - timedelta(days=days_ago, hours=rng.randint(0, 12))
            request = await MentorRequest.insert(
                MentorRequest(
                    newcomer=intake.membership_id,
                    program=program_id,
                    status=RequestStatus.CLOSED.value,
                    languages=list(intake.languages),
                    formats=list(intake.formats),
                    created_at=started - timedelta(days=rng.randint(1, 9)),
                    updated_at=started + timedelta(days=lasted),
                    matched_at=started,
                )
            ).returning(MentorRequest.id)
            await MentorMatch.insert(
                MentorMatch(
                    request=request[0]["id"],
                    program=program_id,
                    newcomer=intake.membership_id,
                    mentor=mentor.membership_id,
                    status=MatchStatus.ENDED.value,
                    started_at=started,
                    ended_at=started + timedelta(days=lasted),
                    end_reason=(
                        EndReason.COMPLETED if lasting else EndReason.MENTOR_UNAVAILABLE
                    ).value,
                    ended_by_role=Role.MENTOR.value,
                )
            )
    return OUTCOME_MATCHES
