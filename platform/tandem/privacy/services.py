"""A person's right to see and erase what Tandem holds about them, across every slice.

`EXPORTED` says where each table holding a person's data lands in their download, and
`NOT_EXPORTED` why the few others stay out; `tests/integration/test_privacy.py` reads every
table Piccolo knows and fails when one that names a person or membership is in neither, so a new
slice's table cannot be forgotten. Deletion erases the account (its rows cascade with it) after
each slice has taken the person out of what outlives them: the match history stays for the
figures and the outcome loop, anonymous; the audit trail keeps what happened, not who.
"""

from __future__ import annotations

from typing import Any

from tandem.accounts import services as accounts
from tandem.core.audit import (
    DELETED_ACTOR,
    ERASED,
    MEMBERSHIP_ENTITIES,
    names_a_person,
    record,
)
from tandem.core.auth import Caller
from tandem.core.clock import clock
from tandem.core.database import transaction
from tandem.core.errors import Invalid
from tandem.core.tables import AuditEvent
from tandem.matches import services as matches
from tandem.notifications import services as notifications
from tandem.profiles import services as profiles
from tandem.safety import services as safety
from tandem.training import services as training

# What a person types to confirm they mean to erase their account (the page and the API alike).
CONFIRMATION = "delete my data"

# Table -> the key of the download that holds its rows about the person.
EXPORTED: dict[str, str] = {
    "person": "person",
    "membership": "memberships",
    "newcomer_profile": "intake",
    "mentor_profile": "mentor_profile",
    "declined_application": "declined_application",
    "training_quiz_attempt": "training",
    "training_lesson_visit": "training",
    "training_attempt_unlock": "training",
    "match_request": "match_requests",
    "match_proposal": "match_proposals",
    "match_offer": "match_offers",
    "mentor_match": "matches",
    "notice": "notices",
    "audit_event": "my_actions",
    "safety_concern": "concerns_filed",
    "care_check_in": "check_ins",
    "care_mentor_settings": "self_care",
    "care_return_to_use": "self_care",
    "care_wellbeing": "self_care",
    "care_conversation": "self_care",
}
# Tables that name a person but hold nothing about them worth a download, and why.
NOT_EXPORTED: dict[str, str] = {
    "web_session": "a signed-in browser's session key, not information about the person; "
    "ended on deletion",
    "safety_concern_step": "a supervisor's handling of a concern, part of the program's safety "
    "record; their own actions are in my_actions, and the step's author becomes empty on deletion",
    "match_weights": "which staff member suggested or decided a version of the program's "
    "weights: a decision about the program, in my_actions; the link is erased on deletion",
}


def check_confirmation(text: str) -> None:
    if text.strip().lower() != CONFIRMATION:
        raise Invalid(f'To delete your data, type "{CONFIRMATION}".', field="confirm")


async def export_my_data(caller: Caller) -> dict[str, Any]:
    """One JSON document with the caller's records from every slice, and the audit events
    about their own actions (ids and actions only, as stored)."""
    actions = await AuditEvent.select(
        AuditEvent.action, AuditEvent.entity, AuditEvent.entity_id, AuditEvent.at
    ).where(AuditEvent.actor_id == caller.person_id)
    async with transaction():
        await record(caller, "person.exported", "person", caller.person_id)
    return {
        "exported_at": clock.now().isoformat(),
        **await accounts.export_account(caller),
        **await profiles.export_profiles(caller),
        **await training.export_training(caller),
        **await matches.export_matches(caller),
        **await notifications.export_notices(caller),
        **await safety.export_care(caller),
        **await safety.export_concerns(caller),
        "my_actions": actions,
    }


async def delete_my_data(caller: Caller) -> None:
    """End what is under way (the others are told kindly), then in one transaction take the
    person out of every slice's history and erase the account."""
    await matches.leave(caller)
    async with transaction():
        await matches.forget(caller)
        await notifications.forget(caller)
        await accounts.delete_person(caller)
        await _anonymise_trail(caller)


def _by_person(key: str) -> bool:
    """Details name memberships (`mentor`, `mentors`), except a person or an actor."""
    return key.startswith(("person", "actor", "user"))


def _scrubbed(value: Any, ids: set[str]) -> Any:
    if isinstance(value, list):
        return [_scrubbed(item, ids) for item in value]
    return ERASED if str(value) in ids else value


async def _anonymise_trail(caller: Caller) -> None:
    """The trail keeps every event; those the person did are by "a person who deleted their
    account", and a record or detail naming them names no one."""
    person, member = str(caller.person_id), str(caller.membership_id)
    await AuditEvent.update({AuditEvent.actor_id: DELETED_ACTOR}).where(
        AuditEvent.actor_id == caller.person_id
    )
    await AuditEvent.update({AuditEvent.entity_id: ERASED}).where(
        (AuditEvent.entity == "person") & (AuditEvent.entity_id == person)
    )
    await AuditEvent.update({AuditEvent.entity_id: ERASED}).where(
        AuditEvent.entity.is_in(sorted(MEMBERSHIP_ENTITIES)) & (AuditEvent.entity_id == member)
    )
    rows = (
        await AuditEvent.select(AuditEvent.id, AuditEvent.detail)
        .where(AuditEvent.program_id == caller.program_id)
        .output(load_json=True)
    )
    for row in rows:
        detail = row["detail"] or {}
        scrubbed = {
            key: _scrubbed(value, {person} if _by_person(key) else {member})
            if names_a_person(key)
            else value
            for key, value in detail.items()
        }
        if scrubbed != detail:
            await AuditEvent.update({AuditEvent.detail: scrubbed}).where(AuditEvent.id == row["id"])
