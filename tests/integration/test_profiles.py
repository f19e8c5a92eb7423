"""Intake and mentor profiles: validation that names the field, privacy of the pause note,
tenancy, auditing without content, and export and deletion of one's own data."""

from __future__ import annotations

import pytest

from tandem.core.auth import Role
from tandem.core.tables import AuditEvent
from tandem.profiles.tables import NewcomerProfile
from tests.support.answers import INTAKE, MENTOR_PROFILE

pytestmark = pytest.mark.anyio

MENTOR = MENTOR_PROFILE


async def test_newcomer_saves_and_reads_their_intake(client, people) -> None:
    await client.login(people.a[Role.NEWCOMER].username)
    response = await client.put("/api/v1/intake", json=INTAKE)
    assert response.status_code == 200, response.text
    assert response.json()["pathways"] == ["smart_recovery"]
    again = await client.put("/api/v1/intake", json={**INTAKE, "formats": ["text"]})
    assert again.json()["formats"] == ["text"]
    assert (await client.get("/api/v1/intake")).json()["formats"] == ["text"]
    # Audited with the names of changed fields only: never the words the person wrote.
    events = await AuditEvent.select(AuditEvent.action, AuditEvent.detail).where(
        AuditEvent.action == "newcomer_profile.saved"
    )
    assert len(events) == 2
    assert all("after work" not in str(event["detail"]) for event in events)
    assert "formats" in str(events[1]["detail"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"pathways": ["astrology"]}, "pathways"),
        ({"pathways": []}, "pathways"),
        ({"availability": [{"day": 0, "start": "21:00", "end": "17:00"}]}, "availability"),
        ({"availability": [{"day": 9, "start": "17:00", "end": "18:00"}]}, "day"),
        ({"formats": ["in_person"], "area": ""}, "area"),
        ({"recovery_start": "2999-01-01"}, "recovery_start"),
        ({"languages": ["English"]}, "languages"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
    ],
)
async def test_bad_intake_is_a_400_naming_the_field(client, people, change, field) -> None:
    await client.login(people.a[Role.NEWCOMER].username)
    response = await client.put("/api/v1/intake", json={**INTAKE, **change})
    assert response.status_code == 400, response.text
    assert field in response.text
    assert not await NewcomerProfile.exists()


async def test_staff_read_intakes_of_their_own_program_only(make_client, people) -> None:
    newcomer = await make_client()
    await newcomer.login(people.a[Role.NEWCOMER].username)
    await newcomer.put("/api/v1/intake", json=INTAKE)
    target = people.a[Role.NEWCOMER].membership_id

    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    assert (await supervisor.get(f"/api/v1/newcomers/{target}/intake")).status_code == 200
    outsider = await make_client()
    await outsider.login(people.b[Role.SUPERVISOR].username)
    hidden = await outsider.get(f"/api/v1/newcomers/{target}/intake")
    missing = await outsider.get("/api/v1/newcomers/999999/intake")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"] == missing.json()["detail"]


async def test_mentor_pause_note_is_for_the_supervisor_only(make_client, people) -> None:
    mentor = await make_client()
    await mentor.login(people.a[Role.MENTOR].username)
    assert (await mentor.put("/api/v1/mentor-profile", json=MENTOR)).status_code == 200
    paused = await mentor.post("/api/v1/mentor-profile/pause", json={"note": "Family illness"})
    assert paused.json()["paused"] is True
    assert paused.json()["note"] is None
    assert "note" not in (await mentor.get("/api/v1/mentor-profile")).text.lower().replace(
        '"note"', ""
    )
    target = people.a[Role.MENTOR].membership_id
    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    status = (await supervisor.get(f"/api/v1/mentors/{target}/pause")).json()
    assert status == {"paused": True, "paused_at": status["paused_at"], "note": "Family illness"}
    events = await AuditEvent.select(AuditEvent.detail).where(AuditEvent.action == "mentor.paused")
    assert "Family" not in str(events)
    resumed = await mentor.post("/api/v1/mentor-profile/resume")
    assert resumed.json()["paused"] is False


async def test_mentor_profile_is_validated(client, people) -> None:
    await client.login(people.a[Role.MENTOR].username)
    response = await client.put("/api/v1/mentor-profile", json={**MENTOR, "capacity": 40})
    assert response.status_code == 400
    assert "capacity" in response.text


async def test_export_contains_my_data_and_delete_erases_it(client, people) -> None:
    await client.login(people.a[Role.NEWCOMER].username)
    await client.put("/api/v1/intake", json=INTAKE)
    export = await client.get("/api/v1/me/export")
    assert export.status_code == 200
    assert "attachment" in export.headers["content-disposition"]
    body = export.json()
    assert body["person"]["username"] == people.a[Role.NEWCOMER].username
    assert body["intake"]["hopes"] == INTAKE["hopes"]
    assert "password" not in export.text
    assert body["training"]["attempts"] == []

    refused = await client.post("/api/v1/me/delete", json={"confirm": "yes"})
    assert refused.status_code == 400
    assert await NewcomerProfile.exists()
    deleted = await client.post("/api/v1/me/delete", json={"confirm": "delete my data"})
    assert deleted.status_code == 204
    assert not await NewcomerProfile.exists()
    assert (await client.get("/api/v1/me")).status_code == 401
