"""What page forms share: their body, reading their text as numbers, and their problems as
field errors a person can act on."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec
from litestar.params import URLEncodedBody

from tandem.core.errors import DomainError, FieldError, field_errors

Value = TypeVar("Value")

# A submitted page form, field name to value. `Form[str]` where every field holds one value (a
# repeated field is then a 400, never a list where text was expected); `Form[Any]` where a
# field may repeat (checkboxes, multi-selects) and the page reads lists.
Form = URLEncodedBody[dict[str, Value]]

_WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")


def field_text(form: dict[str, Any], key: str) -> str:
    """One field of a `Form[Any]` body as stripped text: "" when missing, the last value when the
    field came more than once (a checkbox list is read with `field_list`)."""
    value = form.get(key, "")
    return str(value[-1] if isinstance(value, list) else value).strip()


def field_list(form: dict[str, Any], key: str) -> list[str]:
    """A checkbox group of a `Form[Any]` body: every ticked value, none when the key is missing
    (browsers leave an unticked group out of the form)."""
    value = form.get(key, [])
    return [str(v) for v in (value if isinstance(value, list) else [value]) if v]


def whole_number(text: Any) -> int | None:
    """`"3"` -> 3. Only ASCII digits count: `"²"` and `"①"` pass `str.isdigit()` but `int()`
    refuses them, and a thousand digits would overflow the database, so both give None."""
    value = str(text).strip()
    return int(value) if _WHOLE_NUMBER.fullmatch(value) else None


def form_errors(error: msgspec.ValidationError | DomainError, shape: Any) -> list[FieldError]:
    """A refused form, field by field, for the page to show again with its answers kept.

    Each `FieldError` prints as its message, so a template may list them as plain text.
    """
    if isinstance(error, msgspec.ValidationError):
        return field_errors(error, shape)
    return [FieldError(error.field or "", error.message)]
