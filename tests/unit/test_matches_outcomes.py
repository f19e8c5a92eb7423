"""The outcome loop's pure rules: how a past match turned out, deciding a suggestion once, and
the evaluation in plain words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tandem.matches.outcomes import (
    Outcome,
    WeightsStatus,
    decide,
    evaluation_sentence,
    not_better_sentence,
    outcome_of,
    thin_history_sentence,
)

START = datetime(2026, 1, 1, tzinfo=UTC)


def days(n: int) -> datetime:
    return START + timedelta(days=n)


@pytest.mark.parametrize(
    ("ended", "now", "concern", "expected"),
    [
        (None, days(90), False, Outcome.LASTING),  # still active at 90 days
        (None, days(89), False, None),  # too young to tell
        (days(120), days(300), False, Outcome.LASTING),  # ended after 90 days
        (days(89), days(300), False, Outcome.ENDED_EARLY),
        (days(10), days(11), False, Outcome.ENDED_EARLY),  # known early, however young
        (None, days(300), True, Outcome.CONCERN_RAISED),  # a concern counts whatever the length
        (days(5), days(6), True, Outcome.CONCERN_RAISED),
    ],
)
def test_the_outcome_of_a_match(
    ended: datetime | None, now: datetime, concern: bool, expected: Outcome | None
) -> None:
    assert outcome_of(START, ended, now, concern=concern) == expected


def test_outcomes_are_the_engines() -> None:
    from typing import get_args

    from matching import Outcome as EngineOutcome

    assert {o.value for o in Outcome} == set(get_args(EngineOutcome))


def test_a_suggestion_is_decided_once() -> None:
    assert decide("suggested", adopt=True) is WeightsStatus.ADOPTED
    assert decide("suggested", adopt=False) is WeightsStatus.REJECTED
    assert decide("adopted", adopt=False) is None
    assert decide("rejected", adopt=True) is None


def test_the_evaluation_in_plain_words() -> None:
    assert evaluation_sentence(0.714, 0.638, 45, 180) == (
        "With these weights, the model ranks a lasting match above an early ending or a concern"
        " 71% of the time, against 64% now, on 45 past matches it did not learn from (180 past"
        " matches in all)."
    )
    thin = thin_history_sentence(60, 45, 200, 20)
    assert "60 past matches with a known outcome (45 lasting, 15 ended early" in thin
    assert "at least 200, with at least 20 of each" in thin
    assert "71% of the time, against 70% now" in not_better_sentence(0.71, 0.70, 50, 200)
    assert "No factor predicted" in not_better_sentence(None, None, 50, 200)
