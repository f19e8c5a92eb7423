"""The time-based steps of the journey, run from the app's lifespan and from `litestar matches
...`: offers past their time lapse to the next mentor, batch matching proposes for everyone still
waiting in each program whose batch interval has passed, and programs whose mentors changed get
their waiting requests retried within seconds. Each step is safe to run in several processes at
once (row locks, and one batch run per program at a time)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio

from tandem.core.heartbeat import beat
from tandem.core.periodic import MATCH_RETRY_LOOP, MATCHES_LOOP
from tandem.matches import services

log = logging.getLogger("tandem.matches")


async def periodic_steps() -> dict[str, int]:
    """One round: lapse overdue offers, then a batch run per program that is due, then the
    retention purge of ended matches past their program's limit."""
    lapsed = await services.lapse_offers()
    proposed = 0
    for program_id in await services.programs_due_for_batch():
        run = await services.run_batch(program_id)
        proposed += run.proposed if run is not None else 0
    purged = await services.purge_ended_matches()
    return {"lapsed": lapsed, "proposed": proposed, "purged": purged}


async def retry_marked() -> int:
    """Retry the waiting requests of every program whose mentors changed since the last round
    (a batch run over its queue); returns how many proposals that made. A program whose run is
    under way elsewhere keeps its markers for the next round."""
    proposed = 0
    waiting = set(await services.programs_with_waiting())
    for program_id, newest in (await services.marked_programs()).items():
        if program_id in waiting:
            run = await services.run_batch(program_id)
            if run is None:
                continue
            proposed += run.proposed
        await services.clear_markers(program_id, newest)
    return proposed


async def _every(seconds: float, step: Callable[[], Awaitable[object]], name: str) -> None:
    """Run `step` every `seconds`. A round under way when the app stops is finished first
    (shielded), so no query is cut off with its connection half-closed. Each round leaves the
    loop's heartbeat (`core.heartbeat`) for the admin's health page."""
    while True:
        await anyio.sleep(seconds)
        with anyio.CancelScope(shield=True):
            ok = True
            try:
                await step()
            except Exception:  # one failed round must not stop the next one
                ok = False
                log.exception("a periodic match step failed; trying again next round")
            try:
                await beat(name, ok=ok)
            except Exception:  # a missed heartbeat shows as a late tick, not a stopped loop
                log.exception("could not record the %s loop's heartbeat", name)


@asynccontextmanager
async def running_loop(seconds: float, retry_seconds: float = 0.0) -> AsyncIterator[None]:
    """For as long as the block lasts: the periodic steps every `seconds`, and the retry of
    changed programs every `retry_seconds` (each off at 0)."""
    async with anyio.create_task_group() as group:
        if seconds > 0:
            group.start_soon(_every, seconds, periodic_steps, MATCHES_LOOP)
        if retry_seconds > 0:
            group.start_soon(_every, retry_seconds, retry_marked, MATCH_RETRY_LOOP)
        try:
            yield
        finally:
            group.cancel_scope.cancel()
