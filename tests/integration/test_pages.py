"""The HTML pages over HTTP: forms, friendly errors, and crisis help on every page."""

from __future__ import annotations

import anyio
import pytest

from tandem.accounts.tables import Person
from tandem.core.auth import Role
from tandem.profiles.tables import NewcomerProfile
from tests.support.people import PASSWORD

pytestmark = pytest.mark.anyio
HTML = {"accept": "text/html"}


async def test_every_public_page_shows_crisis_help(client) -> None:
    for path in ("/", "/login", "/signup", "/signup?role=mentor"):
        page = await client.get(path, headers=HTML)
        assert page.status_code == 200
        assert 'aria-label="Get help now"' in page.text
        assert "988" in page.text


async def test_signup_form_keeps_answers_and_names_the_problem(client, people) -> None:
    response = await client.post(
        "/signup",
        data={
            "role": "newcomer",
            "program": "program-a",
            "display_name": "Robin",
            "username": "robin",
            "password": "short",
        },
        headers=HTML,
    )
    assert response.status_code == 400
    assert "Password" in response.text
    assert 'value="Robin"' in response.text
    assert not await Person.exists().where(Person.username == "robin")


async def test_intake_form_saves_checkboxes_and_slots(client, people) -> None:
    await client.login(people.a[Role.NEWCOMER].username)
    form = {
        "recovery_stage": "under_1_month",
        "gender": "man",
        "languages": ["English", "Spanish", ""],
        "pathways": ["twelve_step", "medication_supported"],
        "formats": "phone",
        "timezone": "America/Denver",
        "slot": ["0|17:00|21:00", "5|08:00|12:00"],
        "pathway_strictness": "preferred",
        "wanted_gender": "any",
        "hopes": "",
    }
    response = await client.post("/intake", data=form, headers=HTML)
    assert response.status_code in (302, 303), response.text
    intake = (await client.get("/api/v1/intake")).json()
    assert intake["pathways"] == ["twelve_step", "medication_supported"]
    assert intake["languages"] == ["en", "es"]
    assert [slot["day"] for slot in intake["availability"]] == [0, 5]
    page = await client.get("/intake", headers=HTML)
    assert 'value="0|17:00|21:00" aria-label="Mon Evening" checked' in page.text


async def test_intake_form_error_is_shown_on_the_form(client, people) -> None:
    await client.login(people.a[Role.NEWCOMER].username)
    response = await client.post(
        "/intake",
        data={"gender": "man", "languages": "en", "pathways": "twelve_step", "formats": "phone",
              "timezone": "Nowhere/Land", "slot": "0|17:00|21:00"},
        headers=HTML,
    )  # fmt: skip
    assert response.status_code == 400
    assert "time zone" in response.text
    assert not await NewcomerProfile.exists()


async def test_wrong_role_gets_a_friendly_page(client, people) -> None:
    await client.login(people.a[Role.MENTOR].username)
    response = await client.get("/intake", headers=HTML)
    assert response.status_code == 403
    assert "This page is not available to you" in response.text
    assert "988" in response.text


async def test_concurrent_sign_ups_with_one_username_give_one_account_and_a_409(
    make_client, people
) -> None:
    clients = [await make_client() for _ in range(2)]
    codes: list[int] = []

    async def sign_up(client) -> None:  # type: ignore[no-untyped-def]
        response = await client.post(
            "/api/v1/auth/signup",
            json={"username": "same-name", "display_name": "Jo", "password": "long-enough-pw",
                  "program": "program-a"},
        )  # fmt: skip
        codes.append(response.status_code)

    async with anyio.create_task_group() as group:
        for client in clients:
            group.start_soon(sign_up, client)
    assert sorted(codes) == [201, 409]
    assert await Person.count().where(Person.username == "same-name") == 1


@pytest.mark.parametrize(
    ("target", "landing"),
    [("/intake", "/intake"), ("//evil.example/x", "/home"), ("https://evil.example", "/home")],
)
async def test_sign_in_returns_to_the_page_asked_for_on_this_site_only(
    client, people, target, landing
) -> None:
    form = await client.get(f"/login?next={target}", headers=HTML)
    assert f'name="next" value="{landing}"' in form.text
    response = await client.post(
        "/login",
        data={"username": people.a[Role.NEWCOMER].username, "password": PASSWORD, "next": target},
        headers=HTML,
    )
    assert response.headers["location"] == landing


async def test_api_asks_anonymous_callers_to_sign_in(client) -> None:
    response = await client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["detail"] == "Please sign in first."


async def test_supervisor_home_shows_what_an_application_says(make_client, people) -> None:
    applicant = await make_client()
    await applicant.login(people.a_pending_mentor.username)
    profile = {
        "recovery_start": "2020-01-01", "pathways": ["faith_based"], "languages": ["es"],
        "formats": ["phone"], "gender": "man", "timezone": "America/Chicago",
        "availability": [{"day": 2, "start": "08:00", "end": "12:00"}], "bio": "Padre y amigo.",
    }  # fmt: skip
    assert (await applicant.put("/api/v1/mentor-profile", json=profile)).status_code == 200
    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    page = (await supervisor.get("/staff/overview", headers=HTML)).text
    assert "Pending A" in page
    assert "Faith-based" in page
    assert "Padre y amigo." in page
    outsider = await make_client()
    await outsider.login(people.b[Role.SUPERVISOR].username)
    assert "Pending A" not in (await outsider.get("/staff/overview", headers=HTML)).text


async def test_sign_up_suggests_the_demo_program_only_in_development(client) -> None:
    page = await client.get("/signup", headers=HTML)
    assert 'id="program" name="program" required value=""' in page.text
