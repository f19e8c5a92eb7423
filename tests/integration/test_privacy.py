"""Privacy over the whole record: the download covers every table that names a person, erasure
leaves no trace of them in any table (read straight from the database, every registered table),
the match history stays anonymous for the figures and the outcome loop, and ended matches lose
who was in them after the program's retention time."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from piccolo.columns import JSON, Bytea, ForeignKey, Text, Varchar
from piccolo.table import Table

from tandem.accounts import services as accounts
from tandem.accounts.tables import Membership, Person
from tandem.core.audit import DELETED_ACTOR, MEMBERSHIP_ENTITIES, names_a_person
from tandem.core.auth import Role
from tandem.core.tables import AuditEvent
from tandem.matches.jobs import periodic_steps
from tandem.matches.tables import BatchRun, MatchProposal, MentorMatch, MentorOffer, MentorRequest
from tandem.privacy.services import EXPORTED
from tests.support.journey import new_mentor, new_newcomer, signed_in
from tests.unit.test_privacy_inventory import registered_tables

pytestmark = pytest.mark.anyio

HOPES = "Quiet evenings are the hardest part for Rowan right now."
BIO = "Willow here: ten years of walking this road, happy to listen."
STAFF_NOTE = "Rowan asked twice about evening calls."
DECLINE = "Not this month, my evenings are full with Rowan's group."


def _kind(table: type[Table], column: Any) -> str:
    """Whether a column holds a person id or a membership id."""
    if isinstance(column, ForeignKey):
        return "person" if column._foreign_key_meta.resolved_references is Person else "member"
    name = column._meta.name
    if name == "id":
        return "person" if table is Person else "member"
    return "person" if name.startswith(("person", "actor", "user")) else "member"


def _walk(value: Any, key: str = "") -> Any:
    """Every (key, leaf) in a JSON value, with the nearest key above each leaf."""
    if isinstance(value, dict):
        for inner, item in value.items():
            yield from _walk(item, inner)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, key)
    else:
        yield key, value


async def traces(person_id: int, membership_id: int, words: list[str]) -> list[str]:
    """Everything in the database that still points at the person: their ids in any column (or
    JSON key) that names a person, a trail record about them, or any of `words` in any text."""
    ids = {"person": {person_id, str(person_id)}, "member": {membership_id, str(membership_id)}}
    lowered = [word.lower() for word in words]
    found = []
    for table in registered_tables():
        name = table._meta.tablename
        personal = [
            column
            for column in table._meta.columns
            if (isinstance(column, ForeignKey) and column._foreign_key_meta.resolved_references
                in (Person, Membership))
            or names_a_person(column._meta.name)
            or (table in (Person, Membership) and column._meta.name == "id")
        ]  # fmt: skip
        texts = [c for c in table._meta.columns if isinstance(c, Varchar | Text | JSON | Bytea)]
        for row in await table.select():
            for column in personal:
                if row[column._meta.name] in ids[_kind(table, column)]:
                    found.append(f"{name}.{column._meta.name} = {row[column._meta.name]}")
            if table is AuditEvent and (
                (row["entity"] == "person" and row["entity_id"] == str(person_id))
                or (row["entity"] in MEMBERSHIP_ENTITIES and row["entity_id"] == str(membership_id))
            ):
                found.append(f"audit_event {row['id']} is about them ({row['entity']})")
            for column in texts:
                raw = row[column._meta.name]
                if raw is None:
                    continue
                text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
                found += [
                    f"{name}.{column._meta.name} holds {w!r}" for w in lowered if w in text.lower()
                ]
                if isinstance(column, JSON):
                    value = json.loads(raw) if isinstance(raw, str) else raw
                    for key, leaf in _walk(value):
                        kind = "person" if key.startswith(("person", "actor")) else "member"
                        if names_a_person(key) and leaf in ids[kind]:
                            found.append(f"{name}.{column._meta.name}[{key}] = {leaf}")
    return found


async def _ids(username: str) -> tuple[int, int]:
    row = (
        await Membership.select(Membership.id, Membership.person)
        .where(Membership.person.username == username)
        .first()
    )
    return row["person"], row["id"]


async def matched(people: Any, make_client: Any) -> dict[str, Any]:
    """Rowan (a newcomer sharing their hopes) matched with Willow (a mentor with a bio), each
    with free text written about them, notices, and audited reads, over HTTP."""
    program = people.a[Role.SUPERVISOR].program_id
    await new_newcomer(program, "rowan", hopes=HOPES, share_with_mentor=["pathways", "hopes"])
    await new_mentor(program, "willow", bio=BIO)
    rowan = await signed_in(make_client, "rowan")
    supervisor = await signed_in(make_client, people.a[Role.SUPERVISOR].username)
    willow = await signed_in(make_client, "willow")
    assert (await rowan.post("/api/v1/match-requests")).status_code == 201
    proposals = (await supervisor.get("/api/v1/proposals")).json()
    [proposal] = [p for p in proposals if p["newcomer_name"] == "Rowan"]
    choice = {"mentor_id": (await _ids("willow"))[1]}
    approved = await supervisor.post(f"/api/v1/proposals/{proposal['id']}/approve", json=choice)
    assert approved.status_code == 200, approved.text
    [offer] = (await willow.get("/api/v1/offers")).json()
    accepted = await willow.post(f"/api/v1/offers/{offer['id']}/accept")
    assert accepted.status_code == 200, accepted.text
    assert (await willow.get(f"/api/v1/matches/{accepted.json()['id']}")).status_code == 200
    # Words staff and mentors wrote about them (the pages would have stored these).
    await MatchProposal.update({MatchProposal.staff_note: STAFF_NOTE}).where(
        MatchProposal.id == proposal["id"]
    )
    await MentorOffer.update({MentorOffer.decline_reason: DECLINE}).where(
        MentorOffer.id == offer["id"]
    )
    return {
        "rowan": rowan,
        "willow": willow,
        "supervisor": supervisor,
        "match_id": accepted.json()["id"],
        "proposal_id": proposal["id"],
    }


async def test_the_download_has_a_part_for_every_table_naming_a_person(
    make_client, people, frozen
) -> None:
    journey = await matched(people, make_client)
    for who in ("rowan", "willow"):
        exported = (await journey[who].get("/api/v1/me/export")).json()
        assert set(EXPORTED.values()) - set(exported) == set(), who
    rowan = (await journey["rowan"].get("/api/v1/me/export")).json()
    assert rowan["intake"]["hopes"] == HOPES
    assert [m["status"] for m in rowan["matches"]] == ["active"]
    assert [p["id"] for p in rowan["match_proposals"]] == [journey["proposal_id"]]
    assert rowan["notices"], "Rowan was told their match started"
    assert STAFF_NOTE not in json.dumps(rowan), "staff notes are staff's own words"
    willow = (await journey["willow"].get("/api/v1/me/export")).json()
    assert willow["mentor_profile"]["bio"] == BIO
    assert [o["decline_reason"] for o in willow["match_offers"]] == [DECLINE]


async def test_a_newcomer_who_erases_their_account_leaves_no_trace_but_the_outcome(
    make_client, people, frozen
) -> None:
    journey = await matched(people, make_client)
    person_id, membership_id = await _ids("rowan")
    # Before: the scan finds them everywhere (account, intake, request, match, notices, outbox,
    # trail, sessions, sign-in counters, the words written about them).
    before = await traces(person_id, membership_id, ["rowan", HOPES, STAFF_NOTE, DECLINE])
    assert {t.split(" ")[0].split(".")[0] for t in before} >= {
        "person", "membership", "newcomer_profile", "match_request", "mentor_match", "notice",
        "outbox_event", "audit_event", "web_session", "rate_limit_counter", "match_proposal",
    }  # fmt: skip
    runs = await BatchRun.count()
    erased = await journey["rowan"].post("/api/v1/me/delete", json={"confirm": "delete my data"})
    assert erased.status_code == 204, erased.text

    assert await traces(person_id, membership_id, ["rowan", HOPES, STAFF_NOTE, DECLINE]) == []
    # The history stays, anonymous: the match with how it ended, its request's times, the
    # proposal's score and explanation; the figures (batch runs) are untouched.
    [match] = await MentorMatch.select().where(MentorMatch.id == journey["match_id"])
    assert match["status"] == "ended"
    assert match["end_reason"] == "completed"
    assert match["newcomer"] is None
    assert match["mentor"] is None
    [request] = await MentorRequest.select().where(MentorRequest.id == match["request"])
    assert request["newcomer"] is None
    assert request["matched_at"] is not None
    [proposal] = await MatchProposal.select().where(MatchProposal.id == journey["proposal_id"])
    assert proposal["score"] > 0
    assert proposal["staff_note"] == ""
    assert await BatchRun.count() == runs
    # The trail keeps what happened, by "a person who deleted their account".
    theirs = await AuditEvent.select(AuditEvent.action).where(
        AuditEvent.actor_id == DELETED_ACTOR
    ).output(as_list=True)  # fmt: skip
    assert {"match.requested", "person.deleted"} <= set(theirs)
    # Willow is told kindly and keeps their own account.
    assert (await journey["willow"].get("/api/v1/matches")).json() == []


async def test_a_mentor_who_erases_their_account_leaves_no_trace_either(
    make_client, people, frozen
) -> None:
    journey = await matched(people, make_client)
    person_id, membership_id = await _ids("willow")
    words = ["willow", BIO, DECLINE]
    erased = await journey["willow"].post("/api/v1/me/delete", json={"confirm": "delete my data"})
    assert erased.status_code == 204, erased.text
    assert await traces(person_id, membership_id, words) == []
    [match] = await MentorMatch.select().where(MentorMatch.id == journey["match_id"])
    assert match["status"] == "ended"
    assert match["mentor"] is None
    # Rowan's own link stays until they leave or the retention time passes.
    assert match["newcomer"] == (await _ids("rowan"))[1]


async def test_ended_matches_lose_who_was_in_them_after_the_retention_time(
    make_client, people, frozen
) -> None:
    journey = await matched(people, make_client)
    ended = await journey["rowan"].post(
        f"/api/v1/matches/{journey['match_id']}/end", json={"reason": "completed"}
    )
    assert ended.status_code == 200, ended.text
    program = people.a[Role.SUPERVISOR].program_id
    settings = await accounts.program_settings(program)
    assert settings.ended_match_retention_days == 730

    frozen.set(frozen.now() + timedelta(days=729))
    assert (await periodic_steps())["purged"] == 0
    [match] = await MentorMatch.select().where(MentorMatch.id == journey["match_id"])
    assert match["newcomer"] is not None

    frozen.set(frozen.now() + timedelta(days=2))
    assert (await periodic_steps())["purged"] == 1
    [match] = await MentorMatch.select().where(MentorMatch.id == journey["match_id"])
    assert (match["newcomer"], match["mentor"], match["end_reason"]) == (None, None, "completed")
    [request] = await MentorRequest.select().where(MentorRequest.id == match["request"])
    assert request["newcomer"] is None
    offers = await MentorOffer.select().where(MentorOffer.request == match["request"])
    assert {(o["mentor"], o["decline_reason"]) for o in offers} == {(None, "")}
    [proposal] = (
        await MatchProposal.select()
        .where(MatchProposal.id == journey["proposal_id"])
        .output(load_json=True)
    )
    assert proposal["mentor"] is None
    assert proposal["explanation"]["mentor_id"] is None
    assert (await periodic_steps())["purged"] == 0, "a purged match is not purged again"
    purges = await AuditEvent.select(AuditEvent.detail).where(
        AuditEvent.action == "match.retention_purged"
    ).output(load_json=True)  # fmt: skip
    assert [p["detail"] for p in purges] == [{"matches": 1}]


async def test_a_shorter_retention_time_is_set_on_the_settings_page(
    make_client, people, frozen
) -> None:
    supervisor = await signed_in(make_client, people.a[Role.SUPERVISOR].username)
    page = await supervisor.get("/staff/settings")
    assert 'name="ended_match_retention_days"' in page.text
    assert 'value="730"' in page.text
    form = {
        "min_mentor_recovery_days": "730",
        "new_mentor_months": "6",
        "caseload_new_mentor": "2",
        "caseload_experienced_mentor": "4",
        "offer_hours": "72",
        "batch_interval_minutes": "60",
        "auto_approve_min_score": "8",
        "crisis_resources": "",
    }
    refused = await supervisor.post(
        "/staff/settings", data={**form, "ended_match_retention_days": "3"}
    )
    assert refused.status_code == 400
    assert "30" in refused.text
    saved = await supervisor.post(
        "/staff/settings", data={**form, "ended_match_retention_days": "90"}
    )
    assert saved.status_code in (302, 303), saved.text
    program = people.a[Role.SUPERVISOR].program_id
    assert (await accounts.program_settings(program)).ended_match_retention_days == 90
