"""Shapes at the HTTP edge for accounts. Constraints here give 400s that name the field."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import Meta, Struct

from tandem.core.auth import Role
from tandem.core.edge import NameText, NoNul
from tandem.core.statuses import MembershipStatus

Username = Annotated[
    str,
    Meta(
        min_length=3,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.@+-]+$",
        extra={"pattern_message": "Usernames can use letters, numbers and . _ @ + - only."},
        description="Letters, numbers and . _ @ + - only; used to sign in, never shown to others.",
    ),
]
DisplayName = Annotated[
    str,
    NameText,
    Meta(
        min_length=1,
        max_length=80,
        title="First name or alias",
        description="A first name or an alias. No real name is required.",
    ),
]
Password = Annotated[str, NoNul, Meta(min_length=10, max_length=200)]
ProgramSlug = Annotated[
    str,
    Meta(
        min_length=2,
        max_length=64,
        pattern=r"^[a-z0-9-]+$",
        title="Program code",
        extra={"pattern_message": "Program codes use lowercase letters, numbers and - only."},
    ),
]


class SignUp(Struct, forbid_unknown_fields=True):
    username: Username
    display_name: DisplayName
    password: Password
    program: ProgramSlug
    role: Annotated[
        str,
        Meta(
            pattern=r"^(newcomer|mentor)$",
            extra={"pattern_message": "Role must be newcomer or mentor."},
        ),
    ] = "newcomer"


class Login(Struct, forbid_unknown_fields=True):
    username: Annotated[str, NoNul, Meta(min_length=1, max_length=64)]
    password: Annotated[str, NoNul, Meta(min_length=1, max_length=200)]


class Me(Struct):
    person_id: int
    membership_id: int
    display_name: str
    role: Role
    status: MembershipStatus
    program: str


class MemberSummary(Struct):
    """What staff see of a member in lists: no health details."""

    membership_id: int
    display_name: str
    role: Role
    status: MembershipStatus
    created_at: datetime
    approved_at: datetime | None = None
