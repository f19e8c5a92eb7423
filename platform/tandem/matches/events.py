"""The events the match journey emits, and the sentence a person reads for each (registered by
`create_app`). No event carries a name or anything someone wrote."""

from __future__ import annotations

from enum import StrEnum


class MatchEvent(StrEnum):
    REQUESTED = "matches.requested"
    PROPOSAL_WAITING = "matches.proposal_waiting"
    OFFER_MADE = "matches.offer_made"
    OFFER_ACCEPTED = "matches.offer_accepted"
    MATCH_ACTIVE = "matches.match_active"
    MATCH_ENDED = "matches.match_ended"
    BATCH_PROPOSED = "matches.batch_proposed"


NOTICE_TEXTS: dict[str, str] = {
    MatchEvent.REQUESTED: "A newcomer asked for a mentor.",
    MatchEvent.PROPOSAL_WAITING: "A proposed match is waiting for your review.",
    MatchEvent.OFFER_MADE: "You have a new mentee offer. Please answer it on your mentees page.",
    MatchEvent.OFFER_ACCEPTED: "A mentor accepted an offer; the match is now active.",
    MatchEvent.MATCH_ACTIVE: "You have a mentor! See how to meet on your mentor page.",
    MatchEvent.MATCH_ENDED: "A match has ended. Thank you for the time you gave each other.",
    MatchEvent.BATCH_PROPOSED: "Batch matching proposed new matches; they wait for your review.",
}
