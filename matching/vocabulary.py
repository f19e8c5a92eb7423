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
# "prefer_not_to_say" is a real answer, not a gap: such a mentor matches only newcomers open to
# any gender, and the service reads such a newcomer as open to any (see profiles.services).
Gender = Literal["woman", "man", "nonbinary", "another", "prefer_not_to_say"]
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
    "prefer_not_to_say": "I prefer not to say",
}

# Lived experience a person may choose to share, so mentees can find someone who has been there.
LivedExperience = Literal[
    "parenting",
    "veteran",
    "lgbtq",
    "criminal_legal",
    "chronic_pain",
    "mental_health",
    "housing_instability",
    "young_adult",
    "older_adult",
    "grief",
    "domestic_violence",
    "healthcare_worker",
]
LIVED_EXPERIENCES: Final[tuple[LivedExperience, ...]] = get_args(LivedExperience)

# A newcomer may give a stage instead of a date; the engine reads each stage as the middle of its
# range in days, so a stage and a date compare on one scale. This is the one list of stages: the
# intake's schema, its form and the demo all take it from here.
RecoveryStage = Literal[
    "under_1_month", "1_to_3_months", "3_to_12_months", "1_to_2_years", "over_2_years"
]
RECOVERY_STAGES: Final[tuple[RecoveryStage, ...]] = get_args(RecoveryStage)
RECOVERY_STAGE_DAYS: Final[dict[RecoveryStage, int]] = {
    "under_1_month": 15,
    "1_to_3_months": 60,
    "3_to_12_months": 225,
    "1_to_2_years": 548,
    "over_2_years": 1095,
}
RECOVERY_STAGE_LABELS: Final[dict[RecoveryStage, str]] = {
    "under_1_month": "Just starting, or less than a month",
    "1_to_3_months": "1 to 3 months",
    "3_to_12_months": "3 to 12 months",
    "1_to_2_years": "1 to 2 years",
    "over_2_years": "More than 2 years",
}
