"""The profile forms and the staff review pages over HTTP, submitted as a person would."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib import import_module
from typing import Any

import msgspec
import pytest

from matching.vocabulary import RECOVERY_STAGES
from tandem.accounts.tables import Membership
from tandem.core.auth import Role
from tandem.core.tables import AuditEvent
from tandem.notifications.tables import Notice
from tandem.profiles.choices import LANGUAGES, TIME_ZONES
from tandem.profiles.schemas import MentorProfileUpdate, NewcomerIntake
from tandem.profiles.tables import MentorProfile, NewcomerProfile
from tests.support.builders import INTAKE, MENTOR_PROFILE

pytestmark = pytest.mark.anyio
HTML = {"accept": "text/html"}

MENTOR_FORM: dict[str, Any] = {
    "recovery_start": "2017-06-01",
    "gender": "man",
    "languages": ["English", "Haitian Creole", ""],
    "pathways": "twelve_step",
    "formats": ["video", "phone"],
    "area": "",
    "timezone": "America/New_York",
    "slot": ["1|17:00|21:00", "6|21:00|23:00"],
    "capacity": "2",
    "bio": "Nine years; I like long walks.",
}
INTAKE_FORM: dict[str, Any] = {
    "recovery_stage": "under_1_month",
    "gender": "woman",
    "wanted_gender": "any",
    "languages": ["Spanish", "", ""],
    "pathways": "harm_reduction",
    "pathway_strictness": "preferred",
    "formats": "text",
    "timezone": "America/Chicago",
    "slot": "3|17:00|21:00",
    "hopes": "",
}


def _problem(page: str, field: str) -> str:
    """The message shown next to `field`, or "" when there is none."""
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page)
    return found.group(1) if found else ""


async def test_a_mentor_saves_their_profile_from_the_page(client, people) -> None:
    await client.login(people.a_pending_mentor.username)
    response = await client.post("/mentor/profile", data=MENTOR_FORM, headers=HTML)
    assert response.status_code in (302, 303), response.text
    assert response.headers["location"] == "/home?saved=profile"
    saved = (await client.get("/api/v1/mentor-profile")).json()
    assert saved["languages"] == ["en", "ht"]
    assert saved["gender"] == "man"
    assert [slot["day"] for slot in saved["availability"]] == [1, 6]
    page = (await client.get("/mentor/profile", headers=HTML)).text
    assert 'value="Haitian Creole"' in page
    assert 'value="1|17:00|21:00" aria-label="Tue Evening" checked' in page


async def test_an_untouched_intake_records_no_gender(client, people) -> None:
    await client.login(people.a[Role.NEWCOMER].username)
    blank = (await client.get("/intake", headers=HTML)).text
    for field in ("gender", "wanted_gender"):
        select = blank.split(f'<select id="{field}"')[1].split("</select>")[0]
        assert re.search(r'<option value="" selected>', select), field
        assert select.count("selected") == 1, field
    untouched = {k: v for k, v in INTAKE_FORM.items() if k not in ("gender", "wanted_gender")}
    response = await client.post("/intake", data=untouched, headers=HTML)
    assert response.status_code == 400
    assert _problem(response.text, "gender") or _problem(response.text, "wanted_gender")
    assert not await NewcomerProfile.exists()
    # The API asks for both as well: nothing is recorded that was not asked.
    api = await client.put(
        "/api/v1/intake", json={k: v for k, v in INTAKE.items() if k != "wanted_gender"}
    )
    assert api.status_code == 400
    assert "wanted_gender" in api.text


async def test_prefer_not_to_say_is_an_answer_and_the_page_says_what_it_means(
    client, people
) -> None:
    await client.login(people.a[Role.NEWCOMER].username)
    page = (await client.get("/intake", headers=HTML)).text
    assert '<option value="prefer_not_to_say"' in page.split('id="gender"')[1].split("</select>")[0]
    assert "prefer_not_to_say" not in page.split('id="wanted_gender"')[1].split("</select>")[0]
    assert '"same gender as me" means we look for a mentor of any gender' in page
    form = {**INTAKE_FORM, "gender": "prefer_not_to_say", "wanted_gender": "same"}
    response = await client.post("/intake", data=form, headers=HTML)
    assert response.status_code in (302, 303), response.text
    assert (await client.get("/api/v1/intake")).json()["gender"] == "prefer_not_to_say"


async def test_a_strict_pathway_without_a_pathway_is_refused_in_plain_words(client, people) -> None:
    await client.login(people.a[Role.NEWCOMER].username)
    form = {**INTAKE_FORM, "pathway_strictness": "strict"}
    del form["pathways"]
    response = await client.post("/intake", data=form, headers=HTML)
    assert response.status_code == 400
    assert "did not tick one" in _problem(response.text, "pathways")
    assert 'value="strict" selected' in response.text
    api = await client.put(
        "/api/v1/intake", json={**INTAKE, "pathways": [], "pathway_strictness": "strict"}
    )
    assert api.status_code == 400
    assert api.json()["extra"]["field"] == "pathways"
    # No pathway is fine when the pathway is not to be strict.
    del form["pathway_strictness"]
    open_form = {**form, "pathway_strictness": "open"}
    assert (await client.post("/intake", data=open_form, headers=HTML)).status_code in (302, 303)


async def test_languages_and_time_zones_come_from_the_lists(client, people) -> None:
    await client.login(people.a[Role.NEWCOMER].username)
    bad = {**INTAKE_FORM, "languages": ["Spanglish"], "timezone": "US/Eastern"}
    response = await client.post("/intake", data=bad, headers=HTML)
    assert response.status_code == 400
    assert "choose each language from the list" in _problem(response.text, "languages")
    assert 'value="Spanglish"' in response.text  # what was typed stays
    zone = await client.post(
        "/intake", data={**INTAKE_FORM, "timezone": "US/Eastern"}, headers=HTML
    )
    assert "from the list" in _problem(zone.text, "timezone")
    assert 'aria-invalid="true" aria-describedby="timezone-error' in zone.text
    assert not await NewcomerProfile.exists()


def _attributes(page: str, element_id: str) -> dict[str, str]:
    tag = re.search(rf'<(?:input|textarea|select)[^>]*\bid="{element_id}"[^>]*>', page, re.S)
    assert tag, element_id
    return dict(re.findall(r'(\w[\w-]*)="([^"]*)"', tag.group(0))) | {
        flag: "" for flag in ("required",) if re.search(rf"\s{flag}[\s>]", tag.group(0))
    }


def _browser_accepts(pattern: str, value: str) -> bool:
    """The browser anchors `pattern` and matches the whole value; Python's fullmatch does too."""
    return re.fullmatch(pattern.replace("\\/", "/"), value) is not None


