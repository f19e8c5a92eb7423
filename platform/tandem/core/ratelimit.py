"""Rate limits for sign-in and sign-up, counted atomically in the database.

Why each choice (issue 10 item 3, issue 9 item A6):
- **One statement per count**: an upsert raises the counter of the current one-minute window and
  returns the new value, so forty concurrent requests cannot all see a free slot, whichever
  process or database serves them.
- **Per account and per address, separately**: one person's wrong passwords lock only their own
  account for the rest of the minute; people sharing a shelter's or a clinic's Wi-Fi can still
  sign in. The higher per-address limit stops one address from guessing many accounts.
- **Only requests that reach the password check count**: a request refused for a bad CSRF token
  or a malformed body never gets here, so a cross-site page cannot lock people out. A successful
  sign-in gives its count back, so only failures add up.
- **The address is the socket's** unless the peer is a configured trusted proxy
  (`TANDEM_TRUSTED_PROXIES`); only then is `X-Forwarded-For` read, from the right.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import TooManyRequestsException

from tandem.core.clock import clock
from tandem.core.tables import RateLimitCounter
from tandem.settings import ProxyNetwork

WINDOW_SECONDS = 60


class RateLimited(TooManyRequestsException):
    """429 with a `Retry-After` header and a sentence that says when to try again."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            detail=f"Too many attempts for now. Please try again in {_in_words(retry_after)}.",
            headers={"Retry-After": str(retry_after)},
        )


def _in_words(seconds: int) -> str:
    return "1 second" if seconds == 1 else f"{seconds} seconds"


@dataclass(frozen=True)
class Attempt:
    """One request about to check a password (or create one): the counters it counts against,
    each a (key, limit) pair. Build it with `sign_in_attempt` or `sign_up_attempt`."""

    counters: tuple[tuple[str, int], ...]

    async def count(self) -> None:
        """Count this attempt, counter by counter; raise `RateLimited` at the first that is over
        its limit. Later counters are not raised then: someone retrying their own locked account
        does not use up the budget of everyone else at their address."""
        window = int(clock.now().timestamp() // WINDOW_SECONDS)
        window_end = datetime.fromtimestamp((window + 1) * WINDOW_SECONDS, UTC)
        for key, limit in self.counters:
            if await _hit(f"{key}:{window}", window_end) > limit:
                raise RateLimited(max(1, math.ceil((window_end - clock.now()).total_seconds())))

    async def forgive(self) -> None:
        """A sign-in that succeeded gives its count back: only failures add up."""
        window = int(clock.now().timestamp() // WINDOW_SECONDS)
        keys = [f"{key}:{window}" for key, _ in self.counters]
        await RateLimitCounter.update({RateLimitCounter.hits: RateLimitCounter.hits - 1}).where(
            RateLimitCounter.key.is_in(keys) & (RateLimitCounter.hits > 0)
        )


async def _hit(key: str, expires_at: datetime) -> int:
    """Raise the counter by one and read it back, in one statement (atomic on both databases)."""
    rows = await RateLimitCounter.raw(
        "INSERT INTO rate_limit_counter (key, hits, expires_at) VALUES ({}, 1, {}) "
        "ON CONFLICT (key) DO UPDATE SET hits = rate_limit_counter.hits + 1 RETURNING hits",
        key,
        expires_at,
    )
    return int(rows[0]["hits"])


async def prune_expired() -> int:
    """Delete the counters of windows that are over (the periodic loop and the CLI call this)."""
    deleted = (
        await RateLimitCounter.delete()
        .where(RateLimitCounter.expires_at <= clock.now())
        .returning(RateLimitCounter.id)
    )
    return len(deleted)


def _is_trusted(address: str, proxies: tuple[ProxyNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The address a request came from: the socket's peer, unless that peer is a trusted proxy,
    in which case the right-most `X-Forwarded-For` hop that is not itself a trusted proxy."""
    proxies: tuple[ProxyNetwork, ...] = connection.app.state.settings.trusted_proxy_networks
    peer = connection.client.host if connection.client else "unknown"
    if not _is_trusted(peer, proxies):
        return peer
    hops = [
        hop.strip()
        for header in connection.headers.getall("x-forwarded-for", [])
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if not _is_trusted(hop, proxies):
            return hop[:64]
    return peer


def sign_in_attempt(connection: ASGIConnection[Any, Any, Any, Any], username: str) -> Attempt:
    settings = connection.app.state.settings
    account = username.strip().lower()[:64]
    return Attempt(
        (
            (f"login:account:{account}", settings.login_rate_limit_per_minute),
            (f"login:address:{client_address(connection)}", settings.address_rate_limit_per_minute),
        )
    )


def sign_up_attempt(connection: ASGIConnection[Any, Any, Any, Any]) -> Attempt:
    settings = connection.app.state.settings
    address = client_address(connection)
    return Attempt(((f"signup:address:{address}", settings.address_rate_limit_per_minute),))


async def forget_account(username: str) -> None:
    """Delete an account's sign-in counters (their keys hold the user name) when it is erased."""
    account = username.strip().lower()[:64]
    await RateLimitCounter.delete().where(RateLimitCounter.key.like(f"login:account:{account}:%"))
