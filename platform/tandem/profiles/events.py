"""The events profiles emits, and the sentence a person reads for each (registered by
`create_app`)."""

from __future__ import annotations

from enum import StrEnum


class ProfileEvent(StrEnum):
    MENTOR_PAUSED = "mentor.paused"
    MENTOR_RESUMED = "mentor.resumed"


NOTICE_TEXTS: dict[str, str] = {
    ProfileEvent.MENTOR_PAUSED: (
        "A mentor has paused for their own wellbeing and will get no new matches."
    ),
    ProfileEvent.MENTOR_RESUMED: "A mentor who had paused is available for new matches again.",
}
