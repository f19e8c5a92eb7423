"""The training track on disk: load it, validate it, render its lessons safely.

`training_content/` is data written by people, so every rule a lesson or question pool must keep
is checked here and each problem is reported with its file, line and reason. The app loads the
track once per process (`current_track()`); a malformed track refuses to load at all rather than
serve a quiz with no correct answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from mdit_py_plugins.container import container_plugin

# Package data, found the way Python finds the package: the checkout's folder in development,
# site-packages in an installed wheel (the Dockerfile's case). Wheels install unzipped.
CONTENT_ROOT = Path(str(resources.files("training_content")))
CONTAINERS = ("what-to-do",)
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
CITATION = re.compile(r"\[(S\d+)\]")
MIN_OPTIONS, MAX_OPTIONS = 3, 5
POOL_FACTOR = 3  # a pool holds at least 3x the questions drawn, so retakes see new items
# The best option may be the longest (or the shortest) of its question in at most this share of
# a module's questions: otherwise "pick the longest" passes quizzes without reading.
MAX_LENGTH_SHARE = 0.4

TRACK_FIELDS = {"id": str, "title": str, "version": int, "summary": str, "required_modules": list}
MODULE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "title": str,
    "version": int,
    "material_change": bool,
    "summary": str,
    "estimated_minutes": int,
    "pass_mark": (int, float),
    "quiz_length": int,
    "renewal_months": int,
    "prerequisites": list,
    "sources": list,
}
SOURCE_FIELDS = {"tag": str, "title": str, "url": str}
QUIZ_FIELDS = {"module": str, "questions": list}
QUESTION_FIELDS = {"id": str, "critical": bool, "stem": str, "options": list, "rationale": str}
OPTION_FIELDS: dict[str, type] = {"text": str, "correct": bool}
OPTIONAL_OPTION_FIELDS = {"correct"}


@dataclass(frozen=True)
class ContentError:
    """One problem in the content, precise enough to fix without hunting."""

    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        try:
            shown = self.path.relative_to(CONTENT_ROOT.parent)
        except ValueError:
            shown = self.path
        return f"{shown}:{self.line}: {self.reason}"


class ContentInvalid(Exception):
    """The track cannot be loaded; `errors` lists every problem found."""

    def __init__(self, errors: list[ContentError]) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors


@dataclass(frozen=True)
class Option:
    text: str
    correct: bool


@dataclass(frozen=True)
class Question:
    id: str
    module_id: str
    critical: bool
    stem: str
    options: tuple[Option, ...]
    rationale: str

    @property
    def correct_index(self) -> int:
        return next(index for index, option in enumerate(self.options) if option.correct)

    @property
    def best(self) -> Option:
        return self.options[self.correct_index]


@dataclass(frozen=True)
class Source:
    tag: str
    title: str
    url: str


@dataclass(frozen=True)
class Module:
    id: str
    title: str
    version: int
    material_change: bool
    summary: str
    estimated_minutes: int
    pass_mark: float
    quiz_length: int
    renewal_months: int
    prerequisites: tuple[str, ...]
    sources: tuple[Source, ...]
    body: str
    html: str
    questions: tuple[Question, ...]

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


@dataclass(frozen=True)
class Track:
    id: str
    title: str
    version: int
    summary: str
    modules: tuple[Module, ...]  # in the order of track.yaml
    by_id: dict[str, Module] = field(repr=False)

    def module(self, module_id: str) -> Module | None:
        return self.by_id.get(module_id)

    @property
    def full_track_months(self) -> int:
        """The longest renewal period; modules renewing more often are the safety modules."""
        return max(module.renewal_months for module in self.modules)


# --- rendering ------------------------------------------------------------------------------


def _markdown() -> MarkdownIt:
    """CommonMark with raw HTML escaped (never passed through) and the "what to do" boxes.

    markdown-it also refuses `javascript:`, `vbscript:`, `file:` and non-image `data:` links, so
    a lesson cannot carry script into a mentor's page whatever its author typed.
    """
    md = MarkdownIt("commonmark", {"html": False})
    for name in CONTAINERS:
        md.use(container_plugin, name)
    return md


_MD = _markdown()


def render_markdown(text: str) -> str:
    """Lesson Markdown to HTML that is safe to mark `| safe` in a template."""
    return str(_MD.render(text))


# --- YAML with line numbers -----------------------------------------------------------------


class _Map(dict[str, Any]):
    """A YAML mapping that remembers the line of itself and of each key (1-based)."""

    line: int
    key_lines: dict[str, int]


class _Seq(list[Any]):
    line: int
    item_lines: list[int]


_BROKEN = object()  # a file that is not YAML at all: already reported, nothing more to check


class _Located:
    """Parses YAML through `yaml.compose` so every value keeps the line it came from."""

    def __init__(self, path: Path, errors: list[ContentError], line_offset: int = 0) -> None:
        self.path = path
        self.errors = errors
        self.offset = line_offset
        self.constructor = yaml.constructor.SafeConstructor()

    def parse(self, text: str) -> Any:
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = (mark.line + 1 if mark else 1) + self.offset
            problem = getattr(error, "problem", None) or str(error)
            self.errors.append(ContentError(self.path, line, f"not valid YAML: {problem}"))
            return _BROKEN
        return None if node is None else self._build(node)

    def _line(self, node: yaml.Node) -> int:
        return int(node.start_mark.line) + 1 + self.offset

    def _build(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.MappingNode):
            mapping = _Map()
            mapping.line, mapping.key_lines = self._line(node), {}
            for key_node, value_node in node.value:
                key = str(self._build(key_node))
                if key in mapping:
                    self.errors.append(
                        ContentError(self.path, self._line(key_node), f"duplicate key {key!r}")
                    )
                mapping[key] = self._build(value_node)
                mapping.key_lines[key] = self._line(key_node)
            return mapping
        if isinstance(node, yaml.SequenceNode):
            sequence = _Seq(self._build(item) for item in node.value)
            sequence.line, sequence.item_lines = (
                self._line(node),
                [self._line(item) for item in node.value],
            )
            return sequence
        return self.constructor.construct_object(node)


def split_front_matter(text: str) -> tuple[str, str, int] | None:
    """(front matter, body, line where the body starts) or None without `---` fences."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 2
    return None


