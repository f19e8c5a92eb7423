"""Rate limits for sign-in and sign-up, counted in the shared database store.

Guessing passwords or mass-creating accounts is slowed per client address; the limit is a
setting (`TANDEM_LOGIN_RATE_LIMIT`, attempts per minute)."""

from __future__ import annotations

from typing import Any

from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware
from litestar.types import Receive, Scope, Send


class _SignInRateLimit(RateLimitMiddleware):
    """Reads the per-minute limit from the app's settings at request time, not import time."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        settings: Any = scope["litestar_app"].state.settings
        self.max_requests = settings.login_rate_limit_per_minute
        await super().__call__(scope, receive, send)


sign_in_rate_limit = DefineMiddleware(
    _SignInRateLimit,
    config=RateLimitConfig(rate_limit=("minute", 10), store="rate_limit"),
)
