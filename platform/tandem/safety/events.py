"""The events the safety slice emits, and the sentence a person reads for each (registered by
`create_app`). No event carries a name, who reported, or anything someone wrote: supervisors
open the concern in Tandem to read it."""

from __future__ import annotations

from enum import StrEnum


class SafetyEvent(StrEnum):
    CONCERN_FILED = "safety.concern_filed"
    URGENT_CONCERN = "safety.urgent_concern"
    CONCERN_OVERDUE = "safety.concern_overdue"
    PATTERN_RAISED = "safety.pattern_raised"


NOTICE_TEXTS: dict[str, str] = {
    SafetyEvent.CONCERN_FILED: "A new concern is waiting in the concern queue.",
    SafetyEvent.URGENT_CONCERN: "URGENT: a mentor escalated a safety situation. Respond now.",
    SafetyEvent.CONCERN_OVERDUE: "A concern has passed its response time. Please look at it now.",
    SafetyEvent.PATTERN_RAISED: "Three small concerns about one mentor in 90 days: please review.",
}


class CareEvent(StrEnum):
    """Check-ins and self-care. A conversation request never says why it was asked for."""

    CHECK_IN_FLAGGED = "safety.check_in_flagged"
    CONVERSATION_REQUESTED = "safety.conversation_requested"


NOTICE_TEXTS |= {
    CareEvent.CHECK_IN_FLAGGED: "A check-in was noted for supervision; see the check-in list.",
    CareEvent.CONVERSATION_REQUESTED: "A mentor asked for a conversation with a supervisor.",
}