# --- validation -----------------------------------------------------------------------------


class _Checker:
    def __init__(self) -> None:
        self.errors: list[ContentError] = []

    def error(self, path: Path, line: int, reason: str) -> None:
        self.errors.append(ContentError(path, line, reason))

    def fields(
        self,
        path: Path,
        mapping: Any,
        expected: dict[str, Any],
        what: str,
        *,
        optional: set[str] | frozenset[str] = frozenset(),
        line: int = 1,
    ) -> bool:
        """Required fields present with the right type, nothing unknown.

        Returns whether the mapping is usable (every required field there with its type); an
        unknown field is reported but does not hide the rest, so one slip gives one error.
        """
        if mapping is _BROKEN:
            return False
        if not isinstance(mapping, _Map):
            self.error(path, getattr(mapping, "line", line), f"{what} must be a mapping")
            return False
        ok = True
        for key in mapping:
            if key not in expected:
                allowed = ", ".join(expected)
                self.error(
                    path, mapping.key_lines[key], f"unknown field {key!r} in {what} ({allowed})"
                )
        for key, kind in expected.items():
            if key not in mapping:
                if key not in optional:
                    self.error(path, mapping.line, f"{what} is missing the field {key!r}")
                    ok = False
                continue
            value = mapping[key]
            # bool is an int in Python; a number field must not accept `true`.
            wrong_bool = isinstance(value, bool) and kind is not bool
            if wrong_bool or not isinstance(value, kind):
                names = kind.__name__ if isinstance(kind, type) else "number"
                self.error(path, mapping.key_lines[key], f"{what} field {key!r} must be a {names}")
                ok = False
            elif isinstance(value, str) and not value.strip():
                self.error(path, mapping.key_lines[key], f"{what} field {key!r} is empty")
                ok = False
        return ok


def _check_track(checker: _Checker, root: Path) -> tuple[_Map | None, Path]:
    path = root / "track.yaml"
    if not path.is_file():
        checker.error(path, 1, "track.yaml is missing")
        return None, path
    data = _Located(path, checker.errors).parse(path.read_text(encoding="utf-8"))
    if not checker.fields(path, data, TRACK_FIELDS, "track"):
        return None, path
    assert isinstance(data, _Map)  # noqa: S101 - fields() checked it
    if not isinstance(data["version"], int) or data["version"] < 1:
        checker.error(path, data.key_lines["version"], "track version must be 1 or more")
    modules = data["required_modules"]
    seen: set[str] = set()
    for line, module_id in zip(modules.item_lines, modules, strict=True):
        if not isinstance(module_id, str):
            checker.error(path, line, "required_modules must list module ids")
        elif module_id in seen:
            checker.error(path, line, f"module {module_id!r} is listed twice")
        seen.add(str(module_id))
    if not modules:
        checker.error(path, data.key_lines["required_modules"], "the track requires no modules")
    return data, path


