"""Builders for the match journey: trained mentors with profiles, newcomers with an intake.

Everything goes through the slices' own services (training is passed by answering the quizzes
from the content's key), so a test starts from states a person could really reach.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec

from tandem.accounts import services as accounts
from tandem.accounts.passwords import hash_password
from tandem.core.auth import Caller, Role
from tandem.core.database import transaction
from tandem.profiles import services as profiles
from tandem.profiles.schemas import MentorProfileUpdate, NewcomerIntake
from tandem.training import services as training
from tandem.training.content import current_track
from tests.support.people import PASSWORD

INTAKE: dict[str, Any] = {
    "recovery_stage": "1_to_3_months",
    "pathways": ["smart_recovery"],
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


async def caller_of(membership_id: int) -> Caller:
    found = await accounts.caller_for_membership(membership_id)
    assert found is not None
    return found


async def pass_training(mentor: Caller) -> None:
    """Read every module and pass its quiz with the key from the content files."""
    track = current_track()
    async with transaction():
        for module in track.modules:
            await training.mark_read(mentor, module.id)
            attempt = await training.start_attempt(mentor, module.id)
            answers = {}
            for shown in attempt.questions:
                question = module.question(shown.id)
                assert question is not None
                # Options are shuffled per attempt: answer with where the best one was shown.
                answers[shown.id] = shown.options.index(question.best.text)
            await training.submit_attempt(mentor, attempt.id, answers)


async def ready_mentor(membership_id: int, **profile: Any) -> Caller:
    """An approved mentor gets a profile and passes the track: open to new matches."""
    mentor = await caller_of(membership_id)
    values = {**MENTOR_PROFILE, **profile}
    values["recovery_start"] = date.fromisoformat(values["recovery_start"])
    await profiles.save_mentor_profile(mentor, msgspec.convert(values, MentorProfileUpdate))
    await pass_training(mentor)
    return mentor


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
    newcomer = await caller_of(membership_id)
    await profiles.save_intake(newcomer, msgspec.convert({**INTAKE, **intake}, NewcomerIntake))
    return newcomer


async def new_newcomer(program_id: int, username: str, **intake: Any) -> Caller:
    """A newcomer in `program_id` with a complete intake."""
    membership_id = await _member(program_id, username, Role.NEWCOMER)
    return await with_intake(membership_id, **intake)
