"""Requests for a mentor, the proposals supervisors review, offers to mentors, and matches.

Statuses are the `lifecycle` enums stored as text. A proposal keeps its explanation as it was
when the engine made it, so it reads the same later even after profiles change. Every row hangs
off memberships and goes when the person deletes their data; a program with rows cannot be
deleted by accident.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Real,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from tandem.accounts.tables import Membership, Program


class MentorRequest(Table, tablename="match_request"):
    """A newcomer asking for a mentor. Languages and formats are copied from the intake when
    the request is made, so the wait estimate can find "requests like this one" later."""

    newcomer = ForeignKey(references=Membership, on_delete=OnDelete.cascade, index=True)
    program = ForeignKey(references=Program, on_delete=OnDelete.restrict, index=True)
    status = Varchar(length=16, index=True)
    languages = JSON(default="[]")
    formats = JSON(default="[]")
    # When no mentor fits: hard rule -> how many mentors it ruled out (staff see these).
    unmatched_reasons = JSON(default="{}")
    created_at = Timestamptz(index=True)
    updated_at = Timestamptz()
    matched_at = Timestamptz(null=True, default=None, index=True)


class MatchProposal(Table, tablename="match_proposal"):
    """The engine's best mentor for a request, with up to three alternatives, for review."""

    request = ForeignKey(references=MentorRequest, on_delete=OnDelete.cascade, index=True)
    program = ForeignKey(references=Program, on_delete=OnDelete.restrict, index=True)
    mentor = ForeignKey(references=Membership, on_delete=OnDelete.cascade, index=True)
    score = Real()
    # {mentor_id, score, contributions, reasons, shared_hours, shared_grid, rules_held}
    explanation = JSON(default="{}")
    alternatives = JSON(default="[]")
    weights = JSON(default="{}")
    # The `MatchWeights.version` the score used; 0 is the engine's defaults (rows from before
    # versioned weights were all made with those).
    weights_version = Integer(default=0)
    status = Varchar(length=16, index=True)
    auto_approved = Boolean(default=False)
    chosen_mentor = Integer(null=True, default=None)
    # Only staff read the note; the audit trail names the field, never its words.
    staff_note = Text(default="", secret=True)
    reviewed_by = Integer(null=True, default=None)
    created_at = Timestamptz(index=True)
    reviewed_at = Timestamptz(null=True, default=None)


class MentorOffer(Table, tablename="match_offer"):
    """An approved proposal put to one mentor, who accepts or declines (no penalty)."""

    proposal = ForeignKey(references=MatchProposal, on_delete=OnDelete.cascade, index=True)
    request = ForeignKey(references=MentorRequest, on_delete=OnDelete.cascade, index=True)
    program = ForeignKey(references=Program, on_delete=OnDelete.restrict, index=True)
    mentor = ForeignKey(references=Membership, on_delete=OnDelete.cascade, index=True)
    status = Varchar(length=16, index=True)
    created_at = Timestamptz()
    expires_at = Timestamptz(index=True)
    answered_at = Timestamptz(null=True, default=None)
    # The mentor's optional private reason for declining: staff only.
    decline_reason = Text(default="", secret=True)


class MentorMatch(Table, tablename="mentor_match"):
    """A newcomer and a mentor working together, until either (or a supervisor) ends it."""

    request = ForeignKey(references=MentorRequest, on_delete=OnDelete.cascade, index=True)
    program = ForeignKey(references=Program, on_delete=OnDelete.restrict, index=True)
    newcomer = ForeignKey(references=Membership, on_delete=OnDelete.cascade, index=True)
    mentor = ForeignKey(references=Membership, on_delete=OnDelete.cascade, index=True)
    status = Varchar(length=16, index=True)
    # Indexed for the trends: matches grouped by the week they started.
    started_at = Timestamptz(index=True)
    ended_at = Timestamptz(null=True, default=None)
    end_reason = Varchar(length=32, null=True, default=None)
    ended_by_role = Varchar(length=16, null=True, default=None)


class BatchRun(Table, tablename="match_batch_run"):
    """The figures of one batch-matching run, shown to supervisors."""

    program = ForeignKey(references=Program, on_delete=OnDelete.cascade, index=True)
    started_at = Timestamptz(index=True)
    seconds = Real()
    waiting = Integer()
    proposed = Integer()
    # Unmatched by reason (no_feasible_mentor, capacity_exhausted) -> how many.
    unmatched = JSON(default="{}")
    # Where the time went: load, assign, store (seconds).
    timings = JSON(default="{}")


class BatchLease(Table, tablename="match_batch_lease"):
    """Who runs batch matching for a program now, until when (SQLite; PostgreSQL uses an
    advisory lock). Taken with one conditional upsert, so two processes cannot both hold it; a
    holder that dies leaves it to expire, and the next run takes it over."""

    program = ForeignKey(references=Program, on_delete=OnDelete.cascade, unique=True)
    holder = Varchar(length=64)
    expires_at = Timestamptz()


class RetryMarker(Table, tablename="match_retry_marker"):
    """A program whose mentors changed (a profile, a training pass, a pause, a freed place):
    the matches worker retries its waiting requests soon after. Append-only, so the change that
    writes one never waits on another; the worker deletes the markers it has handled."""

    program = ForeignKey(references=Program, on_delete=OnDelete.cascade, index=True)
    created_at = Timestamptz()


class PlacesMarker(Table, tablename="match_places_marker"):
    """A program's change marker for mentors' places (`core.changes.Marker`): redrawn by every
    change to who holds a place (an offer made, answered, lapsed or withdrawn; a match started
    or ended) or to a gate another slice adds (safety's holds), so the per-process answer of
    `services.mentor_places` is checked against it in one small read."""

    program_id = Integer(unique=True)
    token = Varchar(length=32)


class MatchWeights(Table, tablename="match_weights"):
    """One version of a program's matching weights, learned from its outcomes: suggested, then
    adopted or rejected by a supervisor. The adopted version with the highest number is the one
    the engine scores with; with none, version 0 (the engine's defaults). The held-out evaluation
    is kept with it, so the reason for a change can be read afterwards."""

    program = ForeignKey(references=Program, on_delete=OnDelete.cascade, index=True)
    version = Integer(index=True)
    weights = JSON(default="{}")
    status = Varchar(length=16, index=True)
    # {history, lasting, not_lasting, held_out, auc_current, auc_suggested, based_on_version}
    evaluation = JSON(default="{}")
    suggested_by = Integer(null=True, default=None)
    created_at = Timestamptz()
    decided_by = Integer(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
