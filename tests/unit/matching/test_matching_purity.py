"""`matching/` stays a pure package: numeric and optimisation libraries and the standard library.

The architecture keeps web, database and service code out of the engine so it can be tested and
benchmarked on plain records; this reads every module's imports rather than trusting review.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import matching

ALLOWED = {"numpy", "numba", "scipy", "sklearn", "ortools", "matching", "__future__"}


def imported_packages(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(), filename=str(source))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_matching_imports_only_numeric_libraries_and_the_standard_library() -> None:
    package = Path(matching.__file__).parent
    modules = sorted(package.glob("*.py"))
    assert len(modules) > 5
    for module in modules:
        outside = imported_packages(module) - ALLOWED - set(sys.stdlib_module_names)
        assert outside == set(), f"{module.name} imports {sorted(outside)}"