async def test_the_browser_checks_agree_with_the_server(client, people) -> None:
    await client.login(people.a[Role.MENTOR].username)
    page = (await client.get("/mentor/profile", headers=HTML)).text
    schema = {f.name: f for f in msgspec.inspect.type_info(MentorProfileUpdate).fields}

    capacity = _attributes(page, "capacity")
    bounds = schema["capacity"].type
    assert (int(capacity["min"]), int(capacity["max"])) == (bounds.ge, bounds.le)
    for text in ("bio", "area"):
        kind = schema[text].type
        # Free text carries a second constraint (no NUL), which msgspec reports as Metadata.
        kind = kind.type if isinstance(kind, msgspec.inspect.Metadata) else kind
        assert int(_attributes(page, text)["maxlength"]) == kind.max_length
    assert "required" in _attributes(page, "recovery_start")
    assert "required" in _attributes(page, "gender")

    # Every language and time zone the page's pattern accepts, the server accepts, and no other.
    languages = _attributes(page, "language-1")["pattern"].replace("&amp;", "&")
    names = [name for name, _ in LANGUAGES.values()]
    assert all(_browser_accepts(languages, name) for name in names)
    assert not _browser_accepts(languages, "Klingon")
    zones = _attributes(page, "timezone")["pattern"]
    assert all(_browser_accepts(zones, zone) for zone in TIME_ZONES[::25])
    assert not _browser_accepts(zones, "US/Eastern")
    intake_fields = {f.name for f in msgspec.inspect.type_info(NewcomerIntake).fields}
    assert {"gender", "wanted_gender", "languages", "timezone"} <= intake_fields

    response = await client.put(
        "/api/v1/mentor-profile", json={**MENTOR_PROFILE, "timezone": TIME_ZONES[100]}
    )
    assert response.status_code == 200, response.text


async def test_staff_see_paused_mentors_and_their_notes_from_the_notice(
    make_client, people
) -> None:
    mentor = await make_client()
    await mentor.login(people.a[Role.MENTOR].username)
    assert (await mentor.put("/api/v1/mentor-profile", json=MENTOR_PROFILE)).status_code == 200
    paused = await mentor.post("/mentor/pause", data={"action": "pause", "note": "Family news."})
    assert paused.status_code in (302, 303)
    notice = (
        await Notice.select(Notice.link)
        .where(
            (Notice.recipient == people.a[Role.SUPERVISOR].membership_id)
            & (Notice.event_type == "mentor.paused")
        )
        .first()
    )
    assert notice is not None
    assert notice["link"] == "/staff/mentors/paused"

    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    page = await supervisor.get(notice["link"], headers=HTML)
    assert page.status_code == 200
    assert "Mentor A" in page.text
    assert "Family news." in page.text
    read = await AuditEvent.select(AuditEvent.action, AuditEvent.detail).where(
        AuditEvent.action == "mentor.pause_notes_read"
    )
    assert len(read) == 1
    assert "Family news." not in str(read)  # who read whose note, never the note
    outsider = await make_client()
    await outsider.login(people.b[Role.SUPERVISOR].username)
    assert "Family news." not in (await outsider.get("/staff/mentors/paused", headers=HTML)).text
    api = await supervisor.get("/api/v1/mentors/paused")
    assert [m["note"] for m in api.json()] == ["Family news."]