def _check_module_file(checker: _Checker, path: Path) -> tuple[_Map, str, int] | None:
    text = path.read_text(encoding="utf-8")
    parts = split_front_matter(text)
    if parts is None:
        checker.error(path, 1, "front matter missing: the file must start with a '---' block")
        return None
    front, body, body_line = parts
    meta = _Located(path, checker.errors, line_offset=1).parse(front)
    if not checker.fields(path, meta, MODULE_FIELDS, "front matter"):
        return None
    assert isinstance(meta, _Map)  # noqa: S101
    line = meta.key_lines
    module_id = meta["id"]
    if not SLUG.match(module_id):
        checker.error(path, line["id"], f"id {module_id!r} must be a slug like 'mentor-role'")
    if not re.fullmatch(rf"\d+-{re.escape(module_id)}\.md", path.name):
        checker.error(path, line["id"], f"file name must be NN-{module_id}.md to match the id")
    for key, low in (("version", 1), ("estimated_minutes", 1), ("quiz_length", 1)):
        if meta[key] < low:
            checker.error(path, line[key], f"{key} must be {low} or more")
    if meta["renewal_months"] < 1:
        checker.error(path, line["renewal_months"], "renewal_months must be 1 or more")
    if not 0 < meta["pass_mark"] <= 1:
        checker.error(path, line["pass_mark"], "pass_mark must be a share between 0 and 1")
    for prereq_line, prereq in zip(
        meta["prerequisites"].item_lines, meta["prerequisites"], strict=True
    ):
        if not isinstance(prereq, str):
            checker.error(path, prereq_line, "prerequisites must list module ids")
    tags = set()
    for source in meta["sources"]:
        if checker.fields(path, source, SOURCE_FIELDS, "source", line=meta["sources"].line):
            tags.add(source["tag"])
            # Source links are shown as they are: only web addresses, never `javascript:`.
            if not source["url"].startswith(("https://", "http://")):
                checker.error(
                    path, source.key_lines["url"], "a source url must start with https://"
                )
    if not body.strip():
        checker.error(path, body_line, "the lesson has no text")
    for offset, body_text in enumerate(body.splitlines()):
        for tag in CITATION.findall(body_text):
            if tag not in tags:
                checker.error(path, body_line + offset, f"[{tag}] is cited but not in sources")
    _check_containers(checker, path, body, body_line)
    return meta, body, body_line


def _check_containers(checker: _Checker, path: Path, body: str, body_line: int) -> None:
    """Only the known boxes, each closed: an unknown or open `:::` would show as raw text."""
    open_line: int | None = None
    for offset, text in enumerate(body.splitlines()):
        stripped = text.strip()
        if not stripped.startswith(":::"):
            continue
        name = stripped[3:].strip()
        if name:
            if name not in CONTAINERS:
                checker.error(path, body_line + offset, f"unknown box '::: {name}'")
            if open_line is not None:
                checker.error(path, body_line + offset, "a box opens inside another box")
            open_line = body_line + offset
        elif open_line is None:
            checker.error(path, body_line + offset, "':::' closes a box that was never opened")
        else:
            open_line = None
    if open_line is not None:
        checker.error(path, open_line, "this box is never closed with ':::'")


def _check_quiz(
    checker: _Checker, path: Path, module_id: str, quiz_length: int, question_ids: dict[str, Path]
) -> list[Question]:
    data = _Located(path, checker.errors).parse(path.read_text(encoding="utf-8"))
    if not checker.fields(path, data, QUIZ_FIELDS, "question pool"):
        return []
    assert isinstance(data, _Map)  # noqa: S101
    if data["module"] != module_id:
        checker.error(
            path, data.key_lines["module"], f"module is {data['module']!r}, expected {module_id!r}"
        )
    questions: list[Question] = []
    lines: dict[str, int] = {}
    for item_line, item in zip(data["questions"].item_lines, data["questions"], strict=True):
        question = _check_question(checker, path, item, item_line, module_id, question_ids)
        if question is not None:
            questions.append(question)
            lines[question.id] = item_line
    _check_lengths(checker, path, data.key_lines["questions"], questions, lines)
    pool = len(data["questions"])
    if pool < POOL_FACTOR * quiz_length:
        checker.error(
            path,
            data.key_lines["questions"],
            f"pool too small: {pool} questions, quiz_length {quiz_length} needs at least "
            f"{POOL_FACTOR * quiz_length}",
        )
    return questions


