"""The match journey's pure rules: every transition allowed or refused, caseload tiers, and the
wait estimate on a known history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tandem.matches.lifecycle import (
    KINDS,
    TRANSITIONS,
    Action,
    CaseloadRule,
    InvalidTransition,
    advance,
    caseload_limit,
    months_between,
    places_left,
    wait_estimate,
)

EVERY_STEP = [
    (kind, state, action) for kind, states in KINDS.items() for state in states for action in Action
]


@pytest.mark.parametrize(("kind", "state", "action"), EVERY_STEP)
def test_every_step_is_allowed_exactly_when_the_table_says(kind, state, action) -> None:
    allowed = TRANSITIONS.get((kind, state, action))
    if allowed is not None:
        assert advance(kind, state.value, action) is allowed
        return
    with pytest.raises(InvalidTransition) as refused:
        advance(kind, state.value, action)
    # The 409 names the state the record is in.
    assert f"This {kind} is {state.value.replace('_', ' ')}" in str(refused.value)


def test_the_journey_reads_in_order() -> None:
    state = "waiting"
    for action in (Action.PROPOSE, Action.OFFER, Action.ACCEPT, Action.END):
        state = advance("request", state, action).value
    assert state == "closed"


NOW = datetime(2026, 7, 1, tzinfo=UTC)
RULE = CaseloadRule(new_months=6, new_limit=2, experienced_limit=4)


@pytest.mark.parametrize(
    ("capacity", "since", "limit"),
    [
        (6, NOW - timedelta(days=30), 2),  # first months: the new-mentor tier
        (6, datetime(2026, 1, 2, tzinfo=UTC), 2),  # 5 months and 29 days
        (6, datetime(2026, 1, 1, tzinfo=UTC), 4),  # exactly six months
        (3, datetime(2024, 1, 1, tzinfo=UTC), 3),  # never more than the mentor offered
        (6, None, 2),  # not approved yet: treated as new
    ],
)
def test_caseload_limit_follows_the_tiers(capacity, since, limit) -> None:
    assert caseload_limit(RULE, capacity, since, NOW) == limit


def test_places_left_counts_matches_and_open_offers() -> None:
    assert places_left(4, 2, 1) == 1
    assert places_left(2, 2, 1) == 0
    assert months_between(datetime(2026, 1, 31, tzinfo=UTC), datetime(2026, 2, 28, tzinfo=UTC)) == 0


def test_wait_estimate_is_the_middle_half_of_a_known_history() -> None:
    waits = [timedelta(days=d) for d in (1, 2, 3, 3, 4, 5, 6, 8, 9, 20)]
    estimate = wait_estimate(waits)
    # 25th percentile 3 days, 75th 7.5 -> "3 to 8 days"; one long wait does not stretch it.
    assert (estimate.low_days, estimate.high_days, estimate.based_on) == (3, 8, 10)
    assert estimate.sentence() == (
        "Usually 3 to 8 days (based on 10 similar requests in the last 90 days)."
    )


def test_wait_estimate_with_too_little_history_says_so() -> None:
    estimate = wait_estimate([timedelta(days=2), timedelta(days=30)])
    assert not estimate.known
    assert "cannot say yet" in estimate.sentence()
    assert "only 2" in estimate.sentence()
    assert "no past requests" in wait_estimate([]).sentence()


def test_wait_estimate_of_quick_matches() -> None:
    assert (
        wait_estimate([timedelta(hours=h) for h in (2, 3, 5, 8, 20)])
        .sentence()
        .startswith("Usually within a day")
    )
