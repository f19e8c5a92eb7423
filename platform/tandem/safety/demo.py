"""The demo program's concerns, in every state, through the real services: open (one past its
response time), acknowledged, being acted on, closed with an outcome, and an urgent escalation
that was handled. Called by `tandem.demo.load_demo` once the match journey exists; the past is
replayed on the one clock (`clock.frozen`), so deadlines read as they would have."""

from __future__ import annotations

from datetime import timedelta

from tandem.accounts import services as accounts
from tandem.core.auth import Caller
from tandem.core.clock import clock
from tandem.matches import services as matches
from tandem.safety import services
from tandem.safety.rules import Action, Category, Outcome, UrgentSituation
from tandem.safety.schemas import ConcernCreate, UrgentEscalation
from tandem.training import services as training


async def _active_pairs(newcomers: list[Caller], skip: set[int]) -> list[tuple[Caller, int, int]]:
    """(newcomer, match id, mentor id) for each active match, the skipped people left out."""
    pairs = []
    for newcomer in newcomers:
        if newcomer.membership_id in skip:
            continue
        for match in await matches.my_matches(newcomer):
            if match.partner_membership_id not in skip:
                pairs.append((newcomer, match.id, match.partner_membership_id))
    return pairs


async def load_safety_demo(staff: Caller, newcomers: list[Caller], skip: set[int]) -> int:
    """File the demo concerns; returns how many. The people in `skip` (the ones the demo logins
    name, such as the matched newcomer and mentor07) are in none, for visitors to try."""
    pairs = await _active_pairs(newcomers, skip)
    # Mentors who could get new matches first, so the demo's S2 really holds one back.
    open_now = await training.eligible_mentor_ids(staff.program_id)
    pairs.sort(key=lambda pair: pair[2] not in open_now)
    if len(pairs) < 4:
        return 0
    now = clock.now()

    async def file(
        who: Caller, match_id: int, category: Category, days_ago: float, answers: list[str]
    ) -> int:
        with clock.frozen(now - timedelta(days=days_ago)):
            body = ConcernCreate(category=category, match_id=match_id, answers=answers)
            return (await services.report_concern(who, body)).id

    # The first pair's mentor is open to new matches (sorted above): its S2 holds them back.
    (held, held_match, _), (first, first_match, _), (second, second_match, _) = pairs[:3]
    _, pressed_match, pressed_mentor = pairs[3]
    # Open: contact late at night (S4), filed yesterday.
    await file(first, first_match, Category.COMMUNICATION, 1, [])
    # Open and overdue: a gift worth more than a token (S3, one business day), a week ago.
    await file(second, second_match, Category.GIFTS, 7, ["over_cap"])
    # Being acted on: advice to stop a medication (S2); the mentor's new matches are paused
    # and a module is to be taken again.
    concern = await file(held, held_match, Category.SCOPE, 0.1, ["medication_or_care"])
    await services.acknowledge(staff, concern)
    await services.act(staff, concern, Action.PAUSE_MENTOR)
    await services.act(staff, concern, Action.REQUIRE_RETAKE, "boundaries")
    # Closed with an outcome: another relationship besides mentoring (S3), three weeks ago.
    concern = await file(first, first_match, Category.DUAL_RELATIONSHIP, 21, [])
    await services.acknowledge(staff, concern)
    await services.close(staff, concern, Outcome.CORRECTIVE_PLAN)
    mentor = await accounts.caller_for_membership(pressed_mentor)
    if mentor is None:
        return 4
    # Acknowledged: a mentor asks for support with a newcomer's requests for money (S4).
    concern = await file(mentor, pressed_match, Category.NEWCOMER_PRESSURE, 2, [])
    await services.acknowledge(staff, concern)
    # An urgent escalation ten days ago, handled in minutes.
    with clock.frozen(now - timedelta(days=10)):
        situation = UrgentSituation.SUICIDE_RISK
        urgent = await services.escalate_now(
            mentor, UrgentEscalation(situation=situation, match_id=pressed_match)
        )
        clock.advance(timedelta(minutes=6))
        await services.acknowledge(staff, urgent.id)
        await services.close(staff, urgent.id, Outcome.REFERRED_TO_EMERGENCY_SERVICES)
    return 6
