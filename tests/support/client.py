"""An HTTP client for the app that behaves like a browser session: cookies and CSRF tokens."""

from __future__ import annotations

from typing import Any

import httpx
from litestar import Litestar

from tests.support.people import PASSWORD

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class TandemClient:
    def __init__(self, app: Litestar, address: str = "127.0.0.1") -> None:
        """`address` is the client's socket address as the app sees it (rate limits count it)."""
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(address, 40000)),
            base_url="http://testserver",
            event_hooks={"request": [self._add_csrf]},
        )

    async def _add_csrf(self, request: httpx.Request) -> None:
        token = self.http.cookies.get("csrftoken")
        if request.method in UNSAFE and token and "x-csrftoken" not in request.headers:
            request.headers["x-csrftoken"] = token

    async def prime(self) -> None:
        """A first GET sets the CSRF cookie, as a browser's first page load would."""
        await self.http.get("/healthz")
        await self.http.get("/login")

    async def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        response = await self.http.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        return response

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return await self.http.request(method, url, **kwargs)

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.http.get(url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.http.post(url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.http.put(url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.http.delete(url, **kwargs)
