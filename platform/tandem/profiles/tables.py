"""Newcomer intake and mentor profiles: what matching needs, and no more.

List-valued answers (pathways, languages, availability, ...) are JSON so the same schema runs on
SQLite and PostgreSQL; they are validated at the edge against `matching.vocabulary`.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from tandem.accounts.tables import Membership, Program


class NewcomerProfile(Table, tablename="newcomer_profile"):
    membership = ForeignKey(references=Membership, on_delete=OnDelete.cascade, unique=True)
    program = ForeignKey(references=Program, on_delete=OnDelete.restrict, index=True)
    recovery_start = Date(null=True, default=None)
    recovery_stage = Varchar(length=32, null=True, default=None)
    pathways = JSON(default="[]")
    pathway_strictness = Varchar(length=16, default="preferred")
    languages = JSON(default="[]")
    formats = JSON(default="[]")
    gender = Varchar(length=32)
    wanted_gender = Varchar(length=16, default="same")
    timezone = Varchar(length=64)
    availability = JSON(default="[]")
    area = Varchar(length=80, default="")
    barriers = JSON(default="[]")
    hopes = Text(default="")
    lived_experience = JSON(default="[]")
    # Which parts of the intake the newcomer agreed to show their mentor.
    share_with_mentor = JSON(default="[]")
    updated_at = Timestamptz()


class MentorProfile(Table, tablename="mentor_profile"):
    membership = ForeignKey(references=Membership, on_delete=OnDelete.cascade, unique=True)
    program = ForeignKey(references=Program, on_delete=OnDelete.restrict, index=True)
    recovery_start = Date()
    pathways = JSON(default="[]")
    languages = JSON(default="[]")
    formats = JSON(default="[]")
    gender = Varchar(length=32)
    timezone = Varchar(length=64)
    availability = JSON(default="[]")
    area = Varchar(length=80, default="")
    capacity = Integer(default=2)
    bio = Text(default="")
    lived_experience = JSON(default="[]")
    # A mentor may pause for their own wellbeing; only their supervisor sees the note.
    paused = Boolean(default=False, index=True)
    pause_note = Text(default="", secret=True)
    paused_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()


class DeclinedApplication(Table, tablename="declined_application"):
    """Why a supervisor declined a mentor application; the applicant reads it on their home page.

    Kept beside the profile (not on the membership) because it is the applicant's to read and
    goes with their account when it is deleted.
    """

    membership = ForeignKey(references=Membership, on_delete=OnDelete.cascade, unique=True)
    program = ForeignKey(references=Program, on_delete=OnDelete.restrict, index=True)
    reason = Text()
    declined_at = Timestamptz()
