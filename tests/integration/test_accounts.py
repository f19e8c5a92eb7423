"""Sign-up, sign-in, sessions, CSRF, rate limits and mentor approval over HTTP."""

from __future__ import annotations

import pytest

from tandem.accounts.tables import Person
from tandem.core.auth import Role
from tandem.core.tables import AuditEvent
from tests.support.builders import MENTOR_PROFILE, apply_as_mentor
from tests.support.people import PASSWORD

pytestmark = pytest.mark.anyio


async def test_newcomer_signs_up_with_an_alias_and_is_signed_in(client, people) -> None:
    response = await client.post(
        "/api/v1/auth/signup",
        json={
            "username": "River.Stone",
            "display_name": "River",
            "password": "a-long-enough-password",
            "program": "program-a",
        },
    )
    assert response.status_code == 201, response.text
    me = response.json()
    assert me["role"] == "newcomer"
    assert me["status"] == "active"
    assert me["program"] == "program-a"
    assert (await client.get("/api/v1/me")).json()["display_name"] == "River"
    # The password is stored only as an Argon2 hash, and the audit trail does not hold it.
    stored = await Person.select(Person.password_hash).where(Person.username == "river.stone")
    assert stored[0]["password_hash"].startswith("$argon2id$")
    events = await AuditEvent.select(AuditEvent.detail)
    assert all("a-long-enough-password" not in str(e["detail"]) for e in events)


async def test_mentor_application_stays_pending_until_approved(make_client, people) -> None:
    applicant = await make_client()
    membership_id = await apply_as_mentor(applicant)

    # A mentor cannot approve themselves; a supervisor of another program cannot see them.
    assert (await applicant.post(f"/api/v1/members/{membership_id}/approve")).status_code == 403
    outsider = await make_client()
    await outsider.login(people.b[Role.SUPERVISOR].username)
    assert (await outsider.post(f"/api/v1/members/{membership_id}/approve")).status_code == 404

    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    # Nothing to judge yet: an application without a profile is not approved.
    empty = await supervisor.post(f"/api/v1/members/{membership_id}/approve")
    assert empty.status_code == 409
    assert "not filled in their mentor profile" in empty.json()["detail"]
    assert (await applicant.put("/api/v1/mentor-profile", json=MENTOR_PROFILE)).status_code == 200
    assert (await supervisor.post(f"/api/v1/members/{membership_id}/approve")).status_code == 204
    assert (await applicant.get("/api/v1/me")).json()["status"] == "active"
    again = await supervisor.post(f"/api/v1/members/{membership_id}/approve")
    assert again.status_code == 409
    assert await AuditEvent.exists().where(AuditEvent.action == "mentor.approved")


async def test_sign_up_names_the_bad_field(client, people) -> None:
    response = await client.post(
        "/api/v1/auth/signup",
        json={
            "username": "ok-name",
            "display_name": "Jo",
            "password": "short",
            "program": "program-a",
        },
    )
    assert response.status_code == 400
    assert "password" in response.text
    assert not await Person.exists().where(Person.username == "ok-name")


async def test_sign_up_into_unknown_program_is_404(client) -> None:
    response = await client.post(
        "/api/v1/auth/signup",
        json={
            "username": "ok-name",
            "display_name": "Jo",
            "password": "long-enough-pw",
            "program": "nope",
        },
    )
    assert response.status_code == 404
    assert "program" in response.json()["detail"]


async def test_taken_username_is_a_clear_409(client, people) -> None:
    response = await client.post(
        "/api/v1/auth/signup",
        json={
            "username": people.a[Role.NEWCOMER].username.upper(),
            "display_name": "Jo",
            "password": "long-enough-pw",
            "program": "program-a",
        },
    )
    assert response.status_code == 409
    assert "username" in response.json()["detail"]


async def test_wrong_password_and_unknown_user_look_the_same(client, people) -> None:
    wrong = await client.post(
        "/api/v1/auth/login",
        json={"username": people.a[Role.NEWCOMER].username, "password": "nope"},
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"username": "ghost", "password": "nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_inactive_person_cannot_sign_in_and_loses_their_session(make_client, people) -> None:
    newcomer = await make_client()
    await newcomer.login(people.a[Role.NEWCOMER].username)
    admin = await make_client()
    await admin.login(people.a[Role.ADMIN].username)
    target = people.a[Role.NEWCOMER].membership_id
    response = await admin.post(f"/api/v1/members/{target}/status", json={"status": "inactive"})
    assert response.status_code == 204
    assert (await newcomer.get("/api/v1/me")).status_code == 401
    again = await make_client()
    refused = await again.post(
        "/api/v1/auth/login",
        json={"username": people.a[Role.NEWCOMER].username, "password": PASSWORD},
    )
    assert refused.status_code == 401


async def test_logout_ends_the_session(client, people) -> None:
    await client.login(people.a[Role.MENTOR].username)
    assert (await client.post("/api/v1/auth/logout")).status_code == 204
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_unsafe_requests_need_a_csrf_token(client, people) -> None:
    response = await client.post(
        "/api/v1/auth/login",
        json={"username": people.a[Role.NEWCOMER].username, "password": PASSWORD},
        headers={"x-csrftoken": "forged"},
    )
    assert response.status_code == 403
    assert "CSRF" in response.text


async def test_sessions_live_in_the_database_and_survive_a_restart(
    client, people, settings
) -> None:
    from tandem.app import create_app
    from tests.support.client import TandemClient

    await client.login(people.a[Role.SUPERVISOR].username)
    restarted = create_app(settings)
    async with restarted.lifespan():
        other = TandemClient(restarted)
        other.http.cookies = client.http.cookies
        response = await other.get("/api/v1/me")
        await other.http.aclose()
    assert response.status_code == 200
    assert response.json()["role"] == "supervisor"


async def test_sign_in_is_rate_limited(make_client, people, settings, frozen) -> None:
    # The clock is held (`frozen`): the limit counts per one-minute window, and a run that
    # crossed a minute's end between two attempts started counting again (a flaky failure).
    from dataclasses import replace

    from tandem.app import create_app
    from tests.support.client import TandemClient

    strict = create_app(replace(settings, login_rate_limit_per_minute=3))
    async with strict.lifespan():
        client = TandemClient(strict)
        await client.prime()
        codes = [
            (
                await client.post(
                    "/api/v1/auth/login", json={"username": "ghost", "password": "guess"}
                )
            ).status_code
            for _ in range(5)
        ]
        await client.http.aclose()
    assert codes[:3] == [401, 401, 401]
    assert codes[3:] == [429, 429]


async def test_unknown_host_is_refused(client) -> None:
    response = await client.get("/healthz", headers={"host": "evil.example"})
    assert response.status_code == 400


async def test_health_and_readiness(client) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}


async def test_openapi_is_served(client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/api/v1/intake" in schema["paths"]