def option_length(option: Option) -> int:
    """An option's length as a reader sees it (runs of spaces and line breaks count once)."""
    return len(" ".join(option.text.split()))


def best_is(question: Question, pick: Any) -> bool:
    """Whether the best option is the one `pick` (max or min) chooses by length (ties count)."""
    lengths = [option_length(option) for option in question.options]
    return lengths[question.correct_index] == pick(lengths)


def _check_lengths(
    checker: _Checker, path: Path, line: int, questions: list[Question], lines: dict[str, int]
) -> None:
    """No module may let the length of an option give the answer away."""
    for pick, word in ((max, "longest"), (min, "shortest")):
        hits = [q for q in questions if best_is(q, pick)]
        if questions and len(hits) > MAX_LENGTH_SHARE * len(questions):
            where = ", ".join(f"{q.id} (line {lines[q.id]})" for q in hits)
            checker.error(
                path,
                line,
                f"the best option is the {word} in {len(hits)} of {len(questions)} questions "
                f"(at most {MAX_LENGTH_SHARE:.0%}); rewrite some of: {where}",
            )


def _check_question(
    checker: _Checker,
    path: Path,
    item: Any,
    item_line: int,
    module_id: str,
    question_ids: dict[str, Path],
) -> Question | None:
    if not checker.fields(path, item, QUESTION_FIELDS, "question", line=item_line):
        return None
    line = item.key_lines
    question_id = item["id"]
    if not SLUG.match(question_id):
        checker.error(path, line["id"], f"question id {question_id!r} must be a slug")
    if question_id in question_ids:
        where = question_ids[question_id].name
        checker.error(path, line["id"], f"duplicate question id {question_id!r} (also in {where})")
    question_ids[question_id] = path
    options: list[Option] = []
    texts: set[str] = set()
    for option_line, option in zip(item["options"].item_lines, item["options"], strict=True):
        if not checker.fields(
            path, option, OPTION_FIELDS, "option", optional=OPTIONAL_OPTION_FIELDS
        ):
            continue
        text = " ".join(option["text"].split())
        if text in texts:
            checker.error(path, option_line, f"{question_id}: the same option appears twice")
        texts.add(text)
        options.append(Option(text=option["text"].strip(), correct=option.get("correct", False)))
    if not MIN_OPTIONS <= len(item["options"]) <= MAX_OPTIONS:
        checker.error(
            path,
            line["options"],
            f"{question_id}: {len(item['options'])} options; a question needs "
            f"{MIN_OPTIONS} to {MAX_OPTIONS}",
        )
    correct = sum(option.correct for option in options)
    if correct == 0:
        checker.error(path, line["options"], f"{question_id}: no option is marked correct")
    elif correct > 1:
        checker.error(
            path,
            line["options"],
            f"{question_id}: {correct} options are marked correct; exactly one must be",
        )
    if len(options) != len(item["options"]) or correct != 1:
        return None
    return Question(
        id=question_id,
        module_id=module_id,
        critical=item["critical"],
        stem=item["stem"].strip(),
        options=tuple(options),
        rationale=item["rationale"].strip(),
    )


def _check_prerequisites(
    checker: _Checker, metas: dict[str, tuple[Path, _Map]], unreadable: set[str]
) -> None:
    for module_id, (path, meta) in metas.items():
        line = meta.key_lines["prerequisites"]
        for prereq in meta["prerequisites"]:
            if prereq == module_id:
                checker.error(path, line, f"{module_id!r} lists itself as a prerequisite")
            elif prereq not in metas and prereq not in unreadable:
                checker.error(path, line, f"unknown prerequisite {prereq!r}")
    # A loop means nobody could ever start any module on it: report each loop once.
    reported: set[frozenset[str]] = set()
    for start in metas:
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        while stack:
            current, trail = stack.pop()
            for prereq in metas[current][1]["prerequisites"]:
                if prereq not in metas or prereq == current:
                    continue
                if prereq == start:
                    loop = frozenset(trail)
                    if loop not in reported:
                        reported.add(loop)
                        path, meta = metas[start]
                        chain = " -> ".join([*trail, start])
                        checker.error(
                            path,
                            meta.key_lines["prerequisites"],
                            f"prerequisites loop: {chain}",
                        )
                elif prereq not in trail:
                    stack.append((prereq, [*trail, prereq]))


