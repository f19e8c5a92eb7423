"""When each periodic loop last ran, so an admin (or an external monitor) can tell a stopped
loop from a quiet program. One row per loop name, upserted each round by whichever process ran
it; reads never write."""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct

from tandem.core.clock import clock
from tandem.core.tables import Heartbeat


class Beat(Struct, frozen=True):
    name: str
    at: datetime
    ok: bool
    rounds: int


async def beat(name: str, *, ok: bool) -> None:
    """Record one round of the loop `name` (`ok` is False when the round failed)."""
    # One statement, so two processes finishing a round at once both count.
    await Heartbeat.raw(
        "INSERT INTO heartbeat (name, at, ok, rounds) VALUES ({}, {}, {}, 1) "
        "ON CONFLICT (name) DO UPDATE SET at = excluded.at, ok = excluded.ok, "
        "rounds = heartbeat.rounds + 1",
        name,
        clock.now(),
        ok,
    )


async def last_beat(name: str) -> Beat | None:
    row = await Heartbeat.select().where(Heartbeat.name == name).first()
    if row is None:
        return None
    return Beat(name=row["name"], at=row["at"], ok=row["ok"], rounds=row["rounds"])
