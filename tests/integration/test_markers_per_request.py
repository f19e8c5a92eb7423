"""Change markers read once per request (`core.changes.markers_per_request`): a page that asks
several cached answers reads each marker once, a redraw in the request reads afresh after it,
a transaction always reads the database, and nothing of a request outlives it."""

from __future__ import annotations

from typing import Any

import pytest

from tandem.core import changes
from tandem.core.auth import Role
from tandem.core.database import transaction
from tandem.core.tables import EligibilityMarker
from tests.integration.test_query_budget import recording

pytestmark = pytest.mark.anyio


async def another_process_redraws(program_id: int) -> None:
    """What a write in another process leaves behind: a new token, and no memo of it here."""
    await EligibilityMarker.update({EligibilityMarker.token: "drawn-elsewhere"}).where(
        EligibilityMarker.program_id == program_id
    )


async def in_a_request(steps: Any) -> Any:
    """Run `steps()` inside the middleware, as a handler runs; returns what it returned."""
    result: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        result["value"] = await steps()

    await changes.markers_per_request(app)({"type": "http"}, None, None)
    return result["value"]


async def test_a_request_reads_a_marker_once_and_forgets_it_at_its_end(people, monkeypatch) -> None:
    program = people.a[Role.MENTOR].program_id
    async with transaction():
        await changes.eligibility_changed(program)

    async def steps() -> tuple[str | None, str | None, int]:
        with recording(monkeypatch) as recorded:
            first = await changes.eligibility_marker(program)
            await another_process_redraws(program)
            second = await changes.eligibility_marker(program)
        reads = [sql for sql in recorded.statements if sql.lstrip().startswith("SELECT")]
        return first, second, len(reads)

    first, second, reads = await in_a_request(steps)
    assert first == second, "the whole request answers as of its first read"
    assert reads == 1
    assert await changes.eligibility_marker(program) == "drawn-elsewhere", "nothing outlives it"


async def test_a_redraw_in_the_request_reads_afresh_after_it(people) -> None:
    program = people.a[Role.MENTOR].program_id

    async def steps() -> tuple[str | None, str | None]:
        before = await changes.eligibility_marker(program)
        async with transaction():
            await changes.eligibility_changed(program)
        return before, await changes.eligibility_marker(program)

    before, after = await in_a_request(steps)
    assert after is not None
    assert before != after


async def test_inside_a_transaction_a_marker_is_always_read_from_the_database(people) -> None:
    program = people.a[Role.MENTOR].program_id
    async with transaction():
        await changes.eligibility_changed(program)

    async def steps() -> tuple[str | None, str | None]:
        outside = await changes.eligibility_marker(program)
        await another_process_redraws(program)
        async with transaction():
            inside = await changes.eligibility_marker(program)
        return outside, inside

    outside, inside = await in_a_request(steps)
    assert outside != inside
    assert inside == "drawn-elsewhere"


async def test_a_signed_in_request_reads_its_programs_markers_with_its_session(
    people, make_client, monkeypatch
) -> None:
    """The training page answers from the mentor's cached track: its marker comes with the
    session, so a repeated view is one query; a change elsewhere is seen at the next view."""
    mentor = await make_client()
    await mentor.login(people.a[Role.MENTOR].username)
    await mentor.get("/mentor/training")
    with recording(monkeypatch) as recorded:
        assert (await mentor.get("/mentor/training")).status_code == 200
    [session] = recorded.statements
    assert "eligibility_marker" in session
    assert "match_places_marker" in session

    await another_process_redraws(people.a[Role.MENTOR].program_id)
    with recording(monkeypatch) as recorded:
        assert (await mentor.get("/mentor/training")).status_code == 200
    assert len(recorded.statements) > 1, "the track was worked out again under the new token"
