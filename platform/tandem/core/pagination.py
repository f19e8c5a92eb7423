"""Lists in pages: bounded `limit`/`offset` from the query string, and one helper that runs a
query for a page and says whether there is a next one.

A list endpoint takes `page: NamedDependency[PageRequest]` from the `page_request` dependency
(`dependencies={"page": Provide(page_request)}`), orders its query by something unique (ties
would let rows move between pages), and returns `await paginate(query, page, ItemStruct)`.
Out-of-range values get a 400 that says which parameter and what is allowed, never a slow scan:
the offset is capped, so nobody pages a million rows deep.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec
from litestar.params import FromQuery
from piccolo.query.methods.select import Select

from tandem.core.errors import Invalid

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_OFFSET = 10_000

T = TypeVar("T")


class PageRequest(msgspec.Struct, frozen=True):
    """Which slice of a list the caller asked for (already checked against the bounds)."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0


class Page(msgspec.Struct, Generic[T], frozen=True):
    """One page of a list. `next_offset` is where the next page starts, or None on the last."""

    items: list[T]
    limit: int
    offset: int
    next_offset: int | None


def checked_page(limit: int | None = None, offset: int | None = None) -> PageRequest:
    """A `PageRequest` within bounds, or `Invalid` naming the parameter in plain words."""
    limit = DEFAULT_LIMIT if limit is None else limit
    offset = 0 if offset is None else offset
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"Ask for between 1 and {MAX_LIMIT} items per page.", field="limit")
    if not 0 <= offset <= MAX_OFFSET:
        raise Invalid(
            f"The offset must be between 0 and {MAX_OFFSET}; narrow the list with its filters "
            "to reach older items.",
            field="offset",
        )
    return PageRequest(limit=limit, offset=offset)


async def page_request(
    limit: FromQuery[int | None] = None, offset: FromQuery[int | None] = None
) -> PageRequest:
    """Litestar dependency: `?limit=&offset=` from the query string, checked."""
    return checked_page(limit, offset)


async def paginate(query: Select[Any], page: PageRequest, item_type: type[T]) -> Page[T]:
    """Run `query` for one page. One row more than asked for tells whether a next page exists,
    so no separate COUNT query is needed."""
    rows: list[dict[str, Any]] = await query.limit(page.limit + 1).offset(page.offset)
    more = len(rows) > page.limit
    return Page(
        items=msgspec.convert(rows[: page.limit], list[item_type]),  # type: ignore[valid-type]
        limit=page.limit,
        offset=page.offset,
        next_offset=page.offset + page.limit if more else None,
    )
