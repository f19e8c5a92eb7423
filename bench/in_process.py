"""What the in-process benches share: a count of every query the database engine runs, and a
signed-in client over ASGI (no network), so their tables are comparable.

Used by `bench_dashboard.py` and `bench_match_pages.py`; import it after they set up
`DATABASE_URL` and `sys.path`.
"""

from __future__ import annotations

import httpx

QUERIES = {"count": 0}


def count_queries() -> None:
    """Count every query the engine runs (both databases go through `run_querystring`)."""
    from tandem.piccolo_conf import DB

    engine_type = type(DB)
    original = engine_type.run_querystring

    async def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        QUERIES["count"] += 1
        return await original(self, *args, **kwargs)

    engine_type.run_querystring = counted  # type: ignore[method-assign]


async def signed_in(app, username: str, password: str) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    """A client of `app` signed in as `username`, with the CSRF header its forms need."""
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    await client.get("/login")
    client.headers["x-csrftoken"] = client.cookies["csrftoken"]
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    response.raise_for_status()
    return client
