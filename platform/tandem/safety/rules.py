"""The rules of boundary and safety concerns, pure: the 13 categories with their default
severity and plain words, the answers that raise a severity, the deadline each severity gives
(from the program's settings, counting business days in the program's own time zone), the one
table of allowed steps, overdue, and the pattern that turns three small concerns into one that
needs corrective action. No database, web or clock: `services` loads, applies these, writes.

Severities and timings follow the training standards, section 9: S1 (someone may be in danger
now) 15 minutes, S2 4 hours, S3 1 business day, S4 3 business days; each is a program setting.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Final, Protocol
from zoneinfo import ZoneInfo

from tandem.core.severity import Severity


class Category(StrEnum):
    """The taxonomy of the training standards (B1-B13), in the order people read it."""

    ROMANTIC = "romantic"
    MONEY = "money"
    GIFTS = "gifts"
    DUAL_RELATIONSHIP = "dual_relationship"
    CONFIDENTIALITY = "confidentiality"
    SCOPE = "scope"
    PATHWAY_PRESSURE = "pathway_pressure"
    COMMUNICATION = "communication"
    SELF_DISCLOSURE = "self_disclosure"
    MENTOR_WELLBEING = "mentor_wellbeing"
    HARASSMENT = "harassment"
    NEWCOMER_PRESSURE = "newcomer_pressure"
    SAFETY = "safety"


class ConcernStatus(StrEnum):
    OPEN = "open"  # filed; nobody has acknowledged it yet (its deadline is running)
    ACKNOWLEDGED = "acknowledged"
    ACTING = "acting"  # a supervisor has taken at least one protective step
    CLOSED = "closed"


class Step(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    NOTE = "note"
    ACT = "act"
    CLOSE = "close"


class Action(StrEnum):
    """What a supervisor can do about a concern (each one audited)."""

    SUSPEND_MATCH = "suspend_match"
    PAUSE_MENTOR = "pause_mentor"
    REQUIRE_RETAKE = "require_retake"
    REMATCH_NEWCOMER = "rematch_newcomer"


class Outcome(StrEnum):
    """How a concern ends, recorded when it is closed."""

    RESOLVED_WITH_COACHING = "resolved_with_coaching"
    CORRECTIVE_PLAN = "corrective_plan"
    MATCH_ENDED = "match_ended"
    REFERRED_TO_EMERGENCY_SERVICES = "referred_to_emergency_services"
    MANDATED_REPORT_MADE = "mandated_report_made"
    NOT_SUBSTANTIATED = "not_substantiated"
    NO_ACTION_NEEDED = "no_action_needed"


class UrgentSituation(StrEnum):
    """What a mentor's "escalate now" is for: each one is an S1 safety concern."""

    OVERDOSE = "overdose"
    SUICIDE_RISK = "suicide_risk"
    ABUSE = "abuse"
    THREAT_TO_OTHERS = "threat_to_others"


@dataclass(frozen=True, slots=True)
class Question:
    """A yes/no question about what happened; a yes raises the severity to `raises_to`."""

    key: str
    text: str
    raises_to: Severity


@dataclass(frozen=True, slots=True)
class CategoryRule:
    label: str
    description: str
    default: Severity
    questions: tuple[Question, ...] = ()


S1, S2, S3, S4 = Severity.S1, Severity.S2, Severity.S3, Severity.S4
SEVERITIES: Final[tuple[Severity, ...]] = (S1, S2, S3, S4)
OPEN_STATUSES: Final[tuple[ConcernStatus, ...]] = (
    ConcernStatus.OPEN,
    ConcernStatus.ACKNOWLEDGED,
    ConcernStatus.ACTING,
)

