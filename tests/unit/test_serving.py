"""The server's event loop: asyncio's own, never uvloop, as `litestar run` starts it.

uvloop defers a response's bytes to the loop's next turn, behind every request already waiting
(uvloop issues 123 and 631). On SQLite a page's reads never yield, so under load some people
waited over a second while the median was 85 ms; on asyncio's loop p99 stayed within 1.7 times
the median (README, "Performance"). uvicorn's "auto" loop takes uvloop whenever it can import
it, so this holds only while nothing installs it: `litestar[standard]` or `uvicorn[standard]`
in pyproject.toml would, and this test would then fail.
"""

from __future__ import annotations

import asyncio

import uvicorn


def test_the_server_runs_on_asyncios_own_event_loop() -> None:
    # The arguments `litestar run` passes (loop left at uvicorn's default, "auto").
    config = uvicorn.Config(app="tandem.app:create_app", factory=True)
    factory = config.get_loop_factory()
    assert factory is not None
    loop = factory()
    try:
        assert type(loop).__module__.startswith("asyncio"), (
            f"uvicorn would serve on {type(loop).__module__}.{type(loop).__name__}; "
            "uvloop came back (a `[standard]` extra in pyproject.toml?)"
        )
        assert isinstance(loop, asyncio.AbstractEventLoop)
    finally:
        loop.close()
