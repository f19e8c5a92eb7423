"""The command line, run as a person runs it: a separate process on the same database."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest

from tandem.accounts.tables import Membership, Person, Program
from tandem.core.auth import Role
from tandem.matches.tables import MentorRequest
from tandem.safety.tables import Concern

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]


async def litestar(*args: str) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'platform'}{os.pathsep}{ROOT}"}
    result = await anyio.run_process(
        [sys.executable, "-m", "litestar", "--app", "tandem.app:create_app", *args],
        env=env,
        cwd=ROOT,
        check=False,
    )
    return result.returncode, (result.stdout + result.stderr).decode()


async def test_staff_create_makes_the_program_and_an_admin() -> None:
    args = ["staff", "create", "--program", "hope", "--program-name", "Hope House",
            "--username", "ana", "--display-name", "Ana", "--role", "admin",
            "--password", "a-strong-password"]  # fmt: skip
    code, output = await litestar(*args)
    assert code == 0, output
    assert await Program.exists().where(Program.slug == "hope")
    membership = await Membership.select(Membership.role, Membership.status).first()
    assert membership == {"role": "admin", "status": "active"}
    code, output = await litestar(*args)
    assert code != 0
    assert "username is taken" in output


async def test_staff_create_refuses_a_short_password() -> None:
    code, output = await litestar(
        "staff", "create", "--program", "hope", "--username", "ana", "--display-name", "Ana",
        "--password", "short",
    )  # fmt: skip
    assert code != 0
    assert "10 characters" in output
    assert not await Person.exists()


async def test_demo_program_has_the_promised_people_and_loads_once() -> None:
    code, output = await litestar("demo", "load")
    assert code == 0, output
    assert "supervisor1" in output
    rows = await Membership.select(Membership.role, Membership.status)
    by_role: dict[str, int] = {}
    for row in rows:
        by_role[row["role"]] = by_role.get(row["role"], 0) + 1
    assert by_role == {"admin": 1, "supervisor": 2, "mentor": 40, "newcomer": 100}
    assert any(r["role"] == "mentor" and r["status"] == "pending" for r in rows)
    # The match journey: a history for the wait estimate and a request at every step.
    statuses = {r["status"] for r in await MentorRequest.select(MentorRequest.status)}
    assert {"waiting", "under_review", "offered", "matched", "closed"} <= statuses
    assert await MentorRequest.count().where(MentorRequest.matched_at.is_not_null()) >= 10
    assert "newcomer (no mentor fits yet)" in output
    # Safety: concerns in every state; the one being acted on holds its mentor back.
    concerns = await Concern.select(Concern.status, Concern.severity, Concern.mentor_paused)
    assert {c["status"] for c in concerns} == {"open", "acknowledged", "acting", "closed"}
    assert {"S1", "S2", "S3", "S4"} <= {c["severity"] for c in concerns}
    assert any(c["status"] == "acting" and c["mentor_paused"] for c in concerns)
    code, output = await litestar("demo", "load")
    assert "already loaded" in output


async def test_prune_sessions_deletes_only_what_has_expired(people) -> None:
    from datetime import UTC, datetime, timedelta

    from tandem.accounts import store
    from tandem.accounts.tables import WebSession
    from tandem.core.tables import RateLimitCounter

    live = await store.create({"membership_id": people.a[Role.NEWCOMER].membership_id}, 3600)
    past = datetime.now(UTC) - timedelta(minutes=1)
    await store.create({"membership_id": people.a[Role.MENTOR].membership_id}, 1)
    await WebSession.update({WebSession.expires_at: past}).where(
        WebSession.membership == people.a[Role.MENTOR].membership_id
    )
    await RateLimitCounter.insert(
        RateLimitCounter(key="login:address:x:1", hits=3, expires_at=past)
    )
    code, output = await litestar("db", "prune-sessions")
    assert code == 0, output
    assert "Deleted 1 expired sessions and 1 rate-limit counters." in output
    assert await store.load(live) is not None
