"""The time-based steps of concerns, run from one periodic loop in the app's lifespan and from
`litestar safety run`: overdue concerns escalate to every supervisor (exactly once, however
many processes run the loop), and closed concerns past the program's retention go."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tandem.core.periodic import SAFETY_LOOP, running_every
from tandem.safety import services

log = logging.getLogger("tandem.safety")


async def periodic_steps() -> dict[str, int]:
    return {
        "escalated": await services.escalate_overdue(),
        "purged": await services.purge_closed(),
    }


@asynccontextmanager
async def running_loop(seconds: float) -> AsyncIterator[None]:
    """Run the periodic safety steps every `seconds` for as long as the block lasts."""
    async with running_every(seconds, periodic_steps, log, name=SAFETY_LOOP):
        yield
