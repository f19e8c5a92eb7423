"""Sessions that cannot be taken over, rate limits that hold under concurrency, staff rules and
security headers (issue 10 items 1, 2, 3, 5, 6, 7; issue 9 item A6; issue 12 item 1).

Each test here failed on the code before these fixes; the comment on each says what it saw.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from litestar import Litestar

from tandem.accounts import services as accounts
from tandem.accounts.tables import Membership
from tandem.core.auth import Role
from tandem.core.errors import Conflict
from tandem.core.statuses import MembershipStatus
from tandem.settings import Settings
from tests.support.client import TandemClient
from tests.support.people import PASSWORD, People

pytestmark = pytest.mark.anyio

TEMPLATES = Path(__file__).parents[2] / "platform" / "tandem" / "web" / "templates"
NEW_PASSWORD = "a-long-enough-password"


@pytest.fixture(autouse=True)
def _quick_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Argon2 with tiny costs: these tests hash and check many passwords, and what they test
    (counting, limits, sessions) does not depend on how costly a hash is."""
    from argon2 import PasswordHasher

    from tandem.accounts import passwords

    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(1, 1024, 1))
    passwords._dummy_hash.cache_clear()
    yield
    passwords._dummy_hash.cache_clear()


def _session_cookie(response: httpx.Response) -> str | None:
    """The session id a response sets, or None when it sets no session cookie."""
    for header in response.headers.get_list("set-cookie"):
        if header.startswith("session="):
            return header.split(";")[0].removeprefix("session=")
    return None


async def _sign_up(client: TandemClient, username: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/signup",
        json={
            "username": username,
            "display_name": "Sam",
            "password": NEW_PASSWORD,
            "program": "program-a",
        },
    )


async def _me(app: Litestar, session_id: str) -> httpx.Response:
    """`/api/v1/me` as a second browser holding only a copy of this session cookie."""
    other = TandemClient(app)
    try:
        return await other.get("/api/v1/me", headers={"cookie": f"session={session_id}"})
    finally:
        await other.http.aclose()


# --- 10.1: a person's sessions end with them ----------------------------------------------


async def test_deleting_an_account_ends_its_sessions_on_every_device(app, make_client, people):
    """Before: the second browser's cookie survived and then signed in the next new person."""
    first = await make_client()
    assert (await _sign_up(first, "leaving-soon")).status_code == 201
    second = await make_client()
    await second.login("leaving-soon", NEW_PASSWORD)
    second_cookie = second.http.cookies["session"]
    deleted = await first.post("/api/v1/me/delete", json={"confirm": "delete my data"})
    assert deleted.status_code == 204
    newcomer = await make_client()
    assert (await _sign_up(newcomer, "arriving-now")).status_code == 201
    response = await _me(app, second_cookie)
    assert response.status_code == 401


async def test_ids_of_deleted_accounts_are_never_given_again(make_client, people):
    """Before (SQLite): the next sign-up after deleting the newest account got its ids."""
    leaving = await make_client()
    gone = (await _sign_up(leaving, "leaving-soon")).json()
    await leaving.post("/api/v1/me/delete", json={"confirm": "delete my data"})
    arriving = await make_client()
    new = (await _sign_up(arriving, "arriving-now")).json()
    assert new["membership_id"] > gone["membership_id"]
    assert new["person_id"] > gone["person_id"]


async def test_deactivation_ends_sessions_and_reactivation_does_not_revive_them(
    app, make_client, people
):
    """Before: the session row stayed, so reactivating the person signed the old cookie in."""
    newcomer = await make_client()
    await newcomer.login(people.a[Role.NEWCOMER].username)
    old_cookie = newcomer.http.cookies["session"]
    admin = await make_client()
    await admin.login(people.a[Role.ADMIN].username)
    target = people.a[Role.NEWCOMER].membership_id
    for status in ("inactive", "active"):
        assert (await _set_status(admin, target, status)).status_code == 204
    assert (await _me(app, old_cookie)).status_code == 401


# --- 10.2: session fixation ----------------------------------------------------------------


