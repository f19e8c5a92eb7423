"""The house rules of `platform/tandem`, read from every module's imports (beside the engine's
purity test in `tests/unit/matching/`).

- `core` imports no slice.
- A slice (or any other module) uses another slice only through its `services` and `schemas`;
  the one exception is a `tables.py` importing `accounts.tables` for its foreign keys.
- The slices stack one way: core <- accounts <- profiles <- training <- matches <- safety <-
  oversight; `notifications` sits just above `core`, so any slice may call it and it calls none;
  nothing imports oversight (or the other views at the top); matches never imports safety.
- Every slice with tables is a Piccolo app in `APP_REGISTRY`.
- Only the composition root (`app.py`, `cli.py`, `piccolo_conf.py`, and `demo.py`, which builds
  a whole program from every slice) wires slices freely; even there, `accounts.tables` is only
  for foreign keys.

`violations()` is checked against the real tree and against a small fake one that breaks
each rule, so the checker itself is known to catch what it claims to.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import tandem
from tandem.piccolo_conf import APP_REGISTRY

PACKAGE = Path(tandem.__file__).parent

# Each slice's place in the stack: a slice may import only slices with a smaller number.
# `home` and `privacy` are views over several slices, like `oversight`: nothing imports them.
RANK = {
    "core": 0,
    "notifications": 1,
    "accounts": 2,
    "profiles": 3,
    "training": 4,
    "matches": 5,
    "safety": 6,
    "oversight": 7,
    "home": 7,
    "privacy": 7,
}
# What another slice may import from a slice (the `tables.py` exception is separate).
PUBLIC_MODULES = {"services", "schemas"}
# Modules outside any slice that import slices freely: they compose the app.
COMPOSITION_ROOT = {"app", "cli", "piccolo_conf", "demo"}
# Modules outside any slice that every slice may import.
SHARED = {"settings"}


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(root: Path, path: Path) -> Iterable[tuple[int, str]]:
    """Every `tandem...` module a file imports (at any depth, lazy imports included), with the
    line. `from tandem.x import y` counts as importing `tandem.x.y` when that is a module."""
    package = module_name(root, path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                as_path = root.parent.joinpath(*candidate.split("."))
                if as_path.with_suffix(".py").exists() or as_path.is_dir():
                    yield node.lineno, candidate
                else:
                    yield node.lineno, base


def violations(root: Path, registered_apps: Iterable[str]) -> list[str]:
    """Every broken house rule under `root` (a `tandem` package), one sentence each."""
    top = root.name
    found: list[str] = []  # in file order; one `from x import a, b` may break a rule once
    slices = {p.name for p in root.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    for path in sorted(root.rglob("*.py")):
        if "piccolo_migrations" in path.parts:
            continue
        name = module_name(root, path)
        parts = name.split(".")
        own = parts[1] if len(parts) > 1 and parts[1] in slices else None
        where = f"{path.relative_to(root)}"
        composition = own is None and (len(parts) == 1 or parts[1] in COMPOSITION_ROOT)
        for line, target in imports_of(root, path):
            target_parts = target.split(".")
            if target_parts[0] != top or len(target_parts) < 2:
                continue
            other = target_parts[1]
            if other == own:
                continue
            foreign_key = path.name.endswith("tables.py") and target == f"{top}.accounts.tables"
            if target == f"{top}.accounts.tables" and not foreign_key:
                found.append(f"{where}:{line} imports accounts.tables: only tables.py may")
                continue
            if composition:
                continue
            if other in SHARED:
                continue
            if other not in slices:
                found.append(f"{where}:{line} imports the composition root {target}")
                continue
            module = target_parts[2] if len(target_parts) > 2 else None
            if own == "core":
                found.append(f"{where}:{line}: core imports the slice {target}")
                continue
            if other != "core" and not foreign_key:
                if module not in PUBLIC_MODULES:
                    found.append(
                        f"{where}:{line} imports {target}: use {other}.services or .schemas"
                    )
                if own is not None and RANK.get(other, 99) >= RANK.get(own, 99):
                    found.append(f"{where}:{line}: {own} may not import {other} (the stack)")
    for slice_name in sorted(slices):
        app = f"{top}.{slice_name}.piccolo_app"
        if (root / slice_name / "tables.py").exists() and app not in set(registered_apps):
            found.append(f"{slice_name} has tables but {app} is not in APP_REGISTRY")
    return list(dict.fromkeys(found))


def test_the_house_rules_hold() -> None:
    assert violations(PACKAGE, APP_REGISTRY.apps) == []


def test_every_slice_has_a_place_in_the_stack() -> None:
    slices = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert slices - set(RANK) == set(), "give the new slice its place in RANK"


FAKE_TREE = {
    # allowed: a slice's own modules, core, settings, a lower slice's services and schemas,
    # notifications from anywhere, accounts.tables for foreign keys, anything in app.py
    "settings.py": "",
    "app.py": "from tandem.oversight import pages\nfrom tandem.training import content\n",
    "core/auth.py": "from tandem.settings import Settings\n",
    "accounts/tables.py": "",
    "accounts/services.py": "from tandem.accounts.tables import Person\n"
    "from tandem.notifications import services\n",
    "profiles/tables.py": "from tandem.accounts.tables import Person\n",
    "profiles/services.py": "from tandem.accounts import services, schemas\n"
    "from .tables import Profile\n",
    "notifications/tables.py": "from tandem.accounts.tables import Program\n",
    "oversight/pages.py": "from tandem.safety.services import open_concerns\n",
    # broken, one rule each
    "core/pages.py": "from tandem.accounts import services\n",
    "training/services.py": "def f():\n    from tandem.accounts.tables import Person\n",
    "training/pages.py": "from tandem.profiles import pages\n",
    "matches/services.py": "from tandem.safety import services\n",
    "safety/services.py": "import tandem.oversight.services\n",
    "notifications/services.py": "from ..accounts import services\n",
    "accounts/cli.py": "from tandem.piccolo_conf import DB\n",
    "matches/tables.py": "from tandem.accounts.tables import Membership\n",
}
FAKE_REGISTRY = [f"tandem.{name}.piccolo_app" for name in ("accounts", "profiles", "notifications")]


def _fake_tree(root: Path) -> Path:
    package = root / "tandem"
    for relative, source in FAKE_TREE.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "__init__.py").touch()
        path.write_text(source)
    for name in (
        "piccolo_conf",
        "oversight/services",
        "safety/__init__",
        "accounts/schemas",
        "profiles/pages",
    ):
        (package / f"{name}.py").touch()
    return package


def test_the_checker_catches_each_broken_rule(tmp_path: Path) -> None:
    assert violations(_fake_tree(tmp_path), FAKE_REGISTRY) == [
        "accounts/cli.py:1 imports the composition root tandem.piccolo_conf",
        "core/pages.py:1: core imports the slice tandem.accounts.services",
        "matches/services.py:1: matches may not import safety (the stack)",
        "notifications/services.py:1: notifications may not import accounts (the stack)",
        "safety/services.py:1: safety may not import oversight (the stack)",
        "training/pages.py:1 imports tandem.profiles.pages: use profiles.services or .schemas",
        "training/services.py:2 imports accounts.tables: only tables.py may",
        "matches has tables but tandem.matches.piccolo_app is not in APP_REGISTRY",
    ]


def test_the_checker_passes_a_tree_that_keeps_the_rules(tmp_path: Path) -> None:
    package = _fake_tree(tmp_path)
    for relative, source in FAKE_TREE.items():
        if source and relative.startswith(("core/pages", "training/", "matches/", "safety/",
                                           "notifications/services", "accounts/cli")):  # fmt: skip
            (package / relative).write_text("")
    assert violations(package, [*FAKE_REGISTRY, "tandem.matches.piccolo_app"]) == []
