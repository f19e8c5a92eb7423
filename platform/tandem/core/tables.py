"""The audit trail: who did what to which record, and when. Never the content itself."""

from __future__ import annotations

from piccolo.columns import JSON, Integer, Timestamptz, Varchar
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