async def test_a_session_id_the_server_did_not_issue_is_never_adopted(app, client, people):
    """Before: `Cookie: session=bbbb...` then sign in, and the attacker's cookie was signed in."""
    planted = "b" * 64
    client.http.cookies.set("session", planted)
    response = await client.post(
        "/api/v1/auth/login",
        json={"username": people.a[Role.NEWCOMER].username, "password": PASSWORD},
    )
    assert response.status_code == 200
    issued = _session_cookie(response)
    assert issued
    assert issued != planted
    assert (await _me(app, planted)).status_code == 401
    assert (await _me(app, issued)).status_code == 200


async def test_every_sign_in_and_sign_out_changes_the_session_id(app, client, people):
    """Before: signing in again (as the same person or someone else) kept the same id."""
    ids = []
    for username in (people.a[Role.NEWCOMER].username,) * 2 + (people.a[Role.MENTOR].username,):
        ids.append(_session_cookie(await client.login(username)))
    assert None not in ids
    assert len(set(ids)) == 3
    assert [(await _me(app, old)).status_code for old in ids[:2]] == [401, 401]
    assert (await _me(app, ids[2])).json()["role"] == "mentor"
    out = await client.post("/api/v1/auth/logout")
    assert out.status_code == 204
    assert (await _me(app, ids[2])).status_code == 401


async def test_signing_up_while_signed_in_is_refused_kindly(client, people):
    """Before: the current session silently became the new account."""
    await client.login(people.a[Role.NEWCOMER].username)
    response = await _sign_up(client, "second-account")
    assert response.status_code == 409
    assert "sign out first" in response.json()["detail"]
    page = await client.post(
        "/signup",
        data={
            "username": "second-account",
            "display_name": "Sam",
            "password": NEW_PASSWORD,
            "program": "program-a",
        },
    )
    assert page.status_code == 409
    assert "sign out first" in page.text
    assert "sign out first" in (await client.get("/signup")).text
    assert (await client.get("/api/v1/me")).json()["role"] == "newcomer"
    assert await accounts.Person.count().where(accounts.Person.username == "second-account") == 0


# --- 10.3 and 9.A6: rate limits ------------------------------------------------------------


@pytest.fixture
async def strict_app(settings: Settings) -> AsyncIterator[Litestar]:
    """Real limits: 10 failed sign-ins per account a minute, 30 attempts per address."""
    async with _app(settings, login_rate_limit_per_minute=10) as application:
        yield application


@asynccontextmanager
async def _app(settings: Settings, **changes: Any) -> AsyncIterator[Litestar]:
    from tandem.app import create_app

    application = create_app(replace(settings, **{"address_rate_limit_per_minute": 30, **changes}))
    async with application.lifespan():
        yield application


async def _client_from(app: Litestar, address: str) -> TandemClient:
    client = TandemClient(app, address)
    await client.prime()
    return client


async def _try(client: TandemClient, username: str, password: str = "a-wrong-guess", **kw):
    return await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}, **kw
    )


async def test_concurrent_attempts_cannot_pass_the_limit(strict_app, people):
    """Before: 40 concurrent requests all got through a limit of 10 a minute."""
    client = await _client_from(strict_app, "198.51.100.7")
    codes: list[int] = []

    async def attempt() -> None:
        codes.append((await _try(client, people.a[Role.MENTOR].username)).status_code)

    async with anyio.create_task_group() as group:
        for _ in range(40):
            group.start_soon(attempt)
    await client.http.aclose()
    assert sorted(codes) == [401] * 10 + [429] * 30


