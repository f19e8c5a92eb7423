"""A person's right to see and erase what Tandem holds about them, across every slice."""

from __future__ import annotations

from typing import Any

from tandem.accounts import services as accounts
from tandem.core.audit import record
from tandem.core.auth import Caller
from tandem.core.clock import clock
from tandem.core.errors import Invalid
from tandem.core.tables import AuditEvent
from tandem.matches import services as matches
from tandem.profiles import services as profiles
from tandem.safety import services as safety
from tandem.training import services as training

# What a person types to confirm they mean to erase their account (the page and the API alike).
CONFIRMATION = "delete my data"


def check_confirmation(text: str) -> None:
    if text.strip().lower() != CONFIRMATION:
        raise Invalid(f'To delete your data, type "{CONFIRMATION}".', field="confirm")


async def export_my_data(caller: Caller) -> dict[str, Any]:
    """One JSON document with the caller's records from every slice, and the audit events
    about their own actions (ids and actions only, as stored)."""
    actions = await AuditEvent.select(
        AuditEvent.action, AuditEvent.entity, AuditEvent.entity_id, AuditEvent.at
    ).where(AuditEvent.actor_id == caller.person_id)
    await record(caller, "person.exported", "person", caller.person_id)
    return {
        "exported_at": clock.now().isoformat(),
        **await accounts.export_account(caller),
        **await profiles.export_profiles(caller),
        **await training.export_training(caller),
        **await matches.export_matches(caller),
        **await safety.export_care(caller),
        **await safety.export_concerns(caller),
        "my_actions": actions,
    }


async def delete_my_data(caller: Caller) -> None:
    await matches.leave(caller)
    await accounts.delete_person(caller)
