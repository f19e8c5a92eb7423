"""Every event type the service emits has a sentence a person can read.

The emitted types are read from the source (each `emit(...)` call's event-type argument), so a
new event without a notice text in its slice's `events.py` fails here, before anyone sees the
generic fallback. The texts are the ones `create_app` registers.
"""

from __future__ import annotations

import ast
import importlib
from enum import StrEnum
from pathlib import Path

import pytest

import tandem
from tandem.app import NOTICE_TEXTS, create_app
from tandem.notifications.services import registered_notice_texts
from tandem.settings import Settings

PACKAGE = Path(tandem.__file__).parent


def event_enums() -> dict[str, type[StrEnum]]:
    """Each slice's event enum by class name (`AccountEvent`, ...), from its `events.py`."""
    enums: dict[str, type[StrEnum]] = {}
    for path in sorted(PACKAGE.glob("*/events.py")):
        module = importlib.import_module(f"tandem.{path.parent.name}.events")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, StrEnum) and value is not StrEnum:
                enums[value.__name__] = value
    return enums


def _event_types(node: ast.expr, enums: dict[str, type[StrEnum]]) -> list[str]:
    """The event types an argument can take: a member of a slice's enum, a literal, or a
    conditional between those. Anything else cannot be checked, so it is reported."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in enums
        and node.attr in enums[node.value.id].__members__
    ):
        return [enums[node.value.id][node.attr].value]
    if isinstance(node, ast.IfExp):
        return _event_types(node.body, enums) + _event_types(node.orelse, enums)
    raise ValueError(f"line {node.lineno}: cannot tell which event type {ast.unparse(node)} is")


def emitted_event_types(source: str, enums: dict[str, type[StrEnum]]) -> set[str]:
    """Event types passed to `emit(caller, program_id, event_type, ...)` in one module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else None
        name = node.func.id if isinstance(node.func, ast.Name) else name
        if name != "emit":
            continue
        argument = next((k.value for k in node.keywords if k.arg == "event_type"), None)
        if argument is None and len(node.args) >= 3:
            argument = node.args[2]
        if argument is None:
            raise ValueError(f"line {node.lineno}: emit() without an event type")
        found.update(_event_types(argument, enums))
    return found


def test_every_emitted_event_type_has_a_notice_text() -> None:
    create_app(Settings(environment="test"))
    texts = registered_notice_texts()
    enums = event_enums()
    emitted: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for event_type in emitted_event_types(path.read_text(), enums):
            emitted.setdefault(event_type, set()).add(str(path.relative_to(PACKAGE)))
    assert emitted, "no emit() calls found: the scan is broken"
    missing = {
        event_type: where for event_type, where in emitted.items() if event_type not in texts
    }
    assert missing == {}, "add a notice text to the slice's events.py"


def test_every_declared_event_has_a_text_and_is_registered() -> None:
    registered = {str(event_type) for texts in NOTICE_TEXTS for event_type in texts}
    for enum in event_enums().values():
        assert {member.value for member in enum} <= registered, f"{enum.__name__} lacks texts"


def test_the_scan_reads_enum_members_literals_and_conditionals() -> None:
    class DrillEvent(StrEnum):
        PING = "drill.ping"

    source = (
        "async def f(caller, paused):\n"
        "    await notifications.emit(caller, 1, DrillEvent.PING, subject=('x', 1))\n"
        "    await emit(caller, 1, 'drill.pong' if paused else 'drill.pang', subject=('x', 1))\n"
        "    await emit(caller, 1, event_type='drill.pung', subject=('x', 1))\n"
    )
    found = emitted_event_types(source, {"DrillEvent": DrillEvent})
    assert found == {"drill.ping", "drill.pong", "drill.pang", "drill.pung"}


def test_the_scan_refuses_an_event_type_it_cannot_read() -> None:
    source = "async def f(kind):\n    await emit(None, 1, kind, subject=('x', 1))\n"
    with pytest.raises(ValueError, match="cannot tell"):
        emitted_event_types(source, {})