async def test_one_persons_failures_do_not_lock_out_others_at_the_same_address(
    strict_app, people, frozen
):
    """Before: after 11 failures, everyone at the address got 429, with no word on when."""
    shelter_wifi = "192.0.2.44"
    guesser = await _client_from(strict_app, shelter_wifi)
    codes = [(await _try(guesser, people.a[Role.NEWCOMER].username)).status_code for _ in range(11)]
    assert codes == [401] * 10 + [429]
    neighbour = await _client_from(strict_app, shelter_wifi)
    assert (await _try(neighbour, people.a[Role.MENTOR].username, PASSWORD)).status_code == 200
    # The locked account says when to try again: a header and a sentence, in JSON and on the page.
    refused = await _try(guesser, people.a[Role.NEWCOMER].username, PASSWORD)
    assert refused.status_code == 429
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert f"try again in {retry_after} seconds" in refused.json()["detail"]
    page = await guesser.post(
        "/login", data={"username": people.a[Role.NEWCOMER].username, "password": PASSWORD}
    )
    assert page.status_code == 429
    assert page.headers["retry-after"] == str(retry_after)
    assert f"try again in {retry_after} seconds" in page.text
    frozen.advance(timedelta(seconds=retry_after))
    allowed = await _try(guesser, people.a[Role.NEWCOMER].username, PASSWORD)
    assert allowed.status_code == 200
    for client in (guesser, neighbour):
        await client.http.aclose()


async def test_the_address_limit_stops_one_address_guessing_many_accounts(settings, people):
    async with _app(settings, address_rate_limit_per_minute=5) as app:
        client = await _client_from(app, "203.0.113.50")
        codes = [(await _try(client, f"someone-{n}")).status_code for n in range(6)]
        await client.http.aclose()
    assert codes == [401] * 5 + [429]


async def test_requests_refused_before_the_password_check_use_no_budget(strict_app, people):
    """Before: requests refused for a bad CSRF token used the budget (a cross-site page could
    lock people out)."""
    client = await _client_from(strict_app, "198.51.100.8")
    username = people.a[Role.NEWCOMER].username
    for _ in range(15):
        forged = await _try(client, username, PASSWORD, headers={"x-csrftoken": "forged"})
        assert forged.status_code == 403
        malformed = await client.post("/api/v1/auth/login", json={"username": username})
        assert malformed.status_code == 400
    assert (await _try(client, username, PASSWORD)).status_code == 200
    await client.http.aclose()


async def test_forwarded_for_counts_only_from_a_trusted_proxy(settings, people):
    """Before: varying X-Forwarded-For gave unlimited attempts. Now the header is read only from
    a trusted proxy, and then only its right-most hop that is not a trusted proxy itself."""
    cases = (
        # No trusted proxy: the socket's address counts, whatever the header says.
        ((), "198.51.100.{n}", [401] * 5 + [429]),
        # The load balancer is trusted: each client behind it has its own budget...
        (("10.0.0.0/8",), "198.51.100.{n}, 10.0.0.9", [401] * 6),
        # ...and what a client writes in the header before the balancer's hop changes nothing.
        (("10.0.0.0/8",), "192.0.2.{n}, 198.51.100.1", [401] * 5 + [429]),
    )
    for trusted, forwarded, expected in cases:
        changes = {"address_rate_limit_per_minute": 5, "trusted_proxies": trusted}
        async with _app(settings, **changes) as app:
            client = await _client_from(app, "10.0.0.2")
            codes = [
                (
                    await _try(
                        client, f"guess-{n}", headers={"x-forwarded-for": forwarded.format(n=n)}
                    )
                ).status_code
                for n in range(6)
            ]
            await client.http.aclose()
        assert codes == expected, (trusted, forwarded)
        from tandem.core.tables import RateLimitCounter

        await RateLimitCounter.delete(force=True)


async def test_sign_ups_are_limited_per_address(settings, people):
    async with _app(settings, address_rate_limit_per_minute=3) as app:
        client = await _client_from(app, "198.51.100.20")
        codes = []
        for n in range(4):
            codes.append((await _sign_up(client, f"joiner-{n}")).status_code)
            await client.post("/api/v1/auth/logout")
        await client.http.aclose()
    assert codes == [201] * 3 + [429]


