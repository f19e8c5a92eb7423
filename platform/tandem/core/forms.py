"""A page form's body, and turning validation errors into sentences a person can act on."""

from __future__ import annotations

import re
from typing import TypeVar

import msgspec
from litestar.params import URLEncodedBody

Value = TypeVar("Value")

# A submitted page form, field name to value. `Form[str]` where every field holds one value (a
# repeated field is then a 400, never a list where text was expected); `Form[Any]` where a
# field may repeat (checkboxes, multi-selects) and the page reads lists.
Form = URLEncodedBody[dict[str, Value]]

_FIELD_NAMES = {
    "username": "Username",
    "display_name": "First name or alias",
    "password": "Password",
    "program": "Program code",
}


def describe_validation_error(error: msgspec.ValidationError) -> str:
    """msgspec says "Expected `str` of length >= 10 - at `$.password`"; people need the field."""
    text = str(error)
    match = re.search(r"at `\$\.?([A-Za-z_]+)", text)
    rule = text.split(" - at ")[0]
    if match:
        field = match.group(1)
        return f"{_FIELD_NAMES.get(field, field.replace('_', ' ').capitalize())}: {rule}."
    return rule
