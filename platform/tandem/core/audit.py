"""Recording who changed what. Called inside the same transaction as the change itself."""

from __future__ import annotations

from datetime import UTC, datetime

from tandem.core.auth import Caller
from tandem.core.tables import AuditEvent

AuditValue = str | int | bool | None | list[str]

# What erasure leaves where a person's id was (`privacy.services.delete_my_data`): the actor of
# their own events becomes DELETED_ACTOR, and a record id naming them becomes ERASED.
DELETED_ACTOR = -1
ERASED = "erased"
# Records whose id in the trail is a membership id (`person` and `membership` name themselves).
MEMBERSHIP_ENTITIES = frozenset({"membership", "newcomer_profile", "mentor_profile"})
# Words that, as the last part of a column, detail key or entity name, say it names a person
# (`mentor_id`, `reviewed_by`, `recipients`): erasure and the export's completeness test read it.
PERSON_WORDS = frozenset(
    {
        "person",
        "membership",
        "member",
        "mentor",
        "newcomer",
        "actor",
        "recipient",
        "supervisor",
        "reviewer",
        "reporter",
        "author",
        "owner",
        "assignee",
        "user",
    }
)


def names_a_person(name: str) -> bool:
    """Whether a column, key or entity called `name` holds a person's or membership's id."""
    words = name.lower().split("_")
    if len(words) > 1 and words[-1] in ("id", "ids"):
        words = words[:-1]
    last = words[-1].removesuffix("s")
    return last in PERSON_WORDS or (len(words) > 1 and words[-1] == "by")


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
