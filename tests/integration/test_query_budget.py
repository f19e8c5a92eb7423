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
# unread count).
# Raise a budget only on purpose, in the commit that needs it, and say why there.
BUDGETS = [
    (None, "/healthz", 0),
    (None, "/login", 0),
    # Each home page also shows where the match journey stands (`matches.home_summary`).
    (Role.SUPERVISOR, "/staff/overview", 6),
    # The supervisor's home: each figure one aggregate query; mentor load and training expiry
    # also load the passes the training rules read (twice: the gate and the expiry), and the
    # safety slice's match gate its holds.
    (Role.SUPERVISOR, "/staff/dashboard", 20),
    (Role.MENTOR, "/home", 9),
    (Role.NEWCOMER, "/home", 3),
    # The mentor's track is cached per process behind the program's eligibility marker
    # (`training.services._track_of`): a repeated view reads the marker only (was 6: settings,
    # attempts, lessons read, reopenings and pauses).
    (Role.MENTOR, "/mentor/training", 2),
    (Role.MENTOR, "/api/v1/training/modules", 2),
    (Role.MENTOR, "/mentor/training/modules/mentor-role", 2),  # a lesson: the same cached track
    (Role.MENTOR, "/mentor/training/certificate", 2),
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
