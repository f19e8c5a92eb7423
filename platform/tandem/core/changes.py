"""Telling the slices above that a program's mentors changed, without importing them.

`profiles` and `training` sit below `matches` and may not import it, yet a saved mentor profile,
a completed track or a pause changes who can be proposed to the people waiting. They call
`mentors_changed(program_id)` inside the transaction of the change; `create_app` registers the
listeners (the match journey writes a retry marker there, which its worker picks up moments
later), so the change itself pays for one small insert and never for a matching run.

Who may be matched is also cached per process (`training.services.eligible_mentor_ids`), which
must hear of changes made by any process. So every change that can alter a mentor's eligibility
(a quiz submitted, an approval or status change, a pause, a profile, the program's settings, an
erased account) calls `eligibility_changed` in its transaction, before anything in that
transaction reads eligibility again (first thing is simplest): that redraws the program's
`EligibilityMarker`, which a cached answer is checked against in one read, so the same
transaction already misses the cache and every other process misses it once the change commits.

A slice may keep a marker of its own for changes the eligibility marker need not hear of (the
match journey's places: offers and matches come and go far more often than training passes,
and each redraw of the eligibility marker costs the next reader the whole training gate). It is
a `Marker` over a table of the same two columns, used the same way.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from piccolo.table import Table

from tandem.core.database import Prepared
from tandem.core.tables import EligibilityMarker

MentorsChanged = Callable[[int], Awaitable[None]]
_listeners: list[MentorsChanged] = []


def on_mentors_changed(listener: MentorsChanged) -> None:
    """Register a listener (once); `create_app` does this."""
    if listener not in _listeners:
        _listeners.append(listener)


class Marker:
    """A per-program change marker: a table with a unique `program_id` and a random `token`.

    `redraw` draws a new token inside the change's transaction; a process that cached an answer
    with the token it read first knows from one small read (`read`, built and compiled once)
    whether the answer still holds. Random rather than counted: a rolled-back change's token is
    never seen again, where a counter would hand out the same number to the next change.
    """

    def __init__(self, table: type[Table]) -> None:
        self._table: Any = table
        self._read = Prepared(
            lambda program_id: (
                self._table.select(self._table.token)
                .where(self._table.program_id == program_id)
                .first()
            ),
            parameters=1,
        )

    async def redraw(self, *program_ids: int) -> None:
        """Draw new tokens for the programs (inside the change's transaction)."""
        table = self._table
        for program_id in program_ids:
            await table.insert(
                table(program_id=program_id, token=secrets.token_hex(16))
            ).on_conflict(target=table.program_id, action="DO UPDATE", values=[table.token])

    async def read(self, program_id: int) -> str | None:
        """The program's token now; None until its first change, which draws one."""
        row = await self._read.run(program_id)
        return None if row is None else str(row["token"])


ELIGIBILITY = Marker(EligibilityMarker)


async def eligibility_changed(*program_ids: int) -> None:
    """Redraw the programs' eligibility markers (inside the change's transaction, first)."""
    await ELIGIBILITY.redraw(*program_ids)


async def eligibility_marker(program_id: int) -> str | None:
    """The program's eligibility marker now; None until its first change, which draws one."""
    return await ELIGIBILITY.read(program_id)


async def mentors_changed(program_id: int) -> None:
    """Call inside the change's transaction: listeners write in it, so nothing is announced
    for a change that rolls back. A change of mentors may change eligibility too, so the
    marker is redrawn as well."""
    await eligibility_changed(program_id)
    for listener in _listeners:
        await listener(program_id)
