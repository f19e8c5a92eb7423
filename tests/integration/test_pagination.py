"""The pagination helper: bounds with plain 400s, and pages that say where the next one starts."""

from __future__ import annotations

import httpx
import msgspec
import pytest
from litestar import Litestar, get
from litestar.di import NamedDependency, Provide

from tandem.accounts.tables import Program
from tandem.core.clock import clock
from tandem.core.errors import Invalid, exception_handlers
from tandem.core.pagination import (
    MAX_LIMIT,
    Page,
    PageRequest,
    checked_page,
    page_request,
    paginate,
)

pytestmark = pytest.mark.anyio


class ProgramItem(msgspec.Struct):
    slug: str


@get("/programs", dependencies={"page": Provide(page_request)})
async def programs(page: NamedDependency[PageRequest]) -> Page[ProgramItem]:
    return await paginate(Program.select(Program.slug).order_by(Program.id), page, ProgramItem)


@pytest.fixture
async def api(app):
    for n in range(5):
        await Program.insert(
            Program(slug=f"p{n}", name=f"P{n}", settings="{}", created_at=clock.now())
        )
    listing = Litestar([programs], exception_handlers=exception_handlers())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=listing), base_url="http://testserver"
    ) as client:
        yield client


def test_bounds_are_checked_and_named() -> None:
    assert checked_page() == PageRequest(limit=25, offset=0)
    assert checked_page(MAX_LIMIT, 10) == PageRequest(limit=MAX_LIMIT, offset=10)
    for limit, offset, field in [(0, 0, "limit"), (MAX_LIMIT + 1, 0, "limit"), (10, -1, "offset")]:
        with pytest.raises(Invalid) as refused:
            checked_page(limit, offset)
        assert refused.value.field == field


async def test_pages_walk_the_list_and_end_with_no_next_offset(api) -> None:
    first = (await api.get("/programs", params={"limit": 2})).json()
    assert first == {
        "items": [{"slug": "p0"}, {"slug": "p1"}],
        "limit": 2,
        "offset": 0,
        "next_offset": 2,
    }
    last = (await api.get("/programs", params={"limit": 2, "offset": 4})).json()
    assert last["items"] == [{"slug": "p4"}]
    assert last["next_offset"] is None


async def test_an_out_of_range_limit_is_a_400_that_says_what_is_allowed(api) -> None:
    response = await api.get("/programs", params={"limit": 500})
    assert response.status_code == 400
    assert f"between 1 and {MAX_LIMIT}" in response.text
    assert "limit" in response.text
