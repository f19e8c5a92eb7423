"""A past whose better matching weights are known, for the outcome loop's tests.

Two kinds of newcomer and two kinds of mentor: each newcomer shares a recovery pathway with one
kind of mentor and lived experience with the other. In this history a match lasted exactly when
the pair shared lived experience. The engine's own weights count a shared pathway twice as much
as shared lived experience, so they rank the early endings first; weights learned from this
history must rank held-out matches better, with more weight on lived experience than on pathway.

The people go through the services; the past matches are written straight into the tables (a
replay of 240 journeys through the services would take minutes), with nothing the services
would not have written.
"""

from __future__ import annotations

from datetime import timedelta

from tandem.core.clock import clock
from tandem.core.database import transaction
from tandem.matches.lifecycle import EndReason, MatchStatus, RequestStatus
from tandem.matches.outcomes import WeightsStatus
from tandem.matches.services import places_changed
from tandem.matches.tables import MatchWeights, MentorMatch, MentorRequest
from tests.support.journey import new_mentor, new_newcomer

NEWCOMER_KINDS = (
    {"pathways": ["smart_recovery"], "lived_experience": ["parenting"]},
    {"pathways": ["twelve_step"], "lived_experience": ["veteran"]},
)
MENTOR_KINDS = (
    {"pathways": ["smart_recovery"], "lived_experience": ["veteran"]},
    {"pathways": ["twelve_step"], "lived_experience": ["parenting"]},
)
# Every factor, as a stored suggestion holds them.
SUGGESTED = {
    "pathway": 1.0,
    "recovery_gap": 1.0,
    "availability": 2.0,
    "format": 1.0,
    "area": 1.0,
    "lived_experience": 3.5,
    "hopes_bio": 1.0,
    "load_balance": 0.5,
}


async def past_match(
    program_id: int, newcomer: int, mentor: int, started_days_ago: int, lasted_days: int | None
) -> int:
    """One request and its match, started `started_days_ago`; ended after `lasted_days` (None:
    still active). Returns the match id."""
    started = clock.now() - timedelta(days=started_days_ago)
    ended = None if lasted_days is None else started + timedelta(days=lasted_days)
    request = await MentorRequest.insert(
        MentorRequest(
            newcomer=newcomer,
            program=program_id,
            status=(RequestStatus.MATCHED if ended is None else RequestStatus.CLOSED).value,
            languages=["en"],
            formats=["video"],
            created_at=started - timedelta(days=3),
            updated_at=ended or started,
            matched_at=started,
        )
    ).returning(MentorRequest.id)
    # Written as the journey writes one: its places marker redrawn in the same transaction.
    async with transaction():
        await places_changed(program_id)
        match = await MentorMatch.insert(
            MentorMatch(
                request=request[0]["id"],
                program=program_id,
                newcomer=newcomer,
                mentor=mentor,
                status=(MatchStatus.ACTIVE if ended is None else MatchStatus.ENDED).value,
                started_at=started,
                ended_at=ended,
                end_reason=None if ended is None else EndReason.COMPLETED.value,
                ended_by_role=None if ended is None else "newcomer",
            )
        ).returning(MentorMatch.id)
    return int(match[0]["id"])


async def known_history(program_id: int, size: int = 240, prefix: str = "past") -> list[int]:
    """`size` ended matches between 8 newcomers and 4 mentors (every kind with every kind),
    lasting (120 days) exactly when the pair shares lived experience, else ending after 20 days.
    Returns the match ids, oldest first."""
    newcomers = [
        (await new_newcomer(program_id, f"{prefix}-newcomer-{i}", **NEWCOMER_KINDS[i % 2]), i % 2)
        for i in range(8)
    ]
    mentors = [
        (await new_mentor(program_id, f"{prefix}-mentor-{i}", **MENTOR_KINDS[i % 2]), i % 2)
        for i in range(4)
    ]
    ids = []
    for step in range(size):
        (newcomer, n_kind), (mentor, m_kind) = newcomers[step % 8], mentors[(step // 8) % 4]
        shares_lived_experience = n_kind != m_kind
        ids.append(
            await past_match(
                program_id,
                newcomer.membership_id,
                mentor.membership_id,
                started_days_ago=130 + size - step,
                lasted_days=120 if shares_lived_experience else 20,
            )
        )
    return ids


async def suggested_weights(program_id: int) -> int:
    """A suggestion waiting for a decision (the tenancy matrix needs a real version); returns
    its version number."""
    await MatchWeights.insert(
        MatchWeights(
            program=program_id,
            version=1,
            weights=SUGGESTED,
            status=WeightsStatus.SUGGESTED.value,
            evaluation={
                "history": 240,
                "lasting": 120,
                "held_out": 60,
                "auc_current": 0.5,
                "auc_suggested": 0.75,
                "based_on_version": 0,
            },
            created_at=clock.now(),
        )
    )
    return 1