CATEGORIES: Final[dict[Category, CategoryRule]] = {
    Category.ROMANTIC: CategoryRule(
        "Romance or sexual contact",
        "Flirting, asking for a date, sexual messages or pictures, or physical closeness.",
        S2,
        (
            Question("sexual_contact", "Was there sexual contact, or pressure into it?", S1),
            Question("minor_involved", "Was anyone under 18 involved?", S1),
        ),
    ),
    Category.MONEY: CategoryRule(
        "Money",
        "Lending or borrowing, selling something, asking for donations, paid extra coaching, "
        "or hiring the newcomer.",
        S2,
    ),
    Category.GIFTS: CategoryRule(
        "Gifts and favors",
        "Gifts, cash or vouchers, or personal favors such as rides, housing or childcare.",
        S4,
        (
            Question("over_cap", "Was it worth more than a small token, or cash?", S3),
            Question("repeated_or_pressured", "Has it happened again, or felt pressured?", S2),
        ),
    ),
    Category.DUAL_RELATIONSHIP: CategoryRule(
        "Another relationship besides mentoring",
        "The mentor is also a sponsor, employer, landlord, co-worker, housemate or business "
        "partner.",
        S3,
        (Question("power_hold", "Does one person have power over the other's money or home?", S2),),
    ),
    Category.CONFIDENTIALITY: CategoryRule(
        "Privacy",
        "Sharing someone's story in meetings or online, screenshots, or contacting family "
        "without agreement.",
        S3,
        (Question("identified", "Could someone be recognised from what was shared?", S2),),
    ),
    Category.SCOPE: CategoryRule(
        "Advice a peer should not give",
        "Advice about medication or doses, diagnosing, legal advice, or counselling trauma.",
        S3,
        (
            Question(
                "medication_or_care",
                "Was someone told to stop or change a medication, or to skip care?",
                S2,
            ),
        ),
    ),
    Category.PATHWAY_PRESSURE: CategoryRule(
        "Pressure about a recovery pathway, or disrespect",
        "Pushing toward or away from a pathway (12-step, medication, faith, harm reduction), "
        "hurtful words about people who use substances, or bias.",
        S3,
        (
            Question(
                "discrimination",
                "Was it harassment or unfair treatment because of who someone is?",
                S2,
            ),
        ),
    ),
    Category.COMMUNICATION: CategoryRule(
        "Contact and availability",
        "Moving contact to a personal phone or social media, contact late at night, or too "
        "many messages.",
        S4,
        (
            Question("after_coaching", "Has it carried on after it was talked about?", S3),
            Question("hidden", "Was it kept from the supervisor on purpose?", S2),
        ),
    ),
    Category.SELF_DISCLOSURE: CategoryRule(
        "Sharing too much, or roles turned around",
        "Graphic stories of past use, or the mentor leaning on the newcomer for their own support.",
        S4,
        (Question("role_reversal", "Is the newcomer now mostly supporting the mentor?", S3),),
    ),
    Category.MENTOR_WELLBEING: CategoryRule(
        "The mentor's own wellbeing",
        "The mentor seemed under the influence during contact, a return to use that was not "
        "shared, or deep exhaustion.",
        S3,
        (Question("impaired_contact", "Was the mentor under the influence during contact?", S2),),
    ),
    Category.HARASSMENT: CategoryRule(
        "Harassment, threats or manipulation",
        "Intimidation, manipulation or harassment, by the mentor or toward the mentor.",
        S2,
        (Question("violence", "Was anyone threatened with violence?", S1),),
    ),
    Category.NEWCOMER_PRESSURE: CategoryRule(
        "A newcomer asking for more than mentoring",
        "A newcomer asking for money, romance or contact off the program's channels; the "
        "mentor may need support.",
        S4,
        (Question("repeated", "Has it happened more than once?", S3),),
    ),
    Category.SAFETY: CategoryRule(
        "Someone's safety",
        "Thoughts of suicide, an overdose, abuse of a child or vulnerable adult, violence at "
        "home, or a threat to someone else.",
        S2,
        (Question("imminent", "Is someone in danger right now?", S1),),
    ),
}

# What each urgent situation asks the mentor to do first, before anything else on the page.
URGENT_STEPS: Final[dict[UrgentSituation, tuple[str, tuple[str, ...]]]] = {
    UrgentSituation.OVERDOSE: (
        "Someone may be overdosing",
        (
            "Call the emergency number now, or get someone nearby to call.",
            "Give naloxone if you have it; a second dose after 2-3 minutes if there is no "
            "response.",
            "Support their breathing, and lay them on their side if they are breathing.",
            "Stay with them until help arrives.",
        ),
    ),
    UrgentSituation.SUICIDE_RISK: (
        "Someone may be at risk of suicide",
        (
            "If they are in danger now, call the emergency number.",
            "Stay connected. Ask directly about suicide and listen.",
            "Help them contact the crisis line (call or text 988); stay with them while they do.",
            "Do not promise to keep it secret.",
        ),
    ),
    UrgentSituation.ABUSE: (
        "A child or vulnerable adult may be harmed",
        (
            "If anyone is in danger now, call the emergency number.",
            "Tell the newcomer kindly that you must involve your supervisor.",
            "Do not investigate yourself; your supervisor makes any report the law requires.",
        ),
    ),
    UrgentSituation.THREAT_TO_OTHERS: (
        "Someone has threatened to harm another person",
        (
            "Do not confront anyone. Make sure you and others are safe.",
            "If the danger is immediate, call the emergency number.",
            "Write down what was said, in their words, for your supervisor.",
        ),
    ),
}
WHILE_WAITING: Final[tuple[str, ...]] = (
    "Stay where you are safe, and with the person if that is safe.",
    "Keep your phone with you: the on-call supervisor will contact you.",
    "Look after yourself afterwards; the crisis line is there for mentors too.",
)

RANK: Final[dict[Severity, int]] = {S1: 1, S2: 2, S3: 3, S4: 4}
WHAT_HAPPENS_NEXT: Final[dict[Severity, str]] = {
    S1: "The on-call supervisor is alerted now and responds within minutes.",
    S2: "A supervisor responds the same day; a match may be paused while they look into it.",
    S3: "A supervisor looks into it and agrees next steps within a business day.",
    S4: "A supervisor reads it and talks it through at the next supervision.",
}


def severity_for(
    category: Category, answers: Iterable[str] = (), *, urgent: bool = False
) -> Severity:
    """The category's default severity, raised by any answer that says so; urgent means S1.
    An answer that is not one of the category's questions is ignored (the edge refuses it)."""
    rule = CATEGORIES[category]
    given = set(answers)
    severities = [rule.default, *(q.raises_to for q in rule.questions if q.key in given)]
    if urgent:
        severities.append(S1)
    return min(severities, key=RANK.__getitem__)


