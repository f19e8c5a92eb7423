"""The time-based steps of the journey, run from one periodic loop in the app's lifespan and from
`litestar matches ...`: offers past their time lapse to the next mentor, and batch matching
proposes for everyone still waiting. Each step is safe to run in several processes at once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

from tandem.core.heartbeat import PERIODIC_LOOP, beat
from tandem.matches import services

log = logging.getLogger("tandem.matches")


async def periodic_steps() -> dict[str, int]:
    """One round: lapse overdue offers, then a batch run per program with anyone waiting."""
    lapsed = await services.lapse_offers()
    proposed = 0
    for program_id in await services.programs_with_waiting():
        run = await services.run_batch(program_id)
        proposed += run.proposed if run is not None else 0
    return {"lapsed": lapsed, "proposed": proposed}


async def _every(seconds: float) -> None:
    while True:
        await anyio.sleep(seconds)
        ok = True
        try:
            await periodic_steps()
        except Exception:  # one failed round must not stop the next one
            ok = False
            log.exception("the periodic match steps failed; trying again next round")
        try:
            await beat(PERIODIC_LOOP, ok=ok)
        except Exception:  # a missed heartbeat shows as a stale tick, not a stopped loop
            log.exception("could not record the periodic loop's heartbeat")


@asynccontextmanager
async def running_loop(seconds: float) -> AsyncIterator[None]:
    """Run the periodic steps every `seconds` for as long as the block lasts."""
    async with anyio.create_task_group() as group:
        group.start_soon(_every, seconds)
        try:
            yield
        finally:
            group.cancel_scope.cancel()
