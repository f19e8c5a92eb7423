"""Recording who changed what. Called inside the same transaction as the change itself."""

from __future__ import annotations

from datetime import UTC, datetime

from tandem.core.auth import Caller
from tandem.core.tables import AuditEvent

AuditValue = str | int | bool | None | list[str]


def _check(detail: dict[str, AuditValue]) -> None:
    for key, value in detail.items():
        if isinstance(value, str) and len(value) > 64:
            raise ValueError(f"audit detail {key!r} looks like free text; store ids or enums")


async def record(
    caller: Caller | None,
    action: str,
    entity: str,
    entity_id: int | str,
    *,
    program_id: int | None = None,
    **detail: AuditValue,
) -> None:
    """Append one audit event.

    `detail` takes ids, enum values and lists of changed field names only: the trail must never
    hold a password, a token or anything a person wrote in their own words, so long strings are
    refused outright rather than trusted to every caller.
    """
    _check(detail)
    await AuditEvent.insert(
        AuditEvent(
            program_id=program_id if program_id is not None else (caller and caller.program_id),
            actor_id=caller.person_id if caller else None,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            detail=detail,
            at=datetime.now(UTC),
        )
    )


async def record_many(
    caller: Caller | None,
    action: str,
    entity: str,
    entries: list[tuple[int | str, dict[str, AuditValue]]],
    *,
    program_id: int,
) -> None:
    """Append one audit event per `(entity_id, detail)` in a single insert: a batch step that
    changes thousands of records audits each of them without a query apiece."""
    if not entries:
        return
    at = datetime.now(UTC)
    events = []
    for entity_id, detail in entries:
        _check(detail)
        events.append(
            AuditEvent(
                program_id=program_id,
                actor_id=caller.person_id if caller else None,
                action=action,
                entity=entity,
                entity_id=str(entity_id),
                detail=detail,
                at=at,
            )
        )
    await AuditEvent.insert(*events)
