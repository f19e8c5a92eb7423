"""Periodic work in the app's lifespan (batch matching, overdue concerns, retention purges):
one round every so many seconds, a failed round logged and the next one tried anyway. Each
round must be safe to run in several processes at once (a lease, a conditional update).

Each round leaves a heartbeat under the loop's name (`core.heartbeat`), so the admin's health
page can tell a stopped loop from a quiet program."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio

from tandem.core.heartbeat import beat

# The loops `create_app` runs, by the name their heartbeat is kept under.
MATCHES_LOOP = "matches"
MATCH_RETRY_LOOP = "match-retry"
SAFETY_LOOP = "safety"
HOUSEKEEPING_LOOP = "housekeeping"


async def _every(
    seconds: float, step: Callable[[], Awaitable[Any]], log: logging.Logger, name: str
) -> None:
    """A round under way when the app stops is finished first (shielded), so no query is cut
    off with its connection half-closed."""
    while True:
        await anyio.sleep(seconds)
        with anyio.CancelScope(shield=True):
            ok = True
            try:
                await step()
            except Exception:  # one failed round must not stop the next one
                ok = False
                log.exception("a periodic %s round failed; trying again next round", name)
            try:
                await beat(name, ok=ok)
            except Exception:  # a missed heartbeat shows as a late tick, not a stopped loop
                log.exception("could not record the %s loop's heartbeat", name)


@asynccontextmanager
async def running_every(
    seconds: float, step: Callable[[], Awaitable[Any]], log: logging.Logger, *, name: str
) -> AsyncIterator[None]:
    """Run `step` every `seconds` for as long as the block lasts, as the loop `name`."""
    async with anyio.create_task_group() as group:
        group.start_soon(_every, seconds, step, log, name)
        try:
            yield
        finally:
            group.cancel_scope.cancel()
