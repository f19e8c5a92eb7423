"""The rules of check-ins and mentor self-care as pure functions (no database or web imports).

`care_services` loads rows, asks these and writes what they decide, so the mentor's page, the
supervisor's lists and the dashboard can never disagree about what is flagged or quiet. Every
function takes the moment it judges (`today`, a contact's own date and hour) as an argument:
tests set the time instead of waiting for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

# A match with no check-in for this long (or none since it began this long ago) has gone quiet.
QUIET_AFTER_DAYS = 21
# More contacts than this within any 7 days (the new one included) is unusually frequent:
# a volunteer 1:1 mentee relationship is typically one or two contacts a week.
FREQUENT_CONTACTS = 5
FREQUENT_WINDOW = timedelta(days=7)
# The longest single contact a mentor can log, and the oldest date they can log it for.
MAX_MINUTES = 600
OLDEST_CHECK_IN = timedelta(days=60)


class Channel(StrEnum):
    IN_PERSON = "in_person"
    VIDEO = "video"
    PHONE = "phone"
    TEXT = "text"


CHANNEL_LABELS: dict[str, str] = {
    Channel.IN_PERSON: "In person",
    Channel.VIDEO: "Video call",
    Channel.PHONE: "Phone call",
    Channel.TEXT: "Text messages",
}


class Topic(StrEnum):
    GENERAL = "general"
    MEETINGS = "meetings"
    CRAVINGS = "cravings"
    GOALS = "goals"
    HOUSING = "housing"
    WORK = "work"
    FAMILY = "family"
    HEALTH = "health"
    WELLBEING = "wellbeing"
    RESOURCES = "resources"


TOPIC_LABELS: dict[str, str] = {
    Topic.GENERAL: "General catch-up",
    Topic.MEETINGS: "Meetings and recovery groups",
    Topic.CRAVINGS: "Cravings and hard moments",
    Topic.GOALS: "Goals and next steps",
    Topic.HOUSING: "Housing",
    Topic.WORK: "Work, study or money worries",
    Topic.FAMILY: "Family and relationships",
    Topic.HEALTH: "Health and care appointments",
    Topic.WELLBEING: "Mood and wellbeing",
    Topic.RESOURCES: "Finding resources or services",
}


class CheckInFlag(StrEnum):
    """Low-severity signals for supervision: something to look at, never a concern by itself."""

    OUTSIDE_AGREED_HOURS = "outside_agreed_hours"
    FREQUENT_CONTACT = "frequent_contact"


FLAG_LABELS: dict[str, str] = {
    CheckInFlag.OUTSIDE_AGREED_HOURS: "Outside the agreed hours",
    CheckInFlag.FREQUENT_CONTACT: "Unusually frequent contact",
}


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Hours (0-23, the mentor's own time zone) a mentor keeps for themselves, from `start` up
    to, not including, `end`; they may run past midnight (21 -> 7)."""

    start: int
    end: int

    def covers(self, hour: int) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= hour < self.end
        return hour >= self.start or hour < self.end


def agreed_hours(shared_grid: Sequence[Sequence[int]], quiet: QuietHours | None) -> list[set[int]]:
    """Per weekday (0 = Monday), the hours contact was agreed in: the hours both people said
    they are free (the match's shared availability, in the mentor's zone), less the mentor's
    quiet hours. Quiet hours win: a mentor's own time is respected even where both are free.
    A match with no shared hours at all (text-only, say) agreed none to stay within, so only
    the quiet hours count there; flagging its every contact would drown the real signals."""
    days = (list(shared_grid) + [[]] * 7)[:7]
    if not any(days):
        days = [range(24)] * 7
    return [{hour for hour in hours if quiet is None or not quiet.covers(hour)} for hours in days]


