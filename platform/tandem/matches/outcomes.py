"""The outcome loop's rules, pure: how a past match turned out, the life of a weights version, and
the evaluation in plain words. No database, web or clock: `services` loads, applies these, writes.

A match that is still active 90 days after it started (or ended later than that) is *lasting*;
one that ended before is *ended early*; one a concern was raised about counts as *a concern
raised* whatever its length. A match younger than 90 days and still going has no outcome yet.
The learned weights are only a suggestion until a supervisor adopts them: suggested -> adopted
or rejected, once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

LASTING: Final = timedelta(days=90)
DEFAULT_VERSION: Final = 0  # the engine's own weights; no row holds it


class Outcome(StrEnum):
    """How a past match turned out; the values are the engine's (`matching.Outcome`)."""

    LASTING = "active_at_90_days"
    ENDED_EARLY = "ended_early"
    CONCERN_RAISED = "concern_raised"


class WeightsStatus(StrEnum):
    SUGGESTED = "suggested"
    ADOPTED = "adopted"
    REJECTED = "rejected"


def outcome_of(
    started_at: datetime, ended_at: datetime | None, now: datetime, *, concern: bool
) -> Outcome | None:
    """The outcome of one match as of `now`, or None while it is too young to tell."""
    if concern:
        return Outcome.CONCERN_RAISED
    if ended_at is not None and ended_at - started_at < LASTING:
        return Outcome.ENDED_EARLY
    if (ended_at or now) - started_at >= LASTING:
        return Outcome.LASTING
    return None


def decide(status: str, adopt: bool) -> WeightsStatus | None:
    """The new status of a suggestion adopted or rejected; None when it was already decided
    (a suggestion is decided once)."""
    if status != WeightsStatus.SUGGESTED.value:
        return None
    return WeightsStatus.ADOPTED if adopt else WeightsStatus.REJECTED


def _percent(auc: float) -> str:
    return f"{round(auc * 100)}%"


def evaluation_sentence(
    auc_suggested: float, auc_current: float, held_out: int, history: int
) -> str:
    """The held-out evaluation as a supervisor reads it (the AUC is the chance that a lasting
    match ranks above one that did not last)."""
    return (
        f"With these weights, the model ranks a lasting match above an early ending or a concern"
        f" {_percent(auc_suggested)} of the time, against {_percent(auc_current)} now, on"
        f" {held_out} past matches it did not learn from ({history} past matches in all)."
    )


def thin_history_sentence(history: int, lasting: int, need: int, need_each: int) -> str:
    """Why nothing can be learned yet, without inventing a number."""
    others = history - lasting
    return (
        f"Not enough history to learn from yet: {history} past matches with a known outcome"
        f" ({lasting} lasting, {others} ended early or with a concern). The model needs at least"
        f" {need}, with at least {need_each} of each, before it can suggest anything; until then"
        f" the current weights stay."
    )


def not_better_sentence(
    auc_learned: float | None, auc_current: float | None, held_out: int, history: int
) -> str:
    """The fit ran but found nothing clearly better: the current weights stay."""
    if auc_learned is None or auc_current is None:
        return (
            f"No factor predicted a lasting match in {history} past matches; the current"
            f" weights stay."
        )
    return (
        f"No better weights found: the best the model learned ranks a lasting match above an"
        f" early ending or a concern {_percent(auc_learned)} of the time, against"
        f" {_percent(auc_current)} now, on {held_out} past matches it did not learn from; the"
        f" current weights stay."
    )
