"""Password hashing with Argon2id, off the event loop and a few at a time.

Each hash or check takes about 64 MiB and a core for a moment, so at most one per core runs at
once (a capacity limiter sized to the machine): a burst of sign-ins queues instead of taking the
process's memory with it. Waiting requests hold no memory and no worker thread.
"""

from __future__ import annotations

import os
from functools import cache

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def _cores() -> int:
    """The cores this process may run on (fewer than the machine's under a CPU affinity mask)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


HASHING_CONCURRENCY = _cores()
_limiter = anyio.CapacityLimiter(HASHING_CONCURRENCY)


@cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so a missing account costs the same time as
    a wrong password. Computed on first use, not at import (it costs a full hash)."""
    return _hasher.hash("tandem-dummy-password")


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password, limiter=_limiter)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-time check (argon2 compares digests safely); False for any malformed hash."""

    def _verify() -> bool:
        try:
            return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(_verify, limiter=_limiter)
