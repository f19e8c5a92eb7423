"""The webhook contract: how a body is signed, how a receiver checks it, which URLs may be
targets, and how long to wait before trying again. Pure functions, so receivers and tests can
rely on exactly what the worker does.

A delivery is a POST of the event's JSON body with these headers:

- `Tandem-Event-Id`: the event's key; the same on every retry (use it to drop duplicates).
- `Idempotency-Key`: the same value, under the name many services already understand.
- `Tandem-Event-Type`: for example `mentor.approved`.
- `Tandem-Timestamp`: Unix seconds when this attempt was signed.
- `Tandem-Signature`: `v1=` + hex HMAC-SHA256 of `"{timestamp}.{body}"` under the endpoint secret.

Receivers should refuse a timestamp more than five minutes away from their clock (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import random
import secrets
import socket
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import anyio

if TYPE_CHECKING:
    from tandem.settings import Settings

SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_SECONDS = 300

Resolver = Callable[[str, int], list[str]]


class UnsafeURL(ValueError):
    """A webhook URL Tandem will not send to; the message says why, in plain words."""


def new_secret() -> str:
    """A fresh signing secret (256 bits), generated on the server and shown once."""
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


def signed_headers(
    secret: str, *, event_key: str, event_type: str, body: bytes, now: float | None = None
) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    return {
        "content-type": "application/json",
        "user-agent": "Tandem-Webhooks/1",
        "tandem-event-id": event_key,
        "idempotency-key": event_key,
        "tandem-event-type": event_type,
        "tandem-timestamp": str(timestamp),
        "tandem-signature": signature(secret, timestamp, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """What a receiver does: a valid signature over a recent timestamp. Constant-time compare."""
    lowered = {key.lower(): value for key, value in headers.items()}
    try:
        timestamp = int(lowered.get("tandem-timestamp", ""))
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        return False
    expected = signature(secret, timestamp, body)
    return hmac.compare_digest(expected, lowered.get("tandem-signature", ""))


def backoff_seconds(
    attempts: int, *, base: float, cap: float, rng: Callable[[], float] = random.random
) -> float:
    """Exponential backoff with jitter after `attempts` failed tries: base, 2x, 4x, ... capped,
    then a random point in the upper half so that workers retrying together spread out."""
    ceiling = min(cap, base * 2 ** max(attempts - 1, 0))
    return ceiling / 2 + rng() * ceiling / 2


def resolve(host: str, port: int) -> list[str]:
    """Every address the host name resolves to (all must be acceptable, not just the first)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(
    url: str,
    *,
    require_https: bool,
    allow_private: bool,
    resolver: Resolver = resolve,
) -> str:
    """Return the URL if Tandem may send to it, else raise `UnsafeURL`.

    https is required outside development and test. The host must resolve, and every address
    must be public unless private targets are allowed (`TANDEM_ALLOW_PRIVATE_WEBHOOKS`): this
    keeps a webhook from reaching the database, a cloud metadata service or an internal admin
    page. The worker checks again before each delivery, as DNS answers can change.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise UnsafeURL("Please give a full web address starting with https://.")
    if parts.scheme != "https" and require_https:
        raise UnsafeURL("Webhook addresses must use https://.")
    if parts.username or parts.password:
        raise UnsafeURL("Please leave user names and passwords out of the address.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeURL("The port in that address is not valid.") from None
    try:
        addresses = resolver(parts.hostname, port)
    except (OSError, UnicodeError):
        raise UnsafeURL("That host name could not be found.") from None
    if not addresses:
        raise UnsafeURL("That host name could not be found.")
    if not allow_private and not all(_is_public(address) for address in addresses):
        raise UnsafeURL(
            "That address points to this machine or a private network, which is not allowed."
        )
    return url.strip()


async def check_url_for(settings: Settings, url: str, *, resolver: Resolver = resolve) -> str:
    """`check_url` under the service's settings (https in production, private targets only when
    allowed), with the DNS lookup in a worker thread. Saving an endpoint and every delivery
    both call this, so the two can never apply different rules."""
    return await anyio.to_thread.run_sync(
        lambda: check_url(
            url,
            require_https=settings.environment == "production",
            allow_private=settings.allow_private_webhooks,
            resolver=resolver,
        ),
        abandon_on_cancel=True,  # a hung DNS lookup must not outlive the caller's timeout
    )
