"""The events accounts emits, and the sentence a person reads for each (registered by
`create_app`). Words live here, never in the event, so no event carries a name or free text."""

from __future__ import annotations

from enum import StrEnum


class AccountEvent(StrEnum):
    MENTOR_APPLIED = "mentor.applied"
    MENTOR_APPROVED = "mentor.approved"
    MENTOR_DECLINED = "mentor.declined"


NOTICE_TEXTS: dict[str, str] = {
    AccountEvent.MENTOR_APPLIED: "A new mentor application is waiting for your review.",
    AccountEvent.MENTOR_APPROVED: (
        "Your mentor application was approved. Your next step is the training."
    ),
    AccountEvent.MENTOR_DECLINED: (
        "Your mentor application has an answer; please see your home page."
    ),
}