def validate(root: Path = CONTENT_ROOT) -> tuple[Track | None, list[ContentError]]:
    """Check every file of the track; returns the track when there are no errors."""
    checker = _Checker()
    track_data, track_path = _check_track(checker, root)
    module_dir = root / "modules"
    lessons = sorted(module_dir.glob("*.md")) if module_dir.is_dir() else []
    metas: dict[str, tuple[Path, _Map]] = {}
    bodies: dict[str, str] = {}
    questions: dict[str, list[Question]] = {}
    question_ids: dict[str, Path] = {}
    unreadable: set[str] = set()  # ids (from file names) of lessons already reported as broken
    for path in lessons:
        parsed = _check_module_file(checker, path)
        if parsed is None:
            unreadable.add(re.sub(r"^\d+-", "", path.stem))
            continue
        meta, body, _ = parsed
        module_id = meta["id"]
        if module_id in metas:
            checker.error(
                path,
                meta.key_lines["id"],
                f"duplicate module id {module_id!r} (also in {metas[module_id][0].name})",
            )
            continue
        metas[module_id], bodies[module_id] = (path, meta), body
        quiz = path.with_suffix(".quiz.yaml")
        if not quiz.is_file():
            checker.error(path, 1, f"the question pool {quiz.name} is missing")
            continue
        questions[module_id] = _check_quiz(
            checker, quiz, module_id, meta["quiz_length"], question_ids
        )
    for quiz in sorted(module_dir.glob("*.quiz.yaml")) if module_dir.is_dir() else []:
        if not quiz.with_name(quiz.name.removesuffix(".quiz.yaml") + ".md").is_file():
            checker.error(quiz, 1, "question pool without a lesson file")
    required: list[str] = list(track_data["required_modules"]) if track_data else []
    if track_data is not None:
        lines = track_data["required_modules"].item_lines
        for line, module_id in zip(lines, required, strict=True):
            if module_id not in metas and module_id not in unreadable:
                checker.error(track_path, line, f"required module {module_id!r} has no lesson file")
        for module_id, (path, meta) in metas.items():
            if module_id not in required:
                checker.error(
                    path, meta.key_lines["id"], f"module {module_id!r} is not in track.yaml"
                )
    _check_prerequisites(checker, metas, unreadable)
    if checker.errors or track_data is None:
        return None, checker.errors
    modules = tuple(
        _module(metas[module_id][1], bodies[module_id], questions[module_id])
        for module_id in required
    )
    track = Track(
        id=track_data["id"],
        title=track_data["title"],
        version=track_data["version"],
        summary=" ".join(track_data["summary"].split()),
        modules=modules,
        by_id={module.id: module for module in modules},
    )
    return track, []


def _module(meta: _Map, body: str, questions: list[Question]) -> Module:
    return Module(
        id=meta["id"],
        title=meta["title"],
        version=meta["version"],
        material_change=meta["material_change"],
        summary=" ".join(meta["summary"].split()),
        estimated_minutes=meta["estimated_minutes"],
        pass_mark=float(meta["pass_mark"]),
        quiz_length=meta["quiz_length"],
        renewal_months=meta["renewal_months"],
        prerequisites=tuple(meta["prerequisites"]),
        sources=tuple(Source(**dict(source)) for source in meta["sources"]),
        body=body,
        html=render_markdown(body),
        questions=tuple(questions),
    )


def load_track(root: Path = CONTENT_ROOT) -> Track:
    """The validated track, or `ContentInvalid` listing every problem."""
    track, errors = validate(root)
    if errors or track is None:
        raise ContentInvalid(errors)
    return track


@lru_cache(maxsize=1)
def current_track() -> Track:
    """The track this process serves: read, checked and rendered once, then kept."""
    return load_track()
