"""Turning validation errors into sentences a person can act on."""

from __future__ import annotations

import re

import msgspec

_FIELD_NAMES = {
    "username": "Username",
    "display_name": "First name or alias",
    "password": "Password",
    "program": "Program code",
}


def field_of(error: msgspec.ValidationError) -> str | None:
    """The top-level field an error is about, so a form can show it next to that field."""
    text = str(error)
    match = re.search(r"at `\$\.([A-Za-z_]+)", text) or re.search(
        r"missing required field `([A-Za-z_]+)`", text
    )
    return match.group(1) if match else None


def describe_validation_error(error: msgspec.ValidationError) -> str:
    """msgspec says "Expected `str` of length >= 10 - at `$.password`"; people need the field."""
    rule = str(error).split(" - at ")[0]
    field = field_of(error)
    if field:
        return f"{_FIELD_NAMES.get(field, field.replace('_', ' ').capitalize())}: {rule}."
    return rule
