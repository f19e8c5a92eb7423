"""Constraints every slice's edge shares: record ids in paths, and text a database can store.

Each carries its own plain-worded rule (`pattern_message`), which `core.errors.field_errors`
reads when a value breaks it, so the API and the pages say the same thing.
"""

from __future__ import annotations

from typing import Annotated, TypeAlias

from litestar.params import PathParameter
from msgspec import Meta

from tandem.core.errors import MAX_ID, NUL_MESSAGE

# An id in a path: a positive number that fits the databases' id columns. Larger numbers
# would overflow the database driver, so they are refused here, with a 400 naming the field.
PathId: TypeAlias = Annotated[
    int,
    PathParameter(ge=1, le=MAX_ID, description=f"A record id: a whole number from 1 to {MAX_ID}."),
]

# Free text (hopes, a bio, a note): anything but NUL, which PostgreSQL cannot store in text.
NoNul = Meta(
    pattern=r"^[^\x00]*$",
    extra={"pattern_message": NUL_MESSAGE},
)
FreeText: TypeAlias = Annotated[str, NoNul]

# What other people see as a name: no control characters, and none of the invisible characters
# that hide text or turn it around (zero-width spaces and joiners, right-to-left overrides,
# direction isolates, byte-order marks), which would let one person pass as another.
NameText = Meta(
    pattern=r"^[^\x00-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]*$",
    extra={
        "pattern_message": (
            "A name can use letters, numbers, spaces and punctuation, but no invisible or "
            "direction-changing characters."
        )
    },
)