async def test_password_hashing_runs_a_few_at_a_time(monkeypatch):
    """Before: 40 concurrent sign-ins hashed 40 passwords at once (64 MiB each)."""
    from tandem.accounts import passwords

    running = 0
    most = 0
    lock = threading.Lock()

    class CountingHasher:
        def verify(self, _hash: str, _password: str) -> bool:
            nonlocal running, most
            with lock:
                running += 1
                most = max(most, running)
            time.sleep(0.005)
            with lock:
                running -= 1
            return False

    monkeypatch.setattr(passwords, "_hasher", CountingHasher())
    async with anyio.create_task_group() as group:
        for _ in range(40):
            group.start_soon(passwords.verify_password, "$argon2id$x", "guess")
    assert 1 <= most <= passwords.HASHING_CONCURRENCY


def test_importing_passwords_computes_no_hash():
    """Before: an Argon2 hash was computed at import (a full hash on every start-up)."""
    script = (
        "import argon2\n"
        "calls = []\n"
        "argon2.PasswordHasher.hash = lambda self, *a, **k: calls.append(1)\n"
        "import tandem.accounts.passwords\n"
        "assert not calls, calls\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": "platform:.", "PATH": ""},
        cwd=Path(__file__).parents[2],
    )
    assert result.returncode == 0, result.stderr


# --- 10.5: who may change staff ------------------------------------------------------------


async def _set_status(client: TandemClient, membership_id: int, status: str) -> httpx.Response:
    return await client.post(f"/api/v1/members/{membership_id}/status", json={"status": status})


async def test_only_an_admin_changes_staff(make_client, people):
    """Before: a supervisor could deactivate the admin and other supervisors."""
    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    refused = await _set_status(supervisor, people.a[Role.ADMIN].membership_id, "inactive")
    assert refused.status_code == 403
    assert "Only an admin" in refused.json()["detail"]
    allowed = await _set_status(supervisor, people.a[Role.NEWCOMER].membership_id, "inactive")
    assert allowed.status_code == 204
    admin = await make_client()
    await admin.login(people.a[Role.ADMIN].username)
    response = await _set_status(admin, people.a[Role.SUPERVISOR].membership_id, "inactive")
    assert response.status_code == 204


async def test_a_pending_mentor_becomes_active_only_through_approval(make_client, people):
    """Before: setting a pending mentor to active skipped approval (no approved_at, no audit)."""
    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    pending = people.a_pending_mentor.membership_id
    response = await _set_status(supervisor, pending, "active")
    assert response.status_code == 409
    assert "Approve it" in response.json()["detail"]
    # Deactivated and reactivated without approval, the application waits again.
    for status in ("inactive", "active"):
        assert (await _set_status(supervisor, pending, status)).status_code == 204
    row = await Membership.select(Membership.status, Membership.approved_at).where(
        Membership.id == pending
    )
    assert row == [{"status": "pending", "approved_at": None}]


async def test_the_last_active_admin_cannot_be_deactivated(people: People):
    """Before: two admins deactivating each other at once left the program with none."""
    program_id = people.a[Role.ADMIN].program_id
    second_id = await accounts.create_member(
        program_id=program_id,
        username="admin-two",
        display_name="Admin Two",
        password=PASSWORD,
        role=Role.ADMIN,
    )
    first = await accounts.caller_for_membership(people.a[Role.ADMIN].membership_id)
    second = await accounts.caller_for_membership(second_id)
    assert first
    assert second
    await accounts.set_member_status(first, second_id, MembershipStatus.INACTIVE)
    with pytest.raises(Conflict, match="last active admin"):
        await accounts.set_member_status(second, first.membership_id, MembershipStatus.INACTIVE)


# --- 10.6 and 12.1: session rows only when there is something to keep -----------------------


async def test_cookie_less_requests_write_no_session(app, people):
    """Before: every cookie-less request inserted an empty session row and set a cookie."""
    client = TandemClient(app)
    for path in (
        "/healthz",
        "/login",
        "/",
        "/signup",
        "/static/tandem.css",
        "/schema/openapi.json",
    ):
        response = await client.http.get(path)
        assert response.status_code == 200, path
        assert _session_cookie(response) is None, path
    await client.http.aclose()
    from tandem.accounts.tables import WebSession

    assert await WebSession.count() == 0


