"""Boundary and safety concerns, the supervisors' notes on them, and each step taken.

Statuses, categories and severities are the `rules` enums stored as text. A concern outlives
the people in it: when its reporter deletes their account the reporter link becomes empty
(ON DELETE SET NULL) and the concern stays for supervision; the match is kept as a plain id
for the same reason (and because a slice's tables reference only `accounts` tables).
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from tandem.accounts.tables import Membership, Program


class Concern(Table, tablename="safety_concern"):
    """One concern about a match or a person, on a deadline clock from the moment it is filed.

    Only supervisors ever see `reporter` and `description`; the audit trail and events carry ids
    and enum values, never the words.
    """

    program = ForeignKey(references=Program, on_delete=OnDelete.restrict, index=True)
    category = Varchar(length=32, index=True)
    severity = Varchar(length=4, index=True)
    status = Varchar(length=16, index=True)
    urgent = Boolean(default=False)
    # The urgent situation of a mentor's "escalate now" (rules.UrgentSituation), if any.
    situation = Varchar(length=32, null=True, default=None)
    # Keys of the yes/no answers that raised the severity (rules.Question.key).
    answers = JSON(default="[]")
    description = Text(default="", secret=True)
    reporter = ForeignKey(
        references=Membership, on_delete=OnDelete.set_null, null=True, default=None, index=True
    )
    reporter_role = Varchar(length=16, null=True, default=None)
    # Whom the concern is about (the mentor of the match for a newcomer's report).
    about = ForeignKey(
        references=Membership, on_delete=OnDelete.set_null, null=True, default=None, index=True
    )
    match_id = Integer(null=True, default=None, index=True)
    rematch_requested = Boolean(default=False)
    # Raised by three small concerns about the same mentor (rules.pattern_escalates).
    from_pattern = Boolean(default=False)
    # A supervisor's holds while the concern is open: no new matches for the mentor, and a
    # module the mentor must pass again (after `retake_required_at`) before new matches.
    mentor_paused = Boolean(default=False)
    retake_module = Varchar(length=64, null=True, default=None)
    retake_required_at = Timestamptz(null=True, default=None)
    filed_at = Timestamptz(index=True)
    due_at = Timestamptz(index=True)
    acknowledged_at = Timestamptz(null=True, default=None)
    # Set once, by the one loop tick that tells every supervisor the concern is overdue.
    overdue_escalated_at = Timestamptz(null=True, default=None, index=True)
    closed_at = Timestamptz(null=True, default=None, index=True)
    outcome = Varchar(length=40, null=True, default=None)


class ConcernStep(Table, tablename="safety_concern_step"):
    """What happened to a concern, in order: filed, acknowledged, a note, an action, closed.
    A note's words are here (staff only), never in the audit trail."""

    concern = ForeignKey(references=Concern, on_delete=OnDelete.cascade, index=True)
    program = ForeignKey(references=Program, on_delete=OnDelete.restrict, index=True)
    actor = ForeignKey(references=Membership, on_delete=OnDelete.set_null, null=True, default=None)
    step = Varchar(length=24)
    action = Varchar(length=32, null=True, default=None)
    note = Text(default="", secret=True)
    at = Timestamptz(index=True)
