"""How many queries the main pages run, held under a budget each, and that reading writes nothing.

Every signed-in request loads its session and its caller (with the program and the unread
count) before the page runs its own queries. A budget is exactly what a page needs today;
a change that adds a query per row, or a second load of the caller, goes past it and fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from tandem.core.auth import Role
from tandem.piccolo_conf import DB

pytestmark = pytest.mark.anyio

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


@dataclass
class Recorded:
    statements: list[str] = field(default_factory=list)

    @property
    def writes(self) -> list[str]:
        return [sql for sql in self.statements if WRITE.match(sql)]


@contextmanager
def recording(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorded]:
    """Every statement the engine runs while the block is open (queries and DDL alike)."""
    recorded = Recorded()
    engine_class = type(DB)  # patched on the class: Piccolo's engines use __slots__
    run_querystring, run_ddl = engine_class.run_querystring, engine_class.run_ddl

    async def counted_query(self: Any, querystring: Any, *args: Any, **kwargs: Any) -> Any:
        recorded.statements.append(str(querystring))
        return await run_querystring(self, querystring, *args, **kwargs)

    async def counted_ddl(self: Any, ddl: str, *args: Any, **kwargs: Any) -> Any:
        recorded.statements.append(ddl)
        return await run_ddl(self, ddl, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(engine_class, "run_querystring", counted_query)
        patch.setattr(engine_class, "run_ddl", counted_ddl)
        yield recorded


# (who, page, most statements). `None` is a visitor who is not signed in. Signed in, each count
# includes the one query that loads the session together with the caller (their program and
# unread count) and their program's change markers (`core.changes.marker_columns`).
# Raise a budget only on purpose, in the commit that needs it, and say why there.
BUDGETS = [
    (None, "/healthz", 0),
    (None, "/login", 0),
    # Each home page also shows where the match journey stands (`matches.home_summary`).
    (Role.SUPERVISOR, "/staff/overview", 6),
    # The supervisor's home: each figure one aggregate query. Was 20: mentor load and training
    # expiry now come from the cached gate and places (the expiry with the gate's answer), and
    # the request reads each marker once (`changes.markers_per_request`). Was 8: the markers
    # now come with the session, and the paused mentors and the applications waiting with the
    # gate's cached answer; left are the open concerns, the waiting requests, the quiet matches.
    (Role.SUPERVISOR, "/staff/dashboard", 4),
    # A mentor's and a newcomer's home, here without a profile or a match: what a row costs
    # is held by `test_a_mentors_home_and_the_review_queue_cost_no_more_per_row` (nothing).
    # The mentor's: was 9; the training track now comes from its cache (one marker read), and
    # the profile is read once, for its pause, instead of twice; the marker comes with the session.
    (Role.MENTOR, "/home", 4),
    (Role.NEWCOMER, "/home", 3),
    # The review queue, empty here: the proposals, the waiting requests, the active matches
    # and the last batch run (mentors' places are read only for proposals on the page).
    (Role.SUPERVISOR, "/staff/matches", 5),
    # The mentor's track is cached per process behind the program's eligibility marker
    # (`training.services._track_of`): a repeated view reads the marker only (was 6: settings,
    # attempts, lessons read, reopenings and pauses; then 2, the session and the marker, which
    # now comes with the session): the session's query is all a repeated view runs.
    (Role.MENTOR, "/mentor/training", 1),
    (Role.MENTOR, "/api/v1/training/modules", 1),
    (Role.MENTOR, "/mentor/training/modules/mentor-role", 1),  # a lesson: the same cached track
    (Role.MENTOR, "/mentor/training/certificate", 1),
    (Role.NEWCOMER, "/notifications", 2),
]


@pytest.mark.parametrize(("role", "path", "budget"), BUDGETS)
async def test_main_pages_stay_within_their_query_budget(
    make_client, people, monkeypatch, role, path, budget
) -> None:
    client = await make_client()
    if role is not None:
        await client.login(people.a[role].username)
    await client.get(path)  # the first visit may set things up once (a session, a cookie)
    with recording(monkeypatch) as recorded:
        response = await client.get(path)
    assert response.status_code == 200, response.text
    assert len(recorded.statements) <= budget, "\n".join(recorded.statements)
    assert recorded.writes == [], "a read path wrote"


async def _statements(client: Any, path: str, monkeypatch: pytest.MonkeyPatch) -> int:
    await client.get(path)
    with recording(monkeypatch) as recorded:
        response = await client.get(path)
    assert response.status_code == 200, response.text
    assert recorded.writes == [], "a read path wrote"
    return len(recorded.statements)


async def test_a_mentors_home_and_the_review_queue_cost_no_more_per_row(
    make_client, people, frozen, monkeypatch
) -> None:
    """The pages that list rows (a mentor's mentees, the proposals waiting for review, the
    active matches) load them in bulk: a second row costs no query of its own."""
    from tandem.matches import services as matches
    from tests.support.journey import caller_of, new_newcomer, ready_mentor

    a = people.a
    mentor = await ready_mentor(a[Role.MENTOR].membership_id, capacity=2)
    staff = await caller_of(a[Role.SUPERVISOR].membership_id)
    mentor_client, staff_client = await make_client(), await make_client()
    await mentor_client.login(a[Role.MENTOR].username)
    await staff_client.login(a[Role.SUPERVISOR].username)
    queues, homes = [], []
    for index in range(2):
        await matches.request_mentor(await new_newcomer(mentor.program_id, f"newcomer-{index}"))
        queues.append(await _statements(staff_client, "/staff/matches", monkeypatch))
    for proposal in await matches.review_queue(staff):
        await matches.approve_proposal(staff, proposal.id)
        offer = (await matches.my_offers(mentor))[0]
        await matches.accept_offer(mentor, offer.id)
        homes.append(await _statements(mentor_client, "/home", monkeypatch))
        queues.append(await _statements(staff_client, "/staff/matches", monkeypatch))
    # Session and caller (with the markers), the proposals and their names (the places come
    # from the cache), the waiting requests, the active matches, the last batch run (was 8: the
    # two markers, each its own read). The same with one proposal left and one active
    # match; with two matches and no proposal: the session, the proposals (none), the waiting
    # requests, the active matches with both names (one query; was two), the last batch run.
    assert queues == [6, 6, 6, 5], queues
    # Session and caller (with the training track's marker), the pause, the mentor's own hold,
    # the mentees' names (with their matches, one query), the offers. Was 9: the matches, their
    # intakes, profiles and names, though the home shows only the names; then 6, the marker.
    assert homes == [5, 5], homes
