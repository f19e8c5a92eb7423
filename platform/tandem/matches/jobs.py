"""The time-based steps of the journey, run from the app's lifespan and from `litestar matches
...`: offers past their time lapse to the next mentor, batch matching proposes for everyone still
waiting in each program whose batch interval has passed, and programs whose mentors changed get
their waiting requests retried within seconds. Each step is safe to run in several processes at
once (row locks, and one batch run per program at a time)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from tandem.core.periodic import MATCH_RETRY_LOOP, MATCHES_LOOP, running_every
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


@asynccontextmanager
async def running_loop(seconds: float, retry_seconds: float = 0.0) -> AsyncIterator[None]:
    """For as long as the block lasts: the periodic steps every `seconds`, and the retry of
    changed programs every `retry_seconds` (each off at 0)."""
    async with AsyncExitStack() as loops:
        if seconds > 0:
            await loops.enter_async_context(
                running_every(seconds, periodic_steps, log, name=MATCHES_LOOP)
            )
        if retry_seconds > 0:
            await loops.enter_async_context(
                running_every(retry_seconds, retry_marked, log, name=MATCH_RETRY_LOOP)
            )
        yield
