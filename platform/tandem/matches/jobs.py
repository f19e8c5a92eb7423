"""The time-based steps of the journey, run from one periodic loop in the app's lifespan and from
`litestar matches ...`: offers past their time lapse to the next mentor, and batch matching
proposes for everyone still waiting. Each step is safe to run in several processes at once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tandem.core.periodic import MATCHES_LOOP, running_every
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


@asynccontextmanager
async def running_loop(seconds: float) -> AsyncIterator[None]:
    """Run the periodic steps every `seconds` for as long as the block lasts."""
    async with running_every(seconds, periodic_steps, log, name=MATCHES_LOOP):
        yield