async def test_an_empty_application_cannot_be_approved_and_a_decline_is_read_kindly(
    make_client, people
) -> None:
    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    applicant = people.a_pending_mentor.membership_id
    home = (await supervisor.get("/staff/overview", headers=HTML)).text
    assert "Profile not filled in yet, so there is nothing to approve" in home
    assert f'action="/staff/members/{applicant}/approve"' not in home

    refused = await supervisor.post(f"/staff/members/{applicant}/approve", headers=HTML)
    assert refused.status_code == 409
    assert "has not filled in their mentor profile yet" in refused.text
    assert (await Membership.select(Membership.status).where(Membership.id == applicant).first())[
        "status"
    ] == "pending"

    no_reason = await supervisor.post(
        f"/staff/members/{applicant}/decline", data={"reason": "  "}, headers=HTML
    )
    assert no_reason.status_code == 400
    assert "Please write a short reason" in _problem(no_reason.text, f"reason-{applicant}")

    reason = "We ask mentors for two years of recovery; please apply again next spring."
    declined = await supervisor.post(
        f"/staff/members/{applicant}/decline", data={"reason": reason}, headers=HTML
    )
    assert declined.headers["location"] == "/staff/overview?saved=declined"
    assert await AuditEvent.exists().where(AuditEvent.action == "mentor.declined")

    person = await make_client()
    await person.login(people.a_pending_mentor.username)
    page = (await person.get("/home", headers=HTML)).text
    assert "Thank you for offering to walk alongside others" in page
    assert reason in page
    assert "This is not a judgement of your recovery" in page
    assert "Start my training" not in page
    again = await supervisor.post(f"/api/v1/members/{applicant}/decline", json={"reason": "x"})
    assert again.status_code == 409
    outsider = await make_client()
    await outsider.login(people.b[Role.SUPERVISOR].username)
    elsewhere = await outsider.post(f"/api/v1/members/{applicant}/decline", json={"reason": "x"})
    assert elsewhere.status_code == 404


async def test_a_filled_application_is_approved_from_the_page(make_client, people) -> None:
    applicant = await make_client()
    await applicant.login(people.a_pending_mentor.username)
    assert (await applicant.put("/api/v1/mentor-profile", json=MENTOR_PROFILE)).status_code == 200
    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    membership_id = people.a_pending_mentor.membership_id
    approved = await supervisor.post(f"/staff/members/{membership_id}/approve", headers=HTML)
    assert approved.headers["location"] == "/staff/overview?saved=approved"
    assert await MentorProfile.exists().where(MentorProfile.membership == membership_id)


async def test_small_things_people_noticed(make_client, people) -> None:
    visitor = await make_client()
    icon = await visitor.get("/static/favicon.svg")
    assert icon.status_code == 200
    assert 'rel="icon" href="/static/favicon.svg"' in (await visitor.get("/", headers=HTML)).text
    farewell = (await visitor.get("/?deleted=1", headers=HTML)).text
    assert "Your account has been deleted" in farewell

    admin = await make_client()
    await admin.login(people.a[Role.ADMIN].username)
    home = (await admin.get("/staff/overview", headers=HTML)).text
    assert '<a href="/admin/webhooks">Webhooks</a>' in home
    deliveries = (await admin.get("/staff/deliveries", headers=HTML)).text
    assert "Dead (" not in deliveries
    assert "Gave up after the last try: none" in deliveries
    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    assert (
        '<a href="/admin/webhooks">'
        not in (await supervisor.get("/staff/overview", headers=HTML)).text
    )


async def test_deleting_my_account_ends_on_a_confirmation(client, people) -> None:
    await client.login(people.a[Role.NEWCOMER].username)
    response = await client.post(
        "/privacy/delete", data={"confirm": "delete my data"}, headers=HTML
    )
    assert response.status_code in (302, 303)
    landing = await client.get(response.headers["location"], headers=HTML)
    assert "Your account has been deleted" in landing.text


async def test_stored_recovery_stages_are_migrated_to_the_engine_names(people) -> None:
    """The data migration: values the engine never knew become its names."""
    stages = ("exploring", "under_30_days", "3_to_12_months", None)
    for member, stage in zip(people.a.values(), stages, strict=True):
        await NewcomerProfile.insert(
            NewcomerProfile(
                membership=member.membership_id, program=member.program_id, recovery_stage=stage,
                gender="woman", timezone="UTC", updated_at=datetime(2026, 1, 5, tzinfo=UTC),
            )
        )  # fmt: skip
    migration = import_module(
        "tandem.profiles.piccolo_migrations.profiles_2026_12_01t09_12_00_000000"
    )
    await (await migration.forwards()).run()
    rows = await NewcomerProfile.select(NewcomerProfile.recovery_stage).order_by(NewcomerProfile.id)
    assert [row["recovery_stage"] for row in rows] == [
        "under_1_month", "under_1_month", "3_to_12_months", None,
    ]  # fmt: skip
    assert {row["recovery_stage"] for row in rows} - {None} <= set(RECOVERY_STAGES)
