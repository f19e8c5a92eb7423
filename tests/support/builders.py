"""Builders shared by the tests: a caller, a mentor with a profile and the whole track passed,
a newcomer with an intake, and the quiz answers that pass or fail a module.

Everything goes through the services (never straight into tables), so a builder's records are
exactly what the app itself would have made. `INTAKE` and `MENTOR_PROFILE` are the JSON the API
takes, for tests that send them over HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from tandem.accounts import services as accounts
from tandem.core.auth import Caller
from tandem.profiles import services as profiles
from tandem.profiles.schemas import MentorProfileUpdate, NewcomerIntake
from tandem.training import services as training
from tandem.training.content import current_track

INTAKE: dict[str, Any] = {
    "recovery_stage": "1_to_3_months",
    "pathways": ["smart_recovery"],
    "pathway_strictness": "strict",
    "languages": ["en", "es"],
    "formats": ["video", "phone"],
    "gender": "woman",
    "wanted_gender": "same",
    "timezone": "America/Chicago",
    "availability": [{"day": 0, "start": "17:00", "end": "21:00"}],
    "hopes": "Someone to talk to after work, when it gets hard.",
    "share_with_mentor": ["pathways"],
}
MENTOR_PROFILE: dict[str, Any] = {
    "recovery_start": "2019-04-01",
    "pathways": ["smart_recovery", "secular"],
    "languages": ["en"],
    "formats": ["video"],
    "gender": "woman",
    "timezone": "America/New_York",
    "availability": [{"day": 0, "start": "18:00", "end": "22:00"}],
    "capacity": 3,
    "bio": "Eight years in recovery.",
}


async def caller(membership_id: int) -> Caller:
    """The caller a request by this member would carry."""
    found = await accounts.caller_for_membership(membership_id)
    assert found is not None, f"membership {membership_id} cannot act (inactive or missing)"
    return found


def _shown(questions: Sequence[Any]) -> list[tuple[str, list[str]]]:
    """(id, options as shown) from an attempt's questions, as JSON dicts or as `QuizQuestion`."""
    return [
        (q["id"], q["options"]) if isinstance(q, dict) else (q.id, q.options) for q in questions
    ]


def best_answers(module_id: str, questions: Sequence[Any]) -> dict[str, int]:
    """The key, read from the content on disk (never from a response), as the positions the
    attempt showed the best options at (options are shuffled per attempt)."""
    module = current_track().module(module_id)
    assert module is not None
    return {
        qid: options.index(module.question(qid).best.text)  # type: ignore[union-attr]
        for qid, options in _shown(questions)
    }


def wrong_answers(module_id: str, questions: Sequence[Any]) -> dict[str, int]:
    return {qid: (index + 1) % 3 for qid, index in best_answers(module_id, questions).items()}


async def pass_module(who: Caller, module_id: str) -> None:
    attempt = await training.start_attempt(who, module_id)
    result = await training.submit_attempt(
        who, attempt.id, best_answers(module_id, attempt.questions)
    )
    assert result.state == "passed"


async def fail_module(who: Caller, module_id: str) -> None:
    attempt = await training.start_attempt(who, module_id)
    result = await training.submit_attempt(
        who, attempt.id, wrong_answers(module_id, attempt.questions)
    )
    assert result.state == "not_passed"


async def pass_track(who: Caller) -> None:
    for module in current_track().modules:
        await pass_module(who, module.id)


async def mentor_with_profile(membership_id: int, **changes: Any) -> Caller:
    """An (approved) mentor who has saved `MENTOR_PROFILE`, with any fields changed."""
    who = await caller(membership_id)
    profile = msgspec.convert({**MENTOR_PROFILE, **changes}, MentorProfileUpdate)
    await profiles.save_mentor_profile(who, profile)
    return who


async def trained_mentor(membership_id: int, **changes: Any) -> Caller:
    """A mentor with a profile and every module passed: eligible to be matched."""
    who = await mentor_with_profile(membership_id, **changes)
    await pass_track(who)
    return await caller(membership_id)


async def newcomer_with_intake(membership_id: int, **changes: Any) -> Caller:
    """A newcomer who has saved `INTAKE`, with any fields changed."""
    who = await caller(membership_id)
    await profiles.save_intake(who, msgspec.convert({**INTAKE, **changes}, NewcomerIntake))
    return who


async def apply_as_mentor(
    client: Any, username: str = "new-mentor", display_name: str = "Sol"
) -> int:
    """A mentor's application to program A through the sign-up API, as a person sends it; it
    waits for staff to decide. Returns the new membership's id."""
    response = await client.post(
        "/api/v1/auth/signup",
        json={
            "username": username,
            "display_name": display_name,
            "password": "a-long-enough-password",
            "program": "program-a",
            "role": "mentor",
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "pending"
    return int(response.json()["membership_id"])
