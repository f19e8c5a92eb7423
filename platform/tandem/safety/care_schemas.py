"""Check-in and self-care shapes at the HTTP edge. A mentor's self-care views carry only what is
theirs; supervisors' views carry no self-care detail at all, only conversation requests."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from msgspec import Meta, Struct

from tandem.core.edge import NoNul
from tandem.safety.care_rules import MAX_MINUTES, Channel, Topic

ClockTime = Annotated[
    str,
    Meta(
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
        extra={"pattern_message": "Times are written as HH:MM on a 24-hour clock, like 18:30."},
    ),
]
Hour = Annotated[int, Meta(ge=0, le=23, description="An hour of the day, 0-23")]
Score = Annotated[int, Meta(ge=1, le=5, description="1 = not at all ... 5 = very")]


class CheckInCreate(Struct, forbid_unknown_fields=True, kw_only=True):
    """One contact with a mentee. `start_time` is in the mentor's own time zone."""

    match_id: Annotated[int, Meta(ge=1, le=2**31 - 1)]
    contact_date: date
    start_time: ClockTime
    minutes: Annotated[int, Meta(ge=1, le=MAX_MINUTES)]
    channel: Annotated[Channel, Meta(title="How you met")]
    topics: Annotated[
        list[Topic], Meta(min_length=1, max_length=len(Topic), title="What you talked about")
    ]
    worried: bool = False
    note: Annotated[
        str,
        NoNul,
        Meta(
            max_length=280, description="A few words for your supervisor, if something worried you."
        ),
    ] = ""


class CheckInOut(Struct, kw_only=True):
    id: int
    match_id: int
    contact_date: date
    start_time: str
    minutes: int
    channel: str
    topics: list[str]
    worried: bool
    flags: list[str]


class FlaggedCheckIn(Struct, kw_only=True):
    """A line of the supervision list: a check-in that raised a flag or worried its mentor."""

    id: int
    match_id: int
    mentor_id: int
    mentor_name: str
    contact_date: date
    start_time: str
    minutes: int
    channel: str
    worried: bool
    note: str
    flags: list[str]


class QuietMatch(Struct, kw_only=True):
    """An active match with no check-in for 21 days (or none since it began 21+ days ago)."""

    match_id: int
    mentor_id: int
    newcomer_id: int
    last_check_in: date | None
    days_quiet: int


class QuietMatchLine(Struct, kw_only=True):
    """A gone-quiet match with the first names or aliases its reader may see."""

    match_id: int
    mentor_name: str
    newcomer_name: str
    last_check_in: date | None
    days_quiet: int


class QuietHoursIn(Struct, forbid_unknown_fields=True, kw_only=True):
    """Both hours, or neither to clear them. They may run past midnight (21 to 7)."""

    start: Hour | None = None
    end: Hour | None = None


class MentorLoadOut(Struct, kw_only=True):
    active_matches: int
    places_left: int
    check_ins_this_month: int


class SelfCareOut(Struct, kw_only=True):
    """The mentor's own self-care page, for their eyes only."""

    load: MentorLoadOut
    quiet_start: int | None
    quiet_end: int | None
    wellbeing_due: bool
    last_wellbeing: date | None
    new_matches_held_since: datetime | None
    conversation_asked_at: datetime | None


class WellbeingIn(Struct, forbid_unknown_fields=True, kw_only=True):
    rested: Annotated[Score, Meta(title="How rested and well you have felt")]
    load: Annotated[Score, Meta(title="How manageable your mentoring has felt")]
    supported: Annotated[Score, Meta(title="How supported you have felt")]
    recovery: Annotated[Score, Meta(title="How steady your own recovery has felt")]
    talk_to_supervisor: bool = False


class WellbeingOut(Struct, kw_only=True):
    answered_on: date
    suggests_conversation: bool
    conversation_asked: bool


class ReturnToUseIn(Struct, forbid_unknown_fields=True, kw_only=True):
    talk_to_supervisor: bool = True


class ReturnToUseOut(Struct, kw_only=True):
    new_matches_held_since: datetime
    conversation_asked: bool
    support_plan: list[str]


class ConversationOut(Struct, kw_only=True):
    """What a supervisor learns: who asked to talk, and when. Never why."""

    id: int
    mentor_id: int
    mentor_name: str
    asked_at: datetime
    held_at: datetime | None
