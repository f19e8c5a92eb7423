"""Intake and mentor profile shapes at the HTTP edge, constrained by the engine's vocabulary."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from msgspec import Meta, Struct

from matching.vocabulary import (
    PATHWAY_LABELS,
    RECOVERY_STAGE_LABELS,
    Gender,
    LivedExperience,
    MeetingFormat,
    Pathway,
    PathwayStrictness,
    RecoveryStage,
    WantedGender,
)
from tandem.core.edge import FreeText, NoNul

Barrier = Literal["transport", "childcare", "language", "cost", "internet", "disability"]
Shareable = Literal["recovery_stage", "pathways", "hopes", "barriers", "lived_experience"]
# How the intake form and the home page's sharing form name each part a newcomer may share.
# The intake's checkbox values in words: one definition for the intake form and for what a
# mentor is shown of it.
LIVED_EXPERIENCE_LABELS: dict[str, str] = {
    "parenting": "Parenting",
    "veteran": "Military service",
    "lgbtq": "LGBTQ+",
    "criminal_legal": "The criminal legal system",
    "chronic_pain": "Chronic pain",
    "mental_health": "Mental health",
    "housing_instability": "Housing instability",
    "young_adult": "Being a young adult",
    "older_adult": "Being an older adult",
    "grief": "Grief and loss",
    "domestic_violence": "Domestic violence",
    "healthcare_worker": "Working in healthcare",
}
BARRIER_LABELS: dict[str, str] = {
    "transport": "Getting there (no transport)",
    "childcare": "Childcare",
    "language": "Language",
    "cost": "Cost",
    "internet": "Internet or phone access",
    "disability": "Access needs or disability",
}
# What a newcomer may share, value by value in words (the mentor's view of the shared parts).
SHARED_VALUE_LABELS: dict[str, dict[str, str]] = {
    "pathways": dict(PATHWAY_LABELS),
    "recovery_stage": dict(RECOVERY_STAGE_LABELS),
    "barriers": BARRIER_LABELS,
    "lived_experience": LIVED_EXPERIENCE_LABELS,
}
SHARE_LABELS: dict[str, str] = {
    "recovery_stage": "Where I am in my recovery",
    "pathways": "My recovery pathway(s)",
    "hopes": "What I hope for (in my own words)",
    "barriers": "Practical barriers",
    "lived_experience": "Lived experience I chose above",
}
Language = Annotated[
    str,
    Meta(
        pattern=r"^[a-z]{2,3}$",
        description="ISO 639 code, e.g. en, es",
        extra={"pattern_message": "Languages are two- or three-letter codes, such as en or es."},
    ),
]
TimeOfDay = Annotated[
    str,
    Meta(
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$",
        extra={"pattern_message": "Times are written as HH:MM on a 24-hour clock, like 18:30."},
    ),
]
TimeZoneName = Annotated[
    str, NoNul, Meta(min_length=1, max_length=64, description="IANA, e.g. America/New_York")
]


class Slot(Struct, frozen=True, forbid_unknown_fields=True):
    """A weekly window in the person's own time zone. day: 0 = Monday ... 6 = Sunday."""

    day: Annotated[int, Meta(ge=0, le=6)]
    start: TimeOfDay
    end: TimeOfDay


Availability = Annotated[list[Slot], Meta(min_length=1, max_length=42)]


class NewcomerIntake(Struct, forbid_unknown_fields=True, kw_only=True):
    recovery_start: date | None = None
    recovery_stage: RecoveryStage | None = None
    # May be empty (someone still finding their way), except when the pathway is to be strict.
    pathways: Annotated[list[Pathway], Meta(max_length=8)] = []
    pathway_strictness: PathwayStrictness = "preferred"
    languages: Annotated[list[Language], Meta(min_length=1, max_length=8)]
    formats: Annotated[list[MeetingFormat], Meta(min_length=1, max_length=4)]
    gender: Gender
    # No default: a newcomer says what they want (or "any"); nothing is recorded unasked.
    wanted_gender: WantedGender
    timezone: TimeZoneName
    availability: Availability
    area: Annotated[FreeText, Meta(max_length=80)] = ""
    barriers: Annotated[list[Barrier], Meta(max_length=6)] = []
    hopes: Annotated[FreeText, Meta(max_length=1000)] = ""
    lived_experience: Annotated[list[LivedExperience], Meta(max_length=12)] = []
    share_with_mentor: Annotated[list[Shareable], Meta(max_length=5)] = []


class SharingUpdate(Struct, forbid_unknown_fields=True):
    """What the newcomer lets their mentor see of their intake; an empty list shares nothing."""

    share_with_mentor: Annotated[list[Shareable], Meta(max_length=5)] = []


class NewcomerIntakeOut(NewcomerIntake, kw_only=True, forbid_unknown_fields=False):
    membership_id: int
    updated_at: datetime


class MentorProfileUpdate(Struct, forbid_unknown_fields=True, kw_only=True):
    recovery_start: date
    pathways: Annotated[list[Pathway], Meta(min_length=1, max_length=8)]
    languages: Annotated[list[Language], Meta(min_length=1, max_length=8)]
    formats: Annotated[list[MeetingFormat], Meta(min_length=1, max_length=4)]
    gender: Gender
    timezone: TimeZoneName
    availability: Availability
    area: Annotated[FreeText, Meta(max_length=80)] = ""
    capacity: Annotated[int, Meta(ge=1, le=6)] = 2
    bio: Annotated[FreeText, Meta(max_length=1000)] = ""
    lived_experience: Annotated[list[LivedExperience], Meta(max_length=12)] = []


class MentorProfileOut(MentorProfileUpdate, kw_only=True, forbid_unknown_fields=False):
    membership_id: int
    paused: bool
    updated_at: datetime


class MentorPause(Struct, forbid_unknown_fields=True):
    """The note is optional and only the mentor's supervisor can read it."""

    note: Annotated[FreeText, Meta(max_length=500)] = ""


class MentorPauseStatus(Struct):
    paused: bool
    paused_at: datetime | None
    note: str | None = None


class PausedMentor(Struct):
    """A paused mentor as staff see them, note included (reading it is audited)."""

    membership_id: int
    display_name: str
    paused_at: datetime | None
    note: str


class ApplicationDecline(Struct, forbid_unknown_fields=True):
    """Why an application was declined, in words the applicant will read."""

    reason: Annotated[str, NoNul, Meta(min_length=1, max_length=1000)]
