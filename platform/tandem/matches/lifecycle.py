"""The rules of the match journey, pure: states, the one table of allowed transitions, the caseload
rule and the wait estimate. No database, web or clock: `services` loads, applies these, writes.

A request moves waiting -> under_review (a proposal is with the supervisors) -> offered (the
mentor has an offer) -> matched (an active match) -> closed (the match ended). A proposal, an
offer and a match each have their own short life; `advance` is the only way any of them moves.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Final


class RequestStatus(StrEnum):
    WAITING = "waiting"  # in the queue: no proposal yet, or none fitted
    UNDER_REVIEW = "under_review"
    OFFERED = "offered"
    MATCHED = "matched"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class ProposalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class OfferStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    LAPSED = "lapsed"
    WITHDRAWN = "withdrawn"


class MatchStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class EndReason(StrEnum):
    COMPLETED = "completed"
    REMATCH_REQUESTED = "rematch_requested"
    MENTOR_UNAVAILABLE = "mentor_unavailable"
    SAFETY = "safety"


class Action(StrEnum):
    PROPOSE = "propose"
    OFFER = "offer"
    APPROVE = "approve"
    DECLINE = "decline"
    ACCEPT = "accept"
    LAPSE = "lapse"
    REQUEUE = "requeue"
    END = "end"
    WITHDRAW = "withdraw"


State = RequestStatus | ProposalStatus | OfferStatus | MatchStatus
R, P, OF, M = RequestStatus, ProposalStatus, OfferStatus, MatchStatus

# (kind, state, action) -> next state. Anything not listed is refused.
TRANSITIONS: Final[dict[tuple[str, State, Action], State]] = {
    ("request", R.WAITING, Action.PROPOSE): R.UNDER_REVIEW,
    ("request", R.UNDER_REVIEW, Action.OFFER): R.OFFERED,
    ("request", R.UNDER_REVIEW, Action.REQUEUE): R.WAITING,
    ("request", R.OFFERED, Action.REQUEUE): R.WAITING,
    ("request", R.OFFERED, Action.ACCEPT): R.MATCHED,
    ("request", R.MATCHED, Action.END): R.CLOSED,
    ("request", R.WAITING, Action.WITHDRAW): R.WITHDRAWN,
    ("request", R.UNDER_REVIEW, Action.WITHDRAW): R.WITHDRAWN,
    ("request", R.OFFERED, Action.WITHDRAW): R.WITHDRAWN,
    ("proposal", P.PENDING, Action.APPROVE): P.APPROVED,
    ("proposal", P.PENDING, Action.DECLINE): P.DECLINED,
    ("proposal", P.PENDING, Action.WITHDRAW): P.WITHDRAWN,
    ("offer", OF.OPEN, Action.ACCEPT): OF.ACCEPTED,
    ("offer", OF.OPEN, Action.DECLINE): OF.DECLINED,
    ("offer", OF.OPEN, Action.LAPSE): OF.LAPSED,
    ("offer", OF.OPEN, Action.WITHDRAW): OF.WITHDRAWN,
    ("match", M.ACTIVE, Action.END): M.ENDED,
}
KINDS: Final[dict[str, type[StrEnum]]] = {
    "request": RequestStatus,
    "proposal": ProposalStatus,
    "offer": OfferStatus,
    "match": MatchStatus,
}
OPEN_REQUEST: Final[tuple[RequestStatus, ...]] = (R.WAITING, R.UNDER_REVIEW, R.OFFERED, R.MATCHED)
_DONE = {
    Action.PROPOSE: "proposed",
    Action.OFFER: "offered",
    Action.APPROVE: "approved",
    Action.DECLINE: "declined",
    Action.ACCEPT: "accepted",
    Action.LAPSE: "lapsed",
    Action.REQUEUE: "put back in the queue",
    Action.END: "ended",
    Action.WITHDRAW: "withdrawn",
}


class InvalidTransition(Exception):
    """The record is in a state that does not allow the action; the message says which."""

    def __init__(self, kind: str, state: str, action: Action) -> None:
        self.kind, self.state, self.action = kind, state, action
        super().__init__(
            f"This {kind} is {state.replace('_', ' ')}, so it cannot be {_DONE[action]} now."
        )


def advance(kind: str, state: str, action: Action) -> State:
    """The state after `action`, or InvalidTransition naming the state the record is in."""
    current = KINDS[kind](state)
    following = TRANSITIONS.get((kind, current, action))  # type: ignore[call-overload]
    if following is None:
        raise InvalidTransition(kind, current.value, action)
    return following


# --- the caseload rule ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseloadRule:
    """The program's tiers: `new_limit` mentees in the first `new_months` as a mentor, then
    `experienced_limit`; never more than the mentor offered (their profile's capacity)."""

    new_months: int = 6
    new_limit: int = 2
    experienced_limit: int = 4


def months_between(start: datetime, end: datetime) -> int:
    """Whole calendar months from `start` to `end` (0 when `end` is earlier)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if (end.day, end.time()) < (start.day, start.time()):
        months -= 1
    return max(months, 0)


def experienced_from(rule: CaseloadRule, mentor_since: datetime) -> datetime:
    """The first moment `months_between(mentor_since, t)` reaches `rule.new_months`: the same
    day and time that many calendar months on, or, where that month is too short for the day,
    the first moment of the month after."""
    month = mentor_since.month - 1 + rule.new_months
    year, month = mentor_since.year + month // 12, month % 12 + 1
    if mentor_since.day <= calendar.monthrange(year, month)[1]:
        return mentor_since.replace(year=year, month=month)
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return datetime.combine(date(year, month, 1), time(), mentor_since.tzinfo)


def caseload_limit(
    rule: CaseloadRule, capacity: int, mentor_since: datetime | None, now: datetime
) -> int:
    """How many mentees this mentor may have at once now."""
    new = mentor_since is None or months_between(mentor_since, now) < rule.new_months
    return max(0, min(capacity, rule.new_limit if new else rule.experienced_limit))


def places_left(limit: int, active_matches: int, open_offers: int) -> int:
    """Places still free: an open offer holds its place until it is answered or lapses."""
    return max(0, limit - active_matches - open_offers)


# --- the wait estimate ------------------------------------------------------------------------

MIN_HISTORY: Final = 5  # fewer past requests than this give no range: we say so instead
HISTORY_DAYS: Final = 90


@dataclass(frozen=True, slots=True)
class WaitEstimate:
    """From `based_on` past requests like this one: most waited `low_days` to `high_days`.

    `low_days`/`high_days` are None when the history is too short to say anything honest.
    """

    based_on: int
    low_days: int | None = None
    high_days: int | None = None

    @property
    def known(self) -> bool:
        return self.low_days is not None

    def sentence(self) -> str:
        """What the newcomer reads."""
        if self.low_days is None or self.high_days is None:
            past = "no past requests" if self.based_on == 0 else f"only {self.based_on}"
            return (
                "We cannot say yet how long it usually takes: in the last 90 days the program "
                f"has {past} like yours to go by."
            )
        basis = f"based on {self.based_on} similar requests in the last 90 days"
        if self.high_days <= 1:
            return f"Usually within a day ({basis})."
        if self.low_days == self.high_days:
            return f"Usually about {self.high_days} days ({basis})."
        return f"Usually {self.low_days} to {self.high_days} days ({basis})."


def _quantile(sorted_days: Sequence[float], share: float) -> float:
    """Linear-interpolated quantile of sorted values."""
    at = share * (len(sorted_days) - 1)
    low = math.floor(at)
    high = min(low + 1, len(sorted_days) - 1)
    return sorted_days[low] + (sorted_days[high] - sorted_days[low]) * (at - low)


def wait_estimate(waits: Sequence[timedelta], minimum: int = MIN_HISTORY) -> WaitEstimate:
    """The middle half of past waits (25th to 75th percentile), in whole days.

    With fewer than `minimum` waits there is no range: a number from two requests would be a
    guess dressed up as a fact.
    """
    if len(waits) < minimum:
        return WaitEstimate(based_on=len(waits))
    days = sorted(w.total_seconds() / 86400 for w in waits)
    low = math.floor(_quantile(days, 0.25))
    high = max(math.ceil(_quantile(days, 0.75)), 1)
    return WaitEstimate(based_on=len(waits), low_days=max(low, 0), high_days=high)
