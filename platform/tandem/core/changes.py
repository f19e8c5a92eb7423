"""Telling the slices above that a program's mentors changed, without importing them.

`profiles` and `training` sit below `matches` and may not import it, yet a saved mentor profile,
a completed track or a pause changes who can be proposed to the people waiting. They call
`mentors_changed(program_id)` inside the transaction of the change; `create_app` registers the
listeners (the match journey writes a retry marker there, which its worker picks up moments
later), so the change itself pays for one small insert and never for a matching run.

Who may be matched is also cached per process (`training.services.eligible_mentor_ids`), which
must hear of changes made by any process. So every change that can alter a mentor's eligibility
(a quiz submitted, an approval or status change, a pause, the program's settings, an erased
account) calls `eligibility_changed` in its transaction, before anything in that transaction reads
eligibility again (first thing is simplest): that redraws the program's `EligibilityMarker`,
which a cached answer is checked against in one read, so the same transaction already misses
the cache and every other process misses it once the change commits.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from tandem.core.tables import EligibilityMarker

MentorsChanged = Callable[[int], Awaitable[None]]
_listeners: list[MentorsChanged] = []


def on_mentors_changed(listener: MentorsChanged) -> None:
    """Register a listener (once); `create_app` does this."""
    if listener not in _listeners:
        _listeners.append(listener)


async def eligibility_changed(*program_ids: int) -> None:
    """Redraw the programs' eligibility markers (inside the change's transaction, first)."""
    for program_id in program_ids:
        await EligibilityMarker.insert(
            EligibilityMarker(program_id=program_id, token=secrets.token_hex(16))
        ).on_conflict(
            target=EligibilityMarker.program_id, action="DO UPDATE",
            values=[EligibilityMarker.token],
        )  # fmt: skip


async def eligibility_marker(program_id: int) -> str | None:
    """The program's marker now; None until its first change, which draws one."""
    row = (
        await EligibilityMarker.select(EligibilityMarker.token)
        .where(EligibilityMarker.program_id == program_id)
        .first()
    )
    return None if row is None else str(row["token"])


async def mentors_changed(program_id: int) -> None:
    """Call inside the change's transaction: listeners write in it, so nothing is announced
    for a change that rolls back. A change of mentors may change eligibility too, so the
    marker is redrawn as well."""
    await eligibility_changed(program_id)
    for listener in _listeners:
        await listener(program_id)
