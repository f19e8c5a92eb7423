"""The audit trail as staff read it: who did what to which record and when, filtered, a page at
a time, and as CSV for the program's own compliance review.

The trail (`core.tables.AuditEvent`) holds ids and enum values only, so nothing here can show a
note or anything a person wrote; people are shown by display name, looked up when the page is
read (a person who deleted their account is named as such, never by their old name).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any

from litestar.params import FromQuery
from msgspec import Struct

from tandem.accounts import services as accounts
from tandem.core import audit
from tandem.core.audit import DELETED_ACTOR, ERASED, MEMBERSHIP_ENTITIES
from tandem.core.auth import Caller
from tandem.core.database import transaction
from tandem.core.errors import MAX_ID, Invalid
from tandem.core.pagination import Page, PageRequest, paginate
from tandem.core.tables import AuditEvent

# A read of a sensitive record (an intake, a pause note, a concern) is recorded with an action
# ending in "read" or "viewed" (`intake.read`, `mentor.pause_notes_read`); the viewer marks
# those and can show only them.
SENSITIVE_READ = re.compile(r"[._](read|viewed)$")
# The CSV holds at most this many events; narrow the filters for more (the page says so).
CSV_LIMIT = 20_000
_NAME = re.compile(r"^[a-z_.]{1,64}$")
_RECORD = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
AUTOMATIC = "Tandem (automatic)"
DELETED_NAME = "A person who deleted their account"


class AuditFilter(Struct, frozen=True, kw_only=True):
    """What the trail is narrowed to; every field optional."""

    person: int | None = None  # the person who acted (a person id)
    entity: str | None = None  # the kind of record (`mentor_match`, `newcomer_profile`, ...)
    record: str | None = None  # that record's id; needs `entity`
    action: str | None = None  # the kind of event (`match.ended`, `intake.read`, ...)
    sensitive: bool = False  # only reads of sensitive records

    def used(self) -> list[str]:
        """The names of the filters in use (what the audit of an export records)."""
        return [name for name in self.__struct_fields__ if getattr(self, name) not in (None, False)]


class AuditEntry(Struct, frozen=True):
    id: int
    at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    entity: str
    entity_id: str
    about_name: str | None
    sensitive_read: bool
    detail: dict[str, Any]


class AuditChoices(Struct, frozen=True):
    """What the filter form offers: the program's people and the kinds in its trail."""

    people: list[tuple[int, str]]
    actions: list[str]
    entities: list[str]


class _Stored(Struct, frozen=True):
    id: int
    at: datetime
    actor_id: int | None
    action: str
    entity: str
    entity_id: str
    detail: dict[str, Any] | None = None


def checked_filter(
    person: str | None = None,
    entity: str | None = None,
    record: str | None = None,
    action: str | None = None,
    sensitive: str | None = None,
) -> AuditFilter:
    """An `AuditFilter` from query-string values (blank means unset), or `Invalid` in words."""
    person, entity, record, action = (
        (value or "").strip() or None for value in (person, entity, record, action)
    )
    if person is not None and not (person.isdigit() and 1 <= int(person) <= MAX_ID):
        raise Invalid("Choose a person from the list.", field="person")
    if entity is not None and not _NAME.match(entity):
        raise Invalid("Choose a kind of record from the list.", field="entity")
    if action is not None and not _NAME.match(action):
        raise Invalid("Choose a kind of event from the list.", field="action")
    if record is not None:
        if entity is None:
            raise Invalid("Choose the kind of record as well as its number.", field="record")
        if not _RECORD.match(record):
            raise Invalid(
                "A record number has letters, digits, dots or dashes only (up to 64).",
                field="record",
            )
    return AuditFilter(
        person=int(person) if person else None,
        entity=entity,
        record=record,
        action=action,
        sensitive=(sensitive or "").lower() in {"on", "true", "1", "yes"},
    )


async def filter_request(
    person: FromQuery[str | None] = None,
    entity: FromQuery[str | None] = None,
    record: FromQuery[str | None] = None,
    action: FromQuery[str | None] = None,
    sensitive: FromQuery[str | None] = None,
) -> AuditFilter:
    """Litestar dependency: the trail's filters from the query string, checked (a bad one is a
    400 naming it, on the page and in the API alike)."""
    return checked_filter(person, entity, record, action, sensitive)


