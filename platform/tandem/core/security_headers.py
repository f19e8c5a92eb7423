"""Response headers that keep pages from being framed, sniffed, cached or leaking where people were.

- `Content-Security-Policy`: scripts, styles, images and forms only from this site, no inline
  script or style (the templates use none; `tests/integration/test_security.py` holds them to
  it), and `frame-ancestors 'none'` so a one-click form such as "Approve" cannot be clickjacked.
  The API explorer under `/schema` loads Swagger UI from its CDN and gets a policy that allows
  exactly that.
- `X-Frame-Options: DENY` for browsers that predate `frame-ancestors`; `nosniff`; a referrer
  policy that never sends a path (paths hold ids) to another site.
- `Cache-Control: no-store` on everything but static files: pages and API answers show health
  and recovery information, and a shared computer's cache must not keep it (the export too).
  A handler that sets its own `Cache-Control` keeps it: only the dashboard's histogram does,
  a picture of the counts its own address spells out.
- Pictures the app draws (`image/svg+xml` answers) get a policy of their own: no script or
  request at all, and their own inline styles, which is how a chart carries its colours.
- `Strict-Transport-Security` when cookies are secure, that is when the site is served over HTTPS.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
_SWAGGER_CDN = "https://cdn.jsdelivr.net"
SCHEMA_POLICY = (
    f"default-src 'self'; script-src 'self' 'unsafe-inline' {_SWAGGER_CDN}; "
    f"style-src 'self' 'unsafe-inline' {_SWAGGER_CDN}; img-src 'self' data: {_SWAGGER_CDN}; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
PICTURE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
HSTS = "max-age=31536000"


class SecurityHeadersMiddleware(ASGIMiddleware):
    scopes = ("http",)  # type: ignore[assignment]

    def __init__(self, *, secure_cookies: bool) -> None:
        self.secure_cookies = secure_cookies

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        path: str = scope["path"]
        static = path.startswith("/static/")
        policy = SCHEMA_POLICY if path.startswith("/schema") else PAGE_POLICY

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                picture = not static and headers.get("content-type", "").startswith("image/svg")
                headers["Content-Security-Policy"] = PICTURE_POLICY if picture else policy
                headers["X-Frame-Options"] = "DENY"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                if not static and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
                if self.secure_cookies:
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await next_app(scope, receive, send_with_headers)
