"""Complete, valid answers for the intake and the mentor profile, as the JSON API takes them."""

from __future__ import annotations

from typing import Any

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