async def test_a_signed_in_session_is_written_only_when_it_changes(
    app, client, people, monkeypatch
):
    """Before: every signed-in request wrote its session row back."""
    from tandem.accounts import store
    from tandem.accounts.tables import WebSession

    await client.login(people.a[Role.SUPERVISOR].username)
    [before] = await WebSession.select(WebSession.expires_at)
    for path in ("/api/v1/me", "/staff/dashboard", "/api/v1/members"):
        response = await client.get(path)
        assert response.status_code == 200
        assert _session_cookie(response) is None
    assert await WebSession.select(WebSession.expires_at) == [before]
    # A few minutes on, the next request extends the session (row and cookie) once.
    later = store._now() + timedelta(minutes=6)
    monkeypatch.setattr(store, "_now", lambda: later)
    refreshed = await client.get("/api/v1/me")
    assert _session_cookie(refreshed) == client.http.cookies["session"]
    [after] = await WebSession.select(WebSession.expires_at)
    assert after["expires_at"] > before["expires_at"]
    assert _session_cookie(await client.get("/api/v1/me")) is None


async def test_expired_sessions_and_counters_are_pruned(app, client, people, monkeypatch, frozen):
    from tandem.accounts import store
    from tandem.accounts.tables import WebSession
    from tandem.core import ratelimit
    from tandem.core.tables import RateLimitCounter

    await client.login(people.a[Role.NEWCOMER].username)
    fresh = await store.create({"membership_id": people.a[Role.MENTOR].membership_id}, 3600)
    await ratelimit.Attempt((("login:account:x", 10),)).count()
    later = store._now() + timedelta(hours=2)
    monkeypatch.setattr(store, "_now", lambda: later)
    # The one-hour session is gone; the sign-in's eight-hour session stays.
    assert await store.prune_expired() == 1
    assert await store.load(fresh) is None
    assert await WebSession.count() == 1
    # The sign-in's two counters and this one, once their minute is over.
    frozen.advance(timedelta(minutes=2))
    assert await ratelimit.prune_expired() == 3
    assert await RateLimitCounter.count() == 0


async def test_the_apps_housekeeping_loop_prunes_expired_rows(settings, people) -> None:
    """Pruning needs no one to run a command: each app process does it on its own loop."""
    import dataclasses

    import anyio

    from tandem.accounts import store
    from tandem.app import create_app
    from tandem.core.tables import Heartbeat

    expired = await store.create({"membership_id": people.a[Role.MENTOR].membership_id}, -60)
    app = create_app(dataclasses.replace(settings, housekeeping_seconds=0.05))
    async with app.lifespan():
        # A bounded wait for the loop's round (at most 30 s), not a timed assertion on speed.
        for _ in range(600):
            if await store.load(expired) is None and await Heartbeat.count():
                break
            await anyio.sleep(0.05)
    assert await store.load(expired) is None
    assert await Heartbeat.exists().where(Heartbeat.name == "housekeeping")


# --- 10.7: headers --------------------------------------------------------------------------


async def test_responses_carry_security_headers(client, people):
    """Before: no CSP, no X-Frame-Options, nothing kept health data out of caches."""
    await client.login(people.a[Role.NEWCOMER].username)
    for path in ("/login", "/home", "/api/v1/me", "/api/v1/me/export"):
        headers = (await client.get(path)).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert "script-src 'self';" in headers["content-security-policy"], path
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["cache-control"] == "no-store", path
        assert "strict-transport-security" not in headers


async def test_secure_cookies_bring_hsts(settings, people):
    async with _app(settings, secure_cookies=True) as app:
        client = TandemClient(app)
        client.http.base_url = httpx.URL("https://testserver")
        await client.prime()
        response = await client.login(people.a[Role.NEWCOMER].username)
        await client.http.aclose()
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert all("Secure" in c for c in response.headers.get_list("set-cookie"))


def test_templates_fit_the_content_security_policy():
    """The CSP allows no inline script, style or event handler: keep them out of templates
    (put scripts in /static files and styles in tandem.css)."""
    inline = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.IGNORECASE)
    offenders = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0).strip()}"
        for path in TEMPLATES.rglob("*.html")
        for match in inline.finditer(path.read_text())
    ]
    assert offenders == []
