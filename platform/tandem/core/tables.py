"""The audit trail (who did what to which record, and when; never the content itself), the
rate-limit counters, the periodic loops' heartbeats and the eligibility change markers."""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, Integer, Timestamptz, Varchar
from piccolo.table import Table


class AuditEvent(Table, tablename="audit_event"):
    """One change. `detail` holds ids, enum values and names of changed fields only.

    Program and actor are plain integers rather than foreign keys so that the trail outlives
    the records it speaks of (a person who deletes their data leaves an anonymous trail).
    """

    program_id = Integer(null=True, index=True)
    actor_id = Integer(null=True, index=True)
    action = Varchar(length=64, index=True)
    entity = Varchar(length=64)
    entity_id = Varchar(length=64)
    detail = JSON(default="{}")
    at = Timestamptz(index=True)


class RateLimitCounter(Table, tablename="rate_limit_counter"):
    """Attempts of one kind from one account or address in one time window.

    `key` names the limit, the subject and the window (`login:account:river:29433012`); the
    count is raised by a single upsert so concurrent requests can never both see a free slot.
    """

    key = Varchar(length=200, unique=True)
    hits = Integer(default=0)
    expires_at = Timestamptz(index=True)


class Heartbeat(Table, tablename="heartbeat"):
    """The last round of one periodic loop (`core.heartbeat`): when, whether it went well, and
    how many rounds so far. Not per program: the loop serves every program at once."""

    name = Varchar(length=64, unique=True)
    at = Timestamptz()
    ok = Boolean(default=True)
    rounds = Integer(default=0)


class EligibilityMarker(Table, tablename="eligibility_marker"):
    """A program's change marker for who may be matched (`tandem.core.changes`).

    `token` is redrawn at random in the transaction of every change that can alter a mentor's
    eligibility, so a process that cached the answer knows from one small read whether it still
    holds. Random rather than counted: a rolled-back change's token is never seen again, where a
    counter would hand out the same number to the next change.
    """

    program_id = Integer(unique=True)
    token = Varchar(length=32)
