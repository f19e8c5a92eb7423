"""The audit trail as staff read it: sensitive reads are recorded (who read whose intake or
pause notes, never the words), the viewer filters by person, record and kind, pages through
the trail, names people by display name, and downloads exactly the filtered events as CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from tandem.accounts.tables import Person
from tandem.core.audit import DELETED_ACTOR
from tandem.core.auth import Role
from tandem.core.tables import AuditEvent
from tandem.matches.tables import MentorMatch
from tandem.oversight import audit
from tests.support.builders import caller
from tests.support.journey import new_mentor, new_newcomer, signed_in

pytestmark = pytest.mark.anyio

HOPES = "Evenings after work are when I need someone."


async def _person(username: str) -> int:
    return (await Person.select(Person.id).where(Person.username == username).first())["id"]


async def _events(action: str) -> list[dict]:
    return await AuditEvent.select().where(AuditEvent.action == action).output(load_json=True)


async def _matched(people, make_client):  # type: ignore[no-untyped-def]
    """Sage (sharing pathways and hopes) matched with Ash, over HTTP; the three clients."""
    program = people.a[Role.SUPERVISOR].program_id
    sage = await new_newcomer(program, "sage", hopes=HOPES, share_with_mentor=["pathways", "hopes"])
    ash = await new_mentor(program, "ash")
    clients = [await signed_in(make_client, u) for u in ("sage", "ash")]
    supervisor = await signed_in(make_client, people.a[Role.SUPERVISOR].username)
    await clients[0].post("/api/v1/match-requests")
    [proposal] = [
        p
        for p in (await supervisor.get("/api/v1/proposals")).json()
        if p["newcomer_name"] == "Sage"
    ]
    await supervisor.post(
        f"/api/v1/proposals/{proposal['id']}/approve", json={"mentor_id": ash.membership_id}
    )
    [offer] = (await clients[1].get("/api/v1/offers")).json()
    match = (await clients[1].post(f"/api/v1/offers/{offer['id']}/accept")).json()
    return sage, ash, clients[0], clients[1], supervisor, match["id"]


async def test_reads_of_an_intake_are_recorded_with_the_parts_never_the_words(
    make_client, people, frozen
) -> None:
    sage, ash, _, mentor, supervisor, match_id = await _matched(people, make_client)
    # The mentor saw the shared parts on the offer and in the accepted match; proposing (the
    # program itself reading the intake) is no read.
    reads = await _events("intake.read")
    assert len(reads) == 2
    for read in reads:
        assert read["actor_id"] == ash.person_id
        assert read["entity_id"] == str(sage.membership_id)
        assert read["detail"] == {"parts": ["hopes", "pathways"]}

    # The home page lists names only: no read. The match page shows the shared parts: a read.
    await mentor.get("/home")
    assert len(await _events("intake.read")) == 2
    page = await mentor.get("/mentor/matches")
    assert HOPES in page.text
    assert len(await _events("intake.read")) == 3

    # Staff reading the whole intake is recorded too.
    staff = await supervisor.get(f"/api/v1/newcomers/{sage.membership_id}/intake")
    assert staff.status_code == 200
    reads = await _events("intake.read")
    assert reads[-1]["detail"] == {"parts": ["intake"]}
    assert reads[-1]["actor_id"] == await _person(people.a[Role.SUPERVISOR].username)
    # Nothing Sage wrote is anywhere in the trail.
    for row in await AuditEvent.select():
        assert "Evenings" not in str(row)
    assert await MentorMatch.exists().where(MentorMatch.id == match_id)


async def test_the_viewer_marks_sensitive_reads_and_names_people(
    make_client, people, frozen
) -> None:
    _, _, _, mentor, supervisor, _ = await _matched(people, make_client)
    await mentor.get("/mentor/matches")
    await supervisor.get("/staff/mentors/paused")
    page = await supervisor.get("/api/v1/oversight/audit", params={"sensitive": "true"})
    assert page.status_code == 200
    items = page.json()["items"]
    assert {i["action"] for i in items} == {"intake.read", "mentor.pause_notes_read"}
    assert all(i["sensitive_read"] for i in items)
    first = next(i for i in items if i["action"] == "intake.read")
    assert first["actor_name"] == "Ash"
    assert first["about_name"] == "Sage"
    html = await supervisor.get("/staff/audit", params={"sensitive": "on"})
    assert "sensitive read" in html.text
    assert "Sage" in html.text


async def test_filters_by_person_record_and_kind(make_client, people, frozen) -> None:
    sage, ash, _, _, supervisor, match_id = await _matched(people, make_client)

    async def actions(**params: object) -> list[str]:
        response = await supervisor.get("/api/v1/oversight/audit", params=params)
        assert response.status_code == 200, response.text
        return [item["action"] for item in response.json()["items"]]

    # Asking for a mentor proposes one at once, in the newcomer's own request.
    mine = {"newcomer_profile.saved", "match.requested", "match.proposed"}
    assert set(await actions(person=sage.person_id)) == mine
    assert set(await actions(person=ash.person_id)) >= {"match.offer_accepted", "intake.read"}
    assert await actions(action="match.requested") == ["match.requested"]
    by_record = await actions(entity="newcomer_profile", record=str(sage.membership_id))
    assert set(by_record) == {"newcomer_profile.saved", "intake.read"}
    assert await actions(person=ash.person_id, action="match.requested") == []
    choices = await audit.choices(await caller(people.a[Role.SUPERVISOR].membership_id))
    assert "match.requested" in choices.actions
    assert (sage.person_id, f"Sage (newcomer, no. {sage.person_id})") in choices.people
    assert match_id


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"person": "nobody"}, "person"),
        ({"record": "12"}, "record"),
        ({"entity": "Robert'); DROP"}, "entity"),
        ({"action": "x" * 80}, "action"),
        ({"limit": "0"}, "limit"),
    ],
)
async def test_a_bad_filter_is_named_in_plain_words(make_client, people, params, field) -> None:
    supervisor = await signed_in(make_client, people.a[Role.SUPERVISOR].username)
    response = await supervisor.get("/api/v1/oversight/audit", params=params)
    assert response.status_code == 400
    assert field in response.text
    assert "Expected" not in response.text
    message = response.json()["errors"][0]["message"]
    page = await supervisor.get("/staff/audit", params=params, headers={"accept": "text/html"})
    assert page.status_code == 400
    assert message.replace("'", "&#39;") in page.text


async def test_pages_of_the_trail_newest_first_without_overlap(make_client, people) -> None:
    program = people.a[Role.ADMIN].program_id
    start = datetime(2026, 3, 1, tzinfo=UTC)
    await AuditEvent.insert(
        *[
            AuditEvent(
                program_id=program,
                actor_id=None,
                action="test.paged",
                entity="thing",
                entity_id=str(n),
                detail={},
                # Two events share each second: the id breaks the tie.
                at=start + timedelta(seconds=n // 2),
            )
            for n in range(7)
        ]
    )
    admin = await signed_in(make_client, people.a[Role.ADMIN].username)
    seen, offset = [], 0
    while offset is not None:
        page = (
            await admin.get(
                "/api/v1/oversight/audit",
                params={"action": "test.paged", "limit": 3, "offset": offset},
            )
        ).json()
        seen += [item["entity_id"] for item in page["items"]]
        offset = page["next_offset"]
    assert seen == [str(n) for n in reversed(range(7))]
    html = await admin.get("/staff/audit", params={"action": "test.paged", "limit": 3})
    assert "Older events" in html.text
    assert "Newer events" not in html.text
    assert "offset=3" in html.text


async def test_the_csv_holds_exactly_the_filtered_events(make_client, people, frozen) -> None:
    _, ash, _, _, supervisor, _ = await _matched(people, make_client)
    # A display name a spreadsheet would run as a formula is written as text.
    await Person.update({Person.display_name: "=HYPERLINK(1)"}).where(Person.id == ash.person_id)
    response = await supervisor.get("/staff/audit.csv", params={"person": ash.person_id})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    api = (
        await supervisor.get(
            "/api/v1/oversight/audit", params={"person": ash.person_id, "limit": 100}
        )
    ).json()["items"]
    assert [r["event"] for r in rows] == [i["action"] for i in api]
    assert {r["who"] for r in rows} == {"'=HYPERLINK(1)"}
    read = next(r for r in rows if r["event"] == "intake.read")
    assert read["about"] == "Sage"
    assert read["sensitive_read"] == "yes"
    assert read["detail"] == "parts=hopes,pathways"
    assert list(rows[0]) == list(audit.CSV_COLUMNS)
    # The download is itself in the trail, with the filters used (names only).
    [exported] = await _events("audit.exported")
    assert exported["detail"] == {"filters": ["person"], "rows": len(rows)}


async def test_staff_of_the_program_only_and_a_deleted_person_is_named_as_such(
    make_client, people, frozen
) -> None:
    sage, _, newcomer, _, supervisor, _ = await _matched(people, make_client)
    await newcomer.get("/api/v1/me/export")
    await newcomer.post("/api/v1/me/delete", json={"confirm": "delete my data"})
    refused = await supervisor.get("/api/v1/oversight/audit", params={"person": DELETED_ACTOR})
    assert refused.status_code == 400, "a person filter takes real people only"
    everything = (await supervisor.get("/api/v1/oversight/audit", params={"limit": 100})).json()
    theirs = [
        i for i in everything["items"] if i["actor_name"] == "A person who deleted their account"
    ]
    assert {i["action"] for i in theirs} >= {"person.exported", "person.deleted", "match.requested"}
    assert all(i["actor_id"] == DELETED_ACTOR for i in theirs)
    assert "Sage" not in str(everything)
    # Program B's staff see none of it.
    other = await signed_in(make_client, people.b[Role.SUPERVISOR].username)
    b_items = (await other.get("/api/v1/oversight/audit", params={"limit": 100})).json()["items"]
    assert not {i["action"] for i in b_items} & {"person.deleted", "match.requested"}
    assert sage.person_id
