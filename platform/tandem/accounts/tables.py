"""Programs (the tenants), people, their one role per program, and server-side sessions."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    Bytea,
    ForeignKey,
    OnDelete,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from tandem.core.auth import MembershipStatus


class Program(Table, tablename="program"):
    """A recovery community organization running Tandem. Every record belongs to one."""

    slug = Varchar(length=64, unique=True)
    name = Varchar(length=200)
    # ProgramSettings as JSON: limits, weights, crisis resources (see accounts.services).
    settings = JSON(default="{}")
    created_at = Timestamptz()


class Person(Table, tablename="person"):
    """A login. Only a first name or alias is asked for; no real name is required."""

    username = Varchar(length=64, unique=True)
    display_name = Varchar(length=80)
    password_hash = Varchar(length=200, secret=True)
    active = Boolean(default=True)
    created_at = Timestamptz()
    last_login_at = Timestamptz(null=True, default=None)


class Membership(Table, tablename="membership"):
    """A person's single role in one program. Profiles and matches hang off this row.

    Deleting a person deletes their memberships (their data goes with them); a program with
    members cannot be deleted by accident.
    """

    person = ForeignKey(references=Person, on_delete=OnDelete.cascade, index=True)
    program = ForeignKey(references=Program, on_delete=OnDelete.restrict, index=True)
    role = Varchar(length=16, index=True)
    status = Varchar(length=16, default=MembershipStatus.ACTIVE.value, index=True)
    created_at = Timestamptz()
    approved_at = Timestamptz(null=True, default=None)


class SessionRecord(Table, tablename="session_record"):
    """Server-side key/value store for sessions and rate limits, shared by every app process."""

    key = Varchar(length=200, unique=True)
    value = Bytea()
    expires_at = Timestamptz(null=True, default=None, index=True)
