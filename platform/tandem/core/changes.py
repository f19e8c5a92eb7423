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
a `Marker` over a table of the same two columns, used the same way. The training slice also
redraws the eligibility marker for writes that change what a mentor's own track shows (a quiz
started, a lesson marked as read, a supervisor's reopening): it caches each mentor's track too.

Within one request, outside a transaction, each marker is read once (`markers_per_request`):
a page that consults several cached answers (the dashboard reads the gate, the places and the
track) asks the database once, and every part of the page then agrees on one moment. A redraw
in the request forgets what it read, so a request that changes something reads afresh after.
A signed-in request reads its program's markers with its session, in the same query
(`marker_columns`, `remember_markers`): reading a marker earlier than its answer is always
safe, since an answer worked out after a change is only ever filed under an older token.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from piccolo.columns import Column
from piccolo.querystring import QueryString
from piccolo.table import Table

from tandem.core.database import Prepared, engine
from tandem.core.tables import EligibilityMarker

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send

MentorsChanged = Callable[[int], Awaitable[None]]
# The markers this request has read so far, by (table, program); None outside a request.
_read_in_request: ContextVar[dict[tuple[str, int], str | None] | None] = ContextVar(
    "tandem_markers_read_in_request", default=None
)
_listeners: list[MentorsChanged] = []
# Every marker made so far, each slice's own included (they are made when their module loads).
_markers: list[Marker] = []


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
        self._key = table._meta.tablename
        self.alias = f"marker_{self._key}"
        self._read = Prepared(
            lambda program_id: (
                self._table.select(self._table.token)
                .where(self._table.program_id == program_id)
                .first()
            ),
            parameters=1,
        )
        _markers.append(self)

    async def redraw(self, *program_ids: int) -> None:
        """Draw new tokens for the programs (inside the change's transaction)."""
        read = _read_in_request.get()
        if read is not None:
            read.clear()
        table = self._table
        for program_id in program_ids:
            await table.insert(
                table(program_id=program_id, token=secrets.token_hex(16))
            ).on_conflict(target=table.program_id, action="DO UPDATE", values=[table.token])

    async def read(self, program_id: int) -> str | None:
        """The program's token now; None until its first change, which draws one. Once per
        request outside a transaction (see the module text); always afresh inside one."""
        read = _read_in_request.get()
        if read is not None and engine().current_transaction.get() is not None:
            read = None
        key = (self._key, program_id)
        if read is not None and key in read:
            return read[key]
        row = await self._read.run(program_id)
        token = None if row is None else str(row["token"])
        if read is not None:
            read[key] = token
        return token


def marker_columns(program: Column) -> list[QueryString]:
    """Select columns: the token of every marker for `program` (a column holding a program id),
    each under its marker's `alias`. The session's query selects them for the caller's program,
    and hands its row to `remember_markers`."""
    column = program._meta.get_full_name(with_alias=False)
    return [
        QueryString(
            # Only names from the schema go into the text; no value does.
            f"(SELECT marker.token FROM {m._table._meta.get_formatted_tablename()} AS marker"  # noqa: S608
            f" WHERE marker.program_id = {column})"
        ).as_alias(m.alias)
        for m in _markers
    ]


def remember_markers(program_id: int, row: Mapping[str, Any]) -> None:
    """Take the program's markers as read now (a row with `marker_columns`), for the rest of
    this request; outside a request, or for a marker the row lacks, nothing is taken."""
    read = _read_in_request.get()
    if read is None:
        return
    for marker in _markers:
        if marker.alias in row:
            token = row[marker.alias]
            read.setdefault((marker._key, program_id), None if token is None else str(token))


def markers_per_request(app: ASGIApp) -> ASGIApp:
    """Middleware: each request keeps what it read of the markers, and forgets it at its end
    (a test client runs requests in the test's own task, which must not inherit them)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        token = _read_in_request.set({})
        try:
            await app(scope, receive, send)
        finally:
            _read_in_request.reset(token)

    return middleware


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
