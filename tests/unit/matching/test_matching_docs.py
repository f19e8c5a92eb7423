"""The examples in the package docstring and in the README's matching section run as written."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import matching

README = Path(__file__).resolve().parents[3] / "README.md"


def test_package_docstring_examples_pass() -> None:
    result = doctest.testmod(matching, raise_on_error=False)
    assert result.attempted > 0
    assert result.failed == 0


def test_readme_matching_example_runs() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Matching engine", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - our own documentation
