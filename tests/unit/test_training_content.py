"""The training content: the real track validates, and each kind of mistake is caught precisely."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tandem.cli import training_group
from tandem.training.content import (
    CONTENT_ROOT,
    MAX_LENGTH_SHARE,
    ContentInvalid,
    best_is,
    current_track,
    load_track,
    render_markdown,
    validate,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "training"


def test_the_real_track_is_valid() -> None:
    track, errors = validate(CONTENT_ROOT)
    assert errors == [], "\n".join(str(e) for e in errors)
    assert track is not None
    assert len(track.modules) == 8
    for module in track.modules:
        assert len(module.questions) >= 3 * module.quiz_length
        assert module.pass_mark == 0.8
        assert all(sum(o.correct for o in q.options) == 1 for q in module.questions)
    renewals = {m.id: m.renewal_months for m in track.modules}
    assert renewals["overdose-response"] == renewals["suicide-and-escalation"] == 12
    assert track.full_track_months == 24
    # Safety modules carry several critical items each.
    for module_id in ("confidentiality", "overdose-response", "suicide-and-escalation"):
        module = track.module(module_id)
        assert module is not None
        assert sum(q.critical for q in module.questions) >= 3


def test_length_gives_no_module_away() -> None:
    """The validator's length rule holds for the real track, with room to spare."""
    track = current_track()
    for module in track.modules:
        for pick in (max, min):
            share = sum(best_is(q, pick) for q in module.questions) / len(module.questions)
            assert share <= MAX_LENGTH_SHARE, (module.id, pick.__name__, share)


def test_the_track_is_loaded_once() -> None:
    assert current_track() is current_track()


def test_the_cli_validates_the_real_content() -> None:
    result = CliRunner().invoke(training_group, ["validate"])
    assert result.exit_code == 0, result.output
    assert "8 modules, valid" in result.output


def _overlay(name: str, tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(FIXTURES / "valid", root)
    shutil.copytree(FIXTURES / name, root, dirs_exist_ok=True)
    return root


def test_the_valid_fixture_is_valid(tmp_path: Path) -> None:
    track = load_track(_overlay("valid", tmp_path))
    assert [m.id for m in track.modules] == ["alpha", "beta"]


@pytest.mark.parametrize(
    ("fixture", "file", "line", "reason"),
    [
        ("no-correct-answer", "01-alpha.quiz.yaml", 6, "alpha-01: no option is marked correct"),
        ("two-correct-answers", "01-alpha.quiz.yaml", 6, "2 options are marked correct"),
        ("duplicate-question-id", "02-beta.quiz.yaml", 21, "duplicate question id 'alpha-03'"),
        ("prerequisite-loop", "01-alpha.md", 11, "prerequisites loop: alpha -> beta -> alpha"),
        ("pool-too-small", "01-alpha.quiz.yaml", 2, "pool too small: 3 questions"),
        ("unknown-field", "01-alpha.md", 7, "unknown field 'author' in front matter"),
        ("unknown-question-field", "01-alpha.quiz.yaml", 21, "unknown field 'hint' in question"),
        ("bad-yaml", "01-alpha.quiz.yaml", 14, "not valid YAML"),
        ("no-front-matter", "02-beta.md", 1, "front matter missing"),
        ("unknown-prerequisite", "02-beta.md", 11, "unknown prerequisite 'gamma'"),
        ("unclosed-box", "01-alpha.md", 21, "never closed"),
        ("uncited-source", "02-beta.md", 16, "[S9] is cited but not in sources"),
        ("missing-module", "track.yaml", 5, "required module 'gamma' has no lesson file"),
        ("missing-quiz", "03-gamma.md", 1, "the question pool 03-gamma.quiz.yaml is missing"),
        ("unsafe-source-url", "01-alpha.md", 15, "a source url must start with https://"),
        (
            "best-is-longest",
            "01-alpha.quiz.yaml",
            2,
            "the best option is the longest in 2 of 3 questions (at most 40%); rewrite some of: "
            "alpha-02 (line 12), alpha-03 (line 21)",
        ),
    ],
)
def test_each_mistake_is_reported_with_file_line_and_reason(
    tmp_path: Path, fixture: str, file: str, line: int, reason: str
) -> None:
    root = _overlay(fixture, tmp_path)
    track, errors = validate(root)
    assert track is None
    assert any(e.path.name == file and e.line == line and reason in e.reason for e in errors), (
        "\n".join(str(e) for e in errors)
    )
    # One planted mistake gives one report (two for the orphan module), not a cascade.
    assert len(errors) <= 2, "\n".join(str(e) for e in errors)
    with pytest.raises(ContentInvalid, match=re.escape(reason)):
        load_track(root)


def test_the_cli_fails_on_broken_content(tmp_path: Path) -> None:
    root = _overlay("no-correct-answer", tmp_path)
    result = CliRunner().invoke(training_group, ["validate", "--path", str(root)])
    assert result.exit_code == 1
    assert "01-alpha.quiz.yaml:6: alpha-01: no option is marked correct" in result.output


def test_raw_html_never_reaches_the_page() -> None:
    html = render_markdown("Hello <script>alert(1)</script> <img src=x onerror=alert(1)>\n")
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html
    block = render_markdown("<div onclick='x()'>raw block</div>\n")
    assert "<div" not in block


@pytest.mark.parametrize(
    "link",
    [
        "[click](javascript:alert(1))",
        "[click](JavaScript:alert(1))",
        "[click](  javascript:alert(1) )",
        "<javascript:alert(1)>",
        "[click](vbscript:msgbox)",
        "[click](data:text/html;base64,PHNjcmlwdD4=)",
    ],
)
def test_script_links_never_reach_the_page(link: str) -> None:
    html = render_markdown(link + "\n")
    assert "href=" not in html
    assert 'href="javascript' not in html.lower()


def test_ordinary_links_and_what_to_do_boxes_render() -> None:
    html = render_markdown("[988](https://988lifeline.org)\n\n::: what-to-do\n1. Call 911.\n:::\n")
    assert '<a href="https://988lifeline.org">988</a>' in html
    assert '<div class="what-to-do">' in html
    assert "<li>Call 911.</li>" in html