def _query(caller: Caller, where: AuditFilter) -> Any:
    query = AuditEvent.select(
        AuditEvent.id,
        AuditEvent.at,
        AuditEvent.actor_id,
        AuditEvent.action,
        AuditEvent.entity,
        AuditEvent.entity_id,
        AuditEvent.detail,
    ).where(AuditEvent.program_id == caller.program_id)
    if where.person is not None:
        query = query.where(AuditEvent.actor_id == where.person)
    if where.entity is not None:
        query = query.where(AuditEvent.entity == where.entity)
    if where.record is not None:
        query = query.where(AuditEvent.entity_id == where.record)
    if where.action is not None:
        query = query.where(AuditEvent.action == where.action)
    if where.sensitive:
        query = query.where(AuditEvent.action.like("%read") | AuditEvent.action.like("%viewed"))
    # Newest first; the id breaks ties so no event moves between pages.
    return query.order_by(AuditEvent.at, AuditEvent.id, ascending=False).output(load_json=True)


class _Names:
    """Display names for one program, loaded once per page."""

    def __init__(self, by_person: dict[int, str], by_membership: dict[int, str]) -> None:
        self.by_person, self.by_membership = by_person, by_membership

    def actor(self, actor_id: int | None) -> str:
        if actor_id is None or actor_id == 0:
            return AUTOMATIC
        if actor_id == DELETED_ACTOR:
            return DELETED_NAME
        return self.by_person.get(actor_id, "A former member")

    def about(self, entity: str, entity_id: str) -> str | None:
        if entity_id == ERASED:
            return DELETED_NAME
        if not entity_id.isdigit():
            return None
        if entity in MEMBERSHIP_ENTITIES:
            return self.by_membership.get(int(entity_id), "A former member")
        if entity == "person":
            return self.by_person.get(int(entity_id), "A former member")
        return None

    def entry(self, row: _Stored) -> AuditEntry:
        return AuditEntry(
            id=row.id,
            at=row.at,
            actor_id=row.actor_id,
            actor_name=self.actor(row.actor_id),
            action=row.action,
            entity=row.entity,
            entity_id=row.entity_id,
            about_name=self.about(row.entity, row.entity_id),
            sensitive_read=bool(SENSITIVE_READ.search(row.action)),
            detail=row.detail or {},
        )


async def _names(caller: Caller) -> _Names:
    by_person, by_membership, _ = await accounts.member_names(caller.program_id)
    return _Names(by_person, by_membership)


async def trail(caller: Caller, where: AuditFilter, page: PageRequest) -> Page[AuditEntry]:
    """One page of the program's trail, newest first (one query for the events, one for names)."""
    stored = await paginate(_query(caller, where), page, _Stored)
    names = await _names(caller)
    return Page(
        items=[names.entry(row) for row in stored.items],
        limit=stored.limit,
        offset=stored.offset,
        next_offset=stored.next_offset,
    )


async def choices(caller: Caller) -> AuditChoices:
    """The filter form's lists: people of the program by name, and the kinds in its trail."""
    by_person, _, roles = await accounts.member_names(caller.program_id)
    actions = await (
        AuditEvent.select(AuditEvent.action)
        .where(AuditEvent.program_id == caller.program_id)
        .distinct()
        .output(as_list=True)
    )
    entities = await (
        AuditEvent.select(AuditEvent.entity)
        .where(AuditEvent.program_id == caller.program_id)
        .distinct()
        .output(as_list=True)
    )
    return AuditChoices(
        # Display names repeat (first names or aliases): the role and number tell people apart.
        people=[
            (person, f"{name} ({roles[person]}, no. {person})")
            for person, name in sorted(by_person.items(), key=lambda i: (i[1].casefold(), i[0]))
        ],
        actions=sorted(actions),
        entities=sorted(entities),
    )


CSV_COLUMNS = (
    "when_utc",
    "who",
    "who_person_id",
    "event",
    "record",
    "record_id",
    "about",
    "sensitive_read",
    "detail",
)


def _cell(value: str) -> str:
    """A spreadsheet must not run a cell as a formula: a name beginning with =, +, - or @ is
    written with a leading apostrophe."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@") else value


def _detail_text(detail: dict[str, Any]) -> str:
    parts = []
    for key in sorted(detail):
        value = detail[key]
        shown = ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
        parts.append(f"{key}={shown}")
    return "; ".join(parts)


async def trail_csv(caller: Caller, where: AuditFilter) -> str:
    """The filtered trail as CSV (newest first, at most `CSV_LIMIT` events). The export is
    itself recorded, with the names of the filters used."""
    rows = await _query(caller, where).limit(CSV_LIMIT)
    names = await _names(caller)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        entry = names.entry(_Stored(**row))
        writer.writerow(
            [
                entry.at.isoformat(),
                _cell(entry.actor_name),
                "" if entry.actor_id is None else entry.actor_id,
                entry.action,
                entry.entity,
                entry.entity_id,
                _cell(entry.about_name or ""),
                "yes" if entry.sensitive_read else "no",
                _detail_text(entry.detail),
            ]
        )
    async with transaction():
        await audit.record(
            caller, "audit.exported", "audit_event", "trail", filters=where.used(), rows=len(rows)
        )
    return out.getvalue()
