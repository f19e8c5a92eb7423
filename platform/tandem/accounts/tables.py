"""Programs (the tenants), people, their one role per program, and their browser sessions."""

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
    # pending (mentor applications), active, paused, inactive
    status = Varchar(length=16, default="active", index=True)
    created_at = Timestamptz()
    approved_at = Timestamptz(null=True, default=None)


class WebSession(Table, tablename="web_session"):
    """A browser session that holds something worth keeping (in practice: who is signed in).

    The cookie carries a random token the server issued; the row is keyed by the token's SHA-256,
    so reading this table does not let anyone sign in. The row belongs to the membership it signs
    in: deleting the person deletes it with them, and deactivation deletes it explicitly.
    """

    token_hash = Varchar(length=64, unique=True)
    data = Bytea()
    membership = ForeignKey(
        references=Membership, on_delete=OnDelete.cascade, null=True, default=None, index=True
    )
    expires_at = Timestamptz(index=True)
