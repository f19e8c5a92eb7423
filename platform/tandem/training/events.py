"""The events training emits, and the sentence a person reads for each (registered by
`create_app`)."""

from __future__ import annotations

from enum import StrEnum


class TrainingEvent(StrEnum):
    MODULE_PASSED = "training.module_passed"
    TRACK_COMPLETED = "training.track_completed"


NOTICE_TEXTS: dict[str, str] = {
    TrainingEvent.MODULE_PASSED: "A training module was passed.",
    TrainingEvent.TRACK_COMPLETED: (
        "A mentor completed the training track and can now be matched."
    ),
}
