"""The safety gate on new matches is wired by the composition root, never by importing the
slice: importing every safety module leaves the match slice's gates empty; building the app
registers exactly one."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import importlib, pkgutil
import tandem.safety
from tandem.matches import services as matches
for module in pkgutil.iter_modules(tandem.safety.__path__):
    importlib.import_module(f"tandem.safety.{module.name}")
before = list(matches._gates)
from tandem.app import create_app
from tandem.safety import services as safety
create_app()
create_app()
print(len(before), matches._gates.count(safety.mentors_held_back))
"""


def test_the_gate_is_registered_by_create_app_not_on_import() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == ["0", "1"]
