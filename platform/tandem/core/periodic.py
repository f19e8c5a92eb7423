"""Periodic work in the app's lifespan (batch matching, overdue concerns, retention purges):
one round every so many seconds, a failed round logged and the next one tried anyway. Each
round must be safe to run in several processes at once (a lease, a conditional update)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio


async def _every(seconds: float, step: Callable[[], Awaitable[Any]], log: logging.Logger) -> None:
    while True:
        await anyio.sleep(seconds)
        try:
            await step()
        except Exception:  # one failed round must not stop the next one
            log.exception("a periodic round failed; trying again next round")


@asynccontextmanager
async def running_every(
    seconds: float, step: Callable[[], Awaitable[Any]], log: logging.Logger
) -> AsyncIterator[None]:
    """Run `step` every `seconds` for as long as the block lasts."""
    async with anyio.create_task_group() as group:
        group.start_soon(_every, seconds, step, log)
        try:
            yield
        finally:
            group.cancel_scope.cancel()
