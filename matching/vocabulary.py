"""The words Tandem and the matching engine share for pathways, formats and genders.

Kept in the engine (not the web layer) because the engine's hard rules and factors are defined
over exactly these values; the service stores them as plain strings and validates against these
tuples at the HTTP edge, so a value the engine does not understand can never reach it.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

Pathway = Literal[
    "twelve_step",
    "smart_recovery",
    "faith_based",
    "mindfulness",
    "medication_supported",
    "harm_reduction",
    "secular",
    "other",
]
MeetingFormat = Literal["in_person", "video", "phone", "text"]
Gender = Literal["woman", "man", "nonbinary", "another"]
# What a newcomer asks for: "same" (the default) and "any", or one specific gender.
WantedGender = Literal["same", "any", "woman", "man", "nonbinary", "another"]
PathwayStrictness = Literal["strict", "preferred", "open"]

PATHWAYS: Final[tuple[Pathway, ...]] = get_args(Pathway)
MEETING_FORMATS: Final[tuple[MeetingFormat, ...]] = get_args(MeetingFormat)
GENDERS: Final[tuple[Gender, ...]] = get_args(Gender)
WANTED_GENDERS: Final[tuple[WantedGender, ...]] = get_args(WantedGender)
PATHWAY_STRICTNESS: Final[tuple[PathwayStrictness, ...]] = get_args(PathwayStrictness)

PATHWAY_LABELS: Final[dict[Pathway, str]] = {
    "twelve_step": "12-step (AA, NA and similar)",
    "smart_recovery": "SMART Recovery",
    "faith_based": "Faith-based (such as Celebrate Recovery)",
    "mindfulness": "Buddhist or mindfulness-based (such as Refuge Recovery)",
    "medication_supported": "Medication-supported recovery (such as MOUD)",
    "harm_reduction": "Harm reduction",
    "secular": "Secular or self-directed",
    "other": "Another pathway",
}
FORMAT_LABELS: Final[dict[MeetingFormat, str]] = {
    "in_person": "In person",
    "video": "Video call",
    "phone": "Phone call",
    "text": "Text messages",
}
GENDER_LABELS: Final[dict[Gender, str]] = {
    "woman": "Woman",
    "man": "Man",
    "nonbinary": "Non-binary",
    "another": "Another gender",
}