def unknown_answers(category: Category, answers: Iterable[str]) -> list[str]:
    known = {q.key for q in CATEGORIES[category].questions}
    return sorted(set(answers) - known)


class ResponseTimes(Protocol):
    """The program settings the deadlines read (`accounts.ProgramSettings` has them)."""

    @property
    def time_zone(self) -> str: ...
    @property
    def s1_response_minutes(self) -> int: ...
    @property
    def s2_response_hours(self) -> int: ...
    @property
    def s3_response_business_days(self) -> int: ...
    @property
    def s4_response_business_days(self) -> int: ...


def is_business_day(day: date) -> bool:
    """Monday to Friday. (Public holidays are not known to Tandem yet.)"""
    return day.weekday() < 5


def add_business_days(start: datetime, days: int, zone: str) -> datetime:
    """`days` business days after `start`, counted on the program's own calendar: the same
    local time that many weekdays later. Filed on a weekend, the count starts when the next
    business day begins (so Saturday + 1 business day is the end of Monday). Local wall time
    is kept across daylight-saving changes; the answer is in UTC-aware form like `start`."""
    tz = ZoneInfo(zone)
    local = start.astimezone(tz)
    day, at = local.date(), local.timetz().replace(tzinfo=None)
    if not is_business_day(day):
        while not is_business_day(day):
            day += timedelta(days=1)
        at = time(0, 0)
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_business_day(day):
            counted += 1
    return datetime.combine(day, at, tzinfo=tz).astimezone(start.tzinfo)


def due_at(severity: Severity, filed_at: datetime, settings: ResponseTimes) -> datetime:
    """When a supervisor must have acknowledged the concern and taken the first step."""
    if severity is S1:
        return filed_at + timedelta(minutes=settings.s1_response_minutes)
    if severity is S2:
        return filed_at + timedelta(hours=settings.s2_response_hours)
    days = (
        settings.s3_response_business_days if severity is S3 else settings.s4_response_business_days
    )
    return add_business_days(filed_at, days, settings.time_zone)


def is_overdue(status: str, due: datetime, now: datetime) -> bool:
    """Nobody has acknowledged it and its time has passed (acknowledging stops the clock)."""
    return status == ConcernStatus.OPEN and now > due


class InvalidStep(Exception):
    """The concern is in a state that does not allow the step; the message says which."""

    def __init__(self, status: str, step: Step) -> None:
        self.status, self.step = status, step
        super().__init__(f"This concern is {status}, so it cannot be {_DONE[step]} now.")


_DONE = {
    Step.ACKNOWLEDGE: "acknowledged",
    Step.NOTE: "given a note",
    Step.ACT: "acted on",
    Step.CLOSE: "closed",
}
C = ConcernStatus
# (status, step) -> next status. Anything not listed is refused.
TRANSITIONS: Final[dict[tuple[ConcernStatus, Step], ConcernStatus]] = {
    (C.OPEN, Step.ACKNOWLEDGE): C.ACKNOWLEDGED,
    (C.OPEN, Step.NOTE): C.OPEN,
    (C.OPEN, Step.ACT): C.ACTING,
    (C.OPEN, Step.CLOSE): C.CLOSED,
    (C.ACKNOWLEDGED, Step.NOTE): C.ACKNOWLEDGED,
    (C.ACKNOWLEDGED, Step.ACT): C.ACTING,
    (C.ACKNOWLEDGED, Step.CLOSE): C.CLOSED,
    (C.ACTING, Step.NOTE): C.ACTING,
    (C.ACTING, Step.ACT): C.ACTING,
    (C.ACTING, Step.CLOSE): C.CLOSED,
}


def advance(status: str, step: Step) -> ConcernStatus:
    """The only way a concern moves."""
    try:
        current = ConcernStatus(status)
    except ValueError:
        raise InvalidStep(status, step) from None
    following = TRANSITIONS.get((current, step))
    if following is None:
        raise InvalidStep(current.value, step)
    return following


PATTERN_WINDOW: Final = timedelta(days=90)
PATTERN_COUNT: Final = 3


def pattern_escalates(
    small_concerns: Sequence[datetime], last_pattern_at: datetime | None, now: datetime
) -> bool:
    """Three S4 concerns about the same mentor within 90 days raise an S3. Concerns already
    counted by an earlier pattern concern do not count again, so each three raise one."""
    since = now - PATTERN_WINDOW
    if last_pattern_at is not None:
        since = max(since, last_pattern_at)
    return sum(1 for at in small_concerns if at > since) >= PATTERN_COUNT


def holds_new_matches(severity: str, status: str) -> bool:
    """An open S1 or S2 concern about a mentor holds them back from new matches."""
    return severity in (S1, S2) and status in OPEN_STATUSES


def retention_cutoff(now: datetime, days: int) -> datetime:
    """Closed concerns that closed before this are purged."""
    return now - timedelta(days=days)