def hours_touched(start_hour: int, start_minute: int, minutes: int) -> list[tuple[int, int]]:
    """(day offset, hour) of every hour a contact ran in, from its start for `minutes`."""
    first = start_hour * 60 + start_minute
    last = first + max(minutes, 1) - 1
    return [(m // (24 * 60), (m // 60) % 24) for m in range(first - first % 60, last + 1, 60)]


def outside_agreed_hours(
    day: date,
    start_hour: int,
    start_minute: int,
    minutes: int,
    shared_grid: Sequence[Sequence[int]],
    quiet: QuietHours | None,
) -> bool:
    """Whether any part of a contact fell outside the agreed hours (see `agreed_hours`)."""
    agreed = agreed_hours(shared_grid, quiet)
    return any(
        hour not in agreed[(day.weekday() + offset) % 7]
        for offset, hour in hours_touched(start_hour, start_minute, minutes)
    )


def frequent_contact(day: date, earlier_days: Iterable[date]) -> bool:
    """Whether a contact on `day` makes more than `FREQUENT_CONTACTS` within 7 days, counting
    the match's other logged contacts in the 7 days ending on `day`."""
    window_start = day - FREQUENT_WINDOW + timedelta(days=1)
    within = sum(1 for other in earlier_days if window_start <= other <= day)
    return within + 1 > FREQUENT_CONTACTS


def check_in_flags(
    day: date,
    start_hour: int,
    start_minute: int,
    minutes: int,
    shared_grid: Sequence[Sequence[int]],
    quiet: QuietHours | None,
    earlier_days: Iterable[date],
) -> list[CheckInFlag]:
    """The flags a new check-in raises for supervision, in a fixed order."""
    flags: list[CheckInFlag] = []
    if outside_agreed_hours(day, start_hour, start_minute, minutes, shared_grid, quiet):
        flags.append(CheckInFlag.OUTSIDE_AGREED_HOURS)
    if frequent_contact(day, earlier_days):
        flags.append(CheckInFlag.FREQUENT_CONTACT)
    return flags


def check_in_date_problem(day: date, today: date) -> str | None:
    """Why a check-in's date cannot be logged, in plain words, or None."""
    if day > today:
        return "The date of a check-in cannot be in the future."
    if day < today - OLDEST_CHECK_IN:
        return f"Please log check-ins within {OLDEST_CHECK_IN.days} days of the contact."
    return None


# --- gone quiet -------------------------------------------------------------------------------


def days_quiet(last_check_in: date | None, match_started: date, today: date) -> int:
    """Days since the last check-in, or since the match began when there is none yet."""
    return max(0, (today - (last_check_in or match_started)).days)


def gone_quiet(last_check_in: date | None, match_started: date, today: date) -> bool:
    """A match has gone quiet after `QUIET_AFTER_DAYS` without a check-in."""
    return days_quiet(last_check_in, match_started, today) >= QUIET_AFTER_DAYS


def quiet_since(today: date) -> date:
    """The latest last-contact date that already counts as quiet on `today` (for one query)."""
    return today - timedelta(days=QUIET_AFTER_DAYS)


# --- the monthly wellbeing check-in ----------------------------------------------------------

WELLBEING_QUESTIONS: dict[str, str] = {
    "rested": "How rested and well have you felt this month?",
    "load": "How manageable has your mentoring felt?",
    "supported": "How supported have you felt, by the program and your own people?",
    "recovery": "How steady has your own recovery felt?",
}
# 1 = not at all ... 5 = very; each question on the same scale.
SCALE = (1, 2, 3, 4, 5)
SCALE_LABELS = {1: "Not at all", 2: "A little", 3: "Somewhat", 4: "Mostly", 5: "Very"}
# Any answer at or below this suggests a conversation with the supervisor.
LOW_ANSWER = 2


def wellbeing_problem(answers: Mapping[str, int]) -> str | None:
    """Why a set of answers is not a complete wellbeing check-in, or None."""
    for key, question in WELLBEING_QUESTIONS.items():
        if answers.get(key) not in SCALE:
            return f"Please answer: {question}"
    unknown = set(answers) - set(WELLBEING_QUESTIONS)
    if unknown:
        return f"There is no question called {sorted(unknown)[0]!r}."
    return None


def suggests_conversation(answers: Mapping[str, int]) -> bool:
    """Low answers suggest talking with the supervisor; the mentor decides whether to ask."""
    return any(answers.get(key, SCALE[-1]) <= LOW_ANSWER for key in WELLBEING_QUESTIONS)


def wellbeing_due(last_answered: date | None, today: date) -> bool:
    """The wellbeing check-in is monthly: due when none was answered this calendar month."""
    return last_answered is None or (last_answered.year, last_answered.month) != (
        today.year,
        today.month,
    )


def month_start(today: date) -> date:
    return today.replace(day=1)


# --- a return to use -------------------------------------------------------------------------

# What Tandem offers a mentor who tells us about a return to use: support, never a penalty.
SUPPORT_PLAN: tuple[str, ...] = (
    "Your new matches are paused, so you can put your own recovery first. Your current mentees "
    "are not told why, and nothing here is a disciplinary record.",
    "Lean on your own supports: your sponsor, mentor, group, counsellor or clinician.",
    "If you are in crisis, call or text 988 any time; it is there for mentors too.",
    "Talk with your supervisor when you are ready: they learn only that you asked for a "
    "conversation, not why.",
    "Agree a return plan together, and come back to new matches when you both feel ready.",
)
