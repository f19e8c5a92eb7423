"""What every slice's commands share: running one coroutine from a click command."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

import anyio


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a command's async work to completion on a fresh event loop."""
    return anyio.run(lambda: coroutine)
