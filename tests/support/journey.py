"""Builders for the match journey: the shared builders with answers that fit each other (a
mentor and a newcomer who share a language, a format and evening hours), and new members.
"""

from __future__ import annotations

from typing import Any

from tandem.accounts import services as accounts
from tandem.accounts.passwords import hash_password
from tandem.core.auth import Caller, Role
from tests.support.builders import caller, newcomer_with_intake, trained_mentor
from tests.support.people import PASSWORD

INTAKE: dict[str, Any] = {
    "recovery_stage": "1_to_3_months",
    "pathways": ["smart_recovery"],
    "pathway_strictness": "preferred",
    "languages": ["en"],
    "formats": ["video", "phone"],
    "gender": "woman",
    "wanted_gender": "any",
    "timezone": "America/New_York",
    "availability": [{"day": 0, "start": "18:00", "end": "21:00"}],
    "hopes": "Someone to talk to after work, when it gets hard.",
    "share_with_mentor": ["pathways"],
}
MENTOR_PROFILE: dict[str, Any] = {
    "recovery_start": "2018-04-01",
    "pathways": ["smart_recovery"],
    "languages": ["en"],
    "formats": ["video"],
    "gender": "woman",
    "timezone": "America/Chicago",
    "availability": [{"day": 0, "start": "17:00", "end": "20:00"}],
    "capacity": 2,
    "bio": "SMART Recovery for years; I like to listen after work.",
}


caller_of = caller


async def ready_mentor(membership_id: int, **profile: Any) -> Caller:
    """An approved mentor gets the journey's profile and passes the track: open to matches."""
    return await trained_mentor(membership_id, **{**MENTOR_PROFILE, **profile})


_hashes: dict[str, str] = {}


async def _member(program_id: int, username: str, role: Role) -> int:
    """A member who signs in with the shared test password (hashed once per run: it is slow)."""
    if PASSWORD not in _hashes:
        _hashes[PASSWORD] = await hash_password(PASSWORD)
    return await accounts.create_member(
        program_id=program_id,
        username=username,
        display_name=username.capitalize(),
        password_hash=_hashes[PASSWORD],
        role=role,
    )


async def new_mentor(program_id: int, username: str, **profile: Any) -> Caller:
    """A new mentor in `program_id`, approved, trained, with a profile."""
    membership_id = await _member(program_id, username, Role.MENTOR)
    supervisor = next(iter(await accounts.supervisor_ids(program_id)))
    await accounts.approve_mentor(await caller_of(supervisor), membership_id)
    return await ready_mentor(membership_id, **profile)


async def with_intake(membership_id: int, **intake: Any) -> Caller:
    """A newcomer who has saved the journey's intake, with any fields changed."""
    return await newcomer_with_intake(membership_id, **{**INTAKE, **intake})


async def new_newcomer(program_id: int, username: str, **intake: Any) -> Caller:
    """A newcomer in `program_id` with a complete intake."""
    membership_id = await _member(program_id, username, Role.NEWCOMER)
    return await with_intake(membership_id, **intake)


async def signed_in(make_client: Any, username: str) -> Any:
    """A client of its own for one person, signed in."""
    client = await make_client()
    await client.login(username)
    return client
