"""Refuse requests whose Host header names a host this deployment does not serve.

Litestar's own allowed-hosts check compares the header including its port, so `127.0.0.1`
would refuse `127.0.0.1:8000`; this one compares the host name only.
"""

from __future__ import annotations

from litestar.datastructures import Headers
from litestar.middleware import ASGIMiddleware
from litestar.response.base import ASGIResponse
from litestar.status_codes import HTTP_400_BAD_REQUEST
from litestar.types import ASGIApp, Receive, Scope, Send


def host_name(host_header: str) -> str:
    """`example.org:8000` -> `example.org`; `[::1]:8000` -> `::1`."""
    if host_header.startswith("["):
        return host_header[1:].split("]")[0]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


class AllowedHostsMiddleware(ASGIMiddleware):
    scopes = ("http", "websocket")  # type: ignore[assignment]

    def __init__(self, allowed_hosts: tuple[str, ...]) -> None:
        self.allow_all = "*" in allowed_hosts
        self.exact = {h.lower() for h in allowed_hosts if not h.startswith("*.")}
        self.suffixes = tuple(h[1:].lower() for h in allowed_hosts if h.startswith("*."))

    def allowed(self, host_header: str | None) -> bool:
        if self.allow_all:
            return True
        name = host_name(host_header or "").lower()
        return name in self.exact or (bool(self.suffixes) and name.endswith(self.suffixes))

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if not self.allowed(Headers.from_scope(scope).get("host")):
            response = ASGIResponse(
                body=b'{"status_code":400,"detail":"This host name is not served here."}',
                status_code=HTTP_400_BAD_REQUEST,
                media_type="application/json",
            )
            await response(scope, receive, send)
            return
        await next_app(scope, receive, send)
