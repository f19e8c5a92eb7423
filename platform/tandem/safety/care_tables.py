"""Check-ins and mentor self-care.

Every row hangs off the mentor's membership (ON DELETE CASCADE, so deleting an account erases
them) and their program (RESTRICT, so a program with records cannot vanish by accident). The
match a check-in belongs to is stored as its id, not a foreign key: a slice reaches another
slice's tables only through its services. Self-care rows (a return to use, the wellbeing answers)
are the mentor's alone: no supervisor page reads them; supervisors see only conversation requests.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from tandem.accounts.tables import Membership, Program


class CheckIn(Table, tablename="care_check_in"):
    """One contact a mentor logged with their mentee, and the flags it raised for supervision."""

    program = ForeignKey(references=Program, on_delete=OnDelete.restrict, index=True)
    match_id = Integer(index=True)
    mentor = ForeignKey(references=Membership, on_delete=OnDelete.cascade, index=True)
    newcomer = ForeignKey(references=Membership, on_delete=OnDelete.cascade, index=True)
    contact_date = Date(index=True)
    # "HH:MM" in the mentor's own time zone, as the mentor typed it.
    start_time = Varchar(length=5)
    minutes = Integer()
    channel = Varchar(length=16)
    topics = JSON(default="[]")
    worried = Boolean(default=False)
    # A few words for the supervisor when something worried the mentor; staff only, never audited.
    note = Text(default="", secret=True)
    flags = JSON(default="[]")
    flagged = Boolean(default=False, index=True)
    created_at = Timestamptz()


class MentorCareSettings(Table, tablename="care_mentor_settings"):
    """The mentor's own quiet hours (0-23 in their zone; both null: none set)."""

    mentor = ForeignKey(references=Membership, on_delete=OnDelete.cascade, unique=True)
    program = ForeignKey(references=Program, on_delete=OnDelete.restrict, index=True)
    quiet_start = Integer(null=True, default=None)
    quiet_end = Integer(null=True, default=None)
    updated_at = Timestamptz()


class ReturnToUseReport(Table, tablename="care_return_to_use"):
    """A mentor's confidential report of a return to use: it holds new matches until the mentor
    says they are ready again. Only dates: nothing here is a disciplinary record."""

    mentor = ForeignKey(references=Membership, on_delete=OnDelete.cascade, index=True)
    program = ForeignKey(references=Program, on_delete=OnDelete.restrict, index=True)
    reported_at = Timestamptz()
    ready_at = Timestamptz(null=True, default=None, index=True)


class WellbeingCheckIn(Table, tablename="care_wellbeing"):
    """The mentor's monthly answers, question key -> 1-5 (see `care_rules.WELLBEING_QUESTIONS`)."""

    mentor = ForeignKey(references=Membership, on_delete=OnDelete.cascade, index=True)
    program = ForeignKey(references=Program, on_delete=OnDelete.restrict, index=True)
    answered_on = Date()
    answers = JSON(default="{}")
    answered_at = Timestamptz()


class ConversationRequest(Table, tablename="care_conversation"):
    """A mentor asked to talk with a supervisor. Deliberately carries no reason: supervisors
    learn that a conversation was asked for, and the mentor tells them the rest if they wish."""

    mentor = ForeignKey(references=Membership, on_delete=OnDelete.cascade, index=True)
    program = ForeignKey(references=Program, on_delete=OnDelete.restrict, index=True)
    asked_at = Timestamptz()
    held_at = Timestamptz(null=True, default=None, index=True)
    held_by = Integer(null=True, default=None)
