"""Consent: a newcomer changes what their mentor sees from their home page (a plain form) or
the API, at any time; the mentor's next page follows, and each change is audited (the parts
shared and withdrawn, never their content)."""

from __future__ import annotations

import re

import pytest

from tandem.core.auth import Role
from tandem.core.tables import AuditEvent
from tests.support.journey import new_mentor, new_newcomer, signed_in

pytestmark = pytest.mark.anyio

HOPES = "To get through Friday nights without feeling alone."


async def _matched(people, make_client):  # type: ignore[no-untyped-def]
    program = people.a[Role.SUPERVISOR].program_id
    await new_newcomer(program, "juniper", hopes=HOPES, share_with_mentor=["pathways", "hopes"])
    oak = await new_mentor(program, "oak")
    newcomer = await signed_in(make_client, "juniper")
    mentor = await signed_in(make_client, "oak")
    supervisor = await signed_in(make_client, people.a[Role.SUPERVISOR].username)
    await newcomer.post("/api/v1/match-requests")
    [proposal] = (await supervisor.get("/api/v1/proposals")).json()
    await supervisor.post(
        f"/api/v1/proposals/{proposal['id']}/approve", json={"mentor_id": oak.membership_id}
    )
    [offer] = (await mentor.get("/api/v1/offers")).json()
    match = (await mentor.post(f"/api/v1/offers/{offer['id']}/accept")).json()
    return newcomer, mentor, match["id"]


def _ticked(html: str) -> set[str]:
    return set(re.findall(r'name="share_with_mentor" value="(\w+)" checked', html))


async def test_the_home_page_form_changes_what_the_mentor_sees_at_once(
    make_client, people, frozen
) -> None:
    newcomer, mentor, match_id = await _matched(people, make_client)
    assert set((await mentor.get(f"/api/v1/matches/{match_id}")).json()["shared"]) == {
        "pathways",
        "hopes",
    }
    assert HOPES in (await mentor.get("/mentor/matches")).text

    home = await newcomer.get("/home")
    assert 'action="/intake/sharing"' in home.text
    assert _ticked(home.text) == {"pathways", "hopes"}
    # Untick hopes, tick recovery stage: sent as a browser sends a form.
    sent = await newcomer.post(
        "/intake/sharing", data={"share_with_mentor": ["pathways", "recovery_stage"]}
    )
    assert sent.status_code in (302, 303)
    assert sent.headers["location"] == "/home?saved=sharing"
    home = await newcomer.get("/home?saved=sharing")
    assert _ticked(home.text) == {"pathways", "recovery_stage"}
    assert "Your mentor sees this from their next page" in home.text

    shared = (await mentor.get(f"/api/v1/matches/{match_id}")).json()["shared"]
    assert set(shared) == {"pathways", "recovery_stage"}
    assert HOPES not in (await mentor.get("/mentor/matches")).text

    # Nothing ticked shares nothing beyond the name and the hours.
    await newcomer.post("/intake/sharing", data={})
    assert (await mentor.get(f"/api/v1/matches/{match_id}")).json()["shared"] == {}
    changes = (
        await AuditEvent.select(AuditEvent.detail)
        .where(AuditEvent.action == "intake.sharing_changed")
        .order_by(AuditEvent.id)
        .output(load_json=True)
    )
    assert [c["detail"] for c in changes] == [
        {"shared": ["pathways", "recovery_stage"], "withdrawn": ["hopes"]},
        {"shared": [], "withdrawn": ["pathways", "recovery_stage"]},
    ]


async def test_the_api_changes_sharing_and_refuses_unknown_parts(
    make_client, people, frozen
) -> None:
    newcomer, mentor, match_id = await _matched(people, make_client)
    changed = await newcomer.put("/api/v1/intake/sharing", json={"share_with_mentor": ["hopes"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["share_with_mentor"] == ["hopes"]
    assert (await mentor.get(f"/api/v1/matches/{match_id}")).json()["shared"] == {"hopes": HOPES}
    refused = await newcomer.put("/api/v1/intake/sharing", json={"share_with_mentor": ["gender"]})
    assert refused.status_code == 400
    assert "share_with_mentor" in refused.text
    form = await newcomer.post(
        "/intake/sharing", data={"share_with_mentor": "gender"}, headers={"accept": "text/html"}
    )
    assert form.status_code == 400
    assert "tick only the parts listed" in form.text


async def test_a_newcomer_without_an_intake_is_asked_to_fill_it_in_first(client, people) -> None:
    await client.login(people.a[Role.NEWCOMER].username)
    assert 'action="/intake/sharing"' not in (await client.get("/home")).text
    response = await client.put("/api/v1/intake/sharing", json={"share_with_mentor": []})
    assert response.status_code == 404
    assert "intake first" in response.text
