"""Who reported a mentor is for supervisors only. Over every route a mentor can call: each page
and JSON answer reads the same before and after a newcomer reports them (so nothing there can
say who did), no answer to a mentor's POST carries the reporter's name or words, the mentor gets
no notice, and no event or webhook body names the reporter."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from litestar import Litestar

from tandem.core.auth import Role
from tandem.notifications.tables import Notice, OutboxEvent
from tandem.training.tables import QuizAttempt
from tests.integration.test_safety import SECRET_WORDS, matched, report
from tests.support.routes import declared_roles, served_routes

pytestmark = pytest.mark.anyio

PARAMETER = re.compile(r"\{(\w+):\w+\}")
NOT_CALLED = {("POST", "/logout"), ("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/me/delete"),
              ("POST", "/privacy/delete")}  # fmt: skip


def mentor_routes(app: Litestar) -> list[tuple[str, str]]:
    return sorted(
        key
        for key, handler in served_routes(app).items()
        if Role.MENTOR in declared_roles(handler) and key not in NOT_CALLED
    )


def _url(path: str, records: dict[str, Any]) -> str:
    return PARAMETER.sub(lambda m: str(records.get(m.group(1), 1)), path)


OWN_READS = {"person.exported", "intake.read"}


def _normal(url: str, body: str) -> str:
    """The answer without what changes on its own: the export's record of the snapshot's own
    exports and of the mentor's reads of what their mentee shares (each GET is audited)."""
    if url == "/api/v1/me/export":
        data = json.loads(body)
        data["my_actions"] = [a for a in data["my_actions"] if a["action"] not in OWN_READS]
        return json.dumps(data, sort_keys=True)
    return body


async def _snapshot(mentor: Any, gets: list[str]) -> dict[str, str]:
    answers = {}
    for url in gets:
        for accept in ("application/json", "text/html"):
            response = await mentor.get(url, headers={"accept": accept})
            answers[f"{accept} {url}"] = f"{response.status_code} {_normal(url, response.text)}"
    return answers


@pytest.mark.parametrize("category", ["communication", "money"])
async def test_nothing_a_mentor_can_reach_reveals_who_reported_them(
    app: Litestar, make_client, people, frozen, category: str
) -> None:
    newcomer, supervisor, mentor, match_id = await matched(make_client, people)
    attempt = await QuizAttempt.select(QuizAttempt.id).where(
        QuizAttempt.membership == people.a[Role.MENTOR].membership_id
    ).first()  # fmt: skip
    records = {"match_id": match_id, "module_id": "mentor-role", "attempt_id": attempt["id"]}
    routes = mentor_routes(app)
    assert len(routes) >= 30, "the route scan found too little"
    gets = [_url(path, records) for method, path in routes if method == "GET"]
    before = await _snapshot(mentor, gets)

    filed = await report(newcomer, match_id, category, description=SECRET_WORDS)
    url = f"/api/v1/concerns/{filed['id']}"
    await supervisor.get(url)
    await supervisor.post(f"{url}/acknowledge")
    await supervisor.post(f"{url}/notes", json={"note": "Will talk with the mentor."})

    after = await _snapshot(mentor, gets)
    changed = [key for key in before if before[key] != after[key]]
    assert changed == [], f"these answers changed for the mentor: {changed}"
    # POSTs (called with empty bodies: refusals, or the mentor's own records) never carry
    # the concern's words or anything about its reporter.
    for method, path in routes:
        if method == "GET":
            continue
        response = await mentor.request(
            method, _url(path, records), headers={"accept": "application/json"}
        )
        assert SECRET_WORDS not in response.text, path
        assert "reporter" not in response.text, path
    mentor_id = people.a[Role.MENTOR].membership_id
    safety_notices = await Notice.select().where(
        (Notice.recipient == mentor_id) & Notice.event_type.like("safety.%")
    )
    assert safety_notices == []
    reporter_id = people.a[Role.NEWCOMER].membership_id
    for event in await OutboxEvent.select().where(OutboxEvent.event_type.like("safety.%")):
        body = json.loads(event["body"])
        assert reporter_id not in body["recipients"]
        assert mentor_id not in body["recipients"]
        # Concern events name the concern; check-in and self-care events their own record.
        assert body["subject"]["type"] in {"concern", "care_check_in", "care_conversation"}
        assert set(body) == {"id", "type", "program_id", "severity", "subject", "recipients",
                             "occurred_at", "link"}  # fmt: skip
        assert SECRET_WORDS not in event["body"]
