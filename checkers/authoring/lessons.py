"""Lessons built from the solutions: one source of truth, so a fix to a solution reaches the lesson.

An author marks each exercise inside a solution with two comment lines (they survive every format:
``.ipynb``, Databricks source ``.py``, bundle YAML)::

    # BEGIN SOLUTION silver.dedup: From priced, keep one row per EVENT_KEY. Call the result deduped.
    deduped = priced.dropDuplicates(EVENT_KEY)
    # END SOLUTION

In a ``.ipynb`` solution the cell also carries the tag ``solution`` (tags are the contract between notebooks and
tools). The lesson gets the same notebook with every region replaced by a ``# TODO`` prompt and a placeholder that
raises ``NotImplementedError`` naming the exercise; in YAML the region becomes ``# TODO`` comments only, so the file
still loads. The lesson cell is tagged ``exercise`` and records its id under ``metadata.day07.exercise``.
Everything else (markdown, check cells, stable cell ids) is copied, outputs are dropped: building twice gives
the same bytes. The check cells' code, ``day07_checks/``, is written next to the notebooks in both folders, from the
grader's own modules (see :mod:`checkers.authoring.checks_bundle`).
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml
from nbformat import NotebookNode

from checkers.authoring.checks_bundle import sync_bundle
from checkers.errors import CheckersError, NotebookFormatError
from checkers.jobs.project import BUNDLE_DIR
from checkers.notebooks.formats import SOURCE_HEADER, parse_ipynb, parse_source, to_source

SOLUTION_TAG = "solution"
"""Tag of a solution cell that holds an exercise region."""
EXERCISE_TAG = "exercise"
"""Tag of the lesson cell generated from it."""
CHECK_TAG = "check"
"""Tag of an in-notebook feedback cell (copied to the lesson unchanged)."""
METADATA_KEY = "day07"
"""Cell / notebook metadata key the kit owns."""
DOCS_BASE = "../docs/"
"""Docs links in prompts, relative to ``solutions/`` and ``lessons/`` alike."""
DOCS_PAGES = {
    "widgets": "widgets.md",
    "bronze": "bronze.md",
    "silver": "silver.md",
    "gold": "gold.md",
    "job": "job-workflow.md",
    "job.dependencies": "dependencies.md",
    "job.schedule": "scheduling.md",
    "job.fan_out": "orchestration.md",
    "job.condition": "dependencies.md",
    "job.retries": "scheduling.md",
    "job.email": "scheduling.md",
    "quality": "orchestration.md",
}
"""Exercise id (or its first part) → docs page its prompt links to; the longest matching prefix wins."""
MARKED_SUFFIXES = (".yml", ".yaml")
"""Plain-text files whose regions are turned into ``# TODO`` comments."""

_ID = r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+"
_BEGIN = re.compile(r"^(?P<indent>[ \t]*)#\s*BEGIN SOLUTION\b(?P<rest>.*)$")
_BEGIN_FULL = re.compile(rf"^\s+(?P<id>{_ID})\s*(?::\s*(?P<prompt>.*?))?\s*$")
_END = re.compile(r"^[ \t]*#\s*END SOLUTION\s*$")
_PROMPT_WIDTH = 100
_IGNORED_DIRS = {".ipynb_checkpoints", "__pycache__", BUNDLE_DIR}
"""Never read as solution files: the feedback bundle is written by the build itself, into both folders."""


class AuthoringError(CheckersError):
    """A solution's exercise markers are malformed; the message names the file and cell."""


@dataclass(frozen=True)
class Exercise:
    """One exercise found in the solutions."""

    id: str
    """Dotted id, e.g. ``silver.dedup``; the first part is the notebook's topic."""
    prompt: str
    """What to do, from the ``BEGIN SOLUTION`` line."""
    docs: str
    """Docs page linked from the prompt, e.g. ``../docs/silver.md``."""
    file: str
    """Solution file name, e.g. ``02_silver.ipynb``."""
    cell_id: str | None = None
    """Id of the notebook cell holding it (None in YAML)."""
    regions: int = 1
    """Number of marked regions (several only in YAML, e.g. one ``depends_on`` per task)."""


@dataclass
class BuildResult:
    """What ``build_lessons`` did (or, with ``check``, would do)."""

    solutions: Path
    """The solutions folder read."""
    lessons: Path
    """The lessons folder written (or compared)."""
    check: bool
    """True when nothing was written, only compared."""
    exercises: list[Exercise] = field(default_factory=list)
    """Every exercise, in file order."""
    written: list[Path] = field(default_factory=list)
    """Lesson files created or changed (empty in check mode)."""
    unchanged: list[Path] = field(default_factory=list)
    """Lesson files already up to date."""
    stale: list[Path] = field(default_factory=list)
    """Check mode: lesson files missing or different from what the solutions give."""
    extra: list[Path] = field(default_factory=list)
    """Notebook or job files in lessons/ that no solution produces (left in place, reported)."""

    @property
    def up_to_date(self) -> bool:
        """Lessons match the solutions exactly (always true after a build)."""
        return not self.stale and not self.extra


@dataclass(frozen=True)
class _Region:
    exercise: str
    prompt: str
    indent: str
    begin: int
    end: int


# ------------------------------------------------------------------------------------------------ regions

def docs_link(exercise_id: str) -> str:
    """The docs page for an exercise: the longest id prefix in :data:`DOCS_PAGES`."""
    parts = exercise_id.split(".")
    for n in range(len(parts), 0, -1):
        page = DOCS_PAGES.get(".".join(parts[:n]))
        if page:
            return DOCS_BASE + page
    return DOCS_BASE + "index.md"


def _regions(lines: list[str], *, where: str) -> list[_Region]:
    regions: list[_Region] = []
    open_at: int | None = None
    exercise = prompt = indent = ""
    for n, line in enumerate(lines):
        begin = _BEGIN.match(line)
        if begin:
            if open_at is not None:
                raise AuthoringError(f"{where}, line {n + 1}: BEGIN SOLUTION inside the region opened on line "
                                     f"{open_at + 1}.", hint="Close each region with '# END SOLUTION' first.")
            full = _BEGIN_FULL.match(begin.group("rest"))
            if full is None:
                raise AuthoringError(
                    f"{where}, line {n + 1}: '{line.strip()}' has no valid exercise id.",
                    hint="Write '# BEGIN SOLUTION <topic>.<name>: <what to do>', e.g. "
                         "'# BEGIN SOLUTION silver.dedup: Keep one row per event key.' (lower case, dotted).")
            exercise, prompt, indent = full.group("id"), (full.group("prompt") or "").strip(), begin.group("indent")
            if not prompt:
                raise AuthoringError(f"{where}, line {n + 1}: exercise {exercise} has no prompt.",
                                     hint=f"Say what to do after a colon: '# BEGIN SOLUTION {exercise}: ...'.")
            open_at = n
        elif _END.match(line):
            if open_at is None:
                raise AuthoringError(f"{where}, line {n + 1}: END SOLUTION without a BEGIN SOLUTION before it.")
            if open_at + 1 == n:
                raise AuthoringError(f"{where}, line {open_at + 1}: exercise {exercise} has an empty region.",
                                     hint="Put the solution code between BEGIN SOLUTION and END SOLUTION.")
            regions.append(_Region(exercise, prompt, indent, open_at, n))
            open_at = None
        elif "BEGIN SOLUTION" in line or "END SOLUTION" in line:
            raise AuthoringError(f"{where}, line {n + 1}: '{line.strip()}' looks like a marker but is not one.",
                                 hint="Markers are whole comment lines: '# BEGIN SOLUTION <id>: <prompt>' and "
                                      "'# END SOLUTION'.")
    if open_at is not None:
        raise AuthoringError(f"{where}, line {open_at + 1}: BEGIN SOLUTION {exercise} is never closed.",
                             hint="Add a '# END SOLUTION' line after the solution code.")
    return regions


def _todo_lines(region: _Region, *, code: bool) -> list[str]:
    docs = docs_link(region.exercise)
    wrapped = textwrap.wrap(f"TODO {region.exercise}: {region.prompt}", width=_PROMPT_WIDTH - len(region.indent),
                            break_long_words=False, break_on_hyphens=False)
    lines = [f"{region.indent}# {wrapped[0]}", *(f"{region.indent}#   {w}" for w in wrapped[1:]),
             f"{region.indent}# Docs: {docs}"]
    if code:
        message = f"Exercise {region.exercise}: {region.prompt} See {docs}"
        lines.append(f"{region.indent}raise NotImplementedError({json.dumps(message, ensure_ascii=False)})")
    return lines


def _replace_regions(lines: list[str], regions: list[_Region], *, code: bool) -> list[str]:
    out: list[str] = []
    last = 0
    for region in regions:
        out += lines[last:region.begin]
        out += _todo_lines(region, code=code)
        last = region.end + 1
    return out + lines[last:]


# ---------------------------------------------------------------------------------------------- notebooks

def _read_solution_notebook(path: Path) -> NotebookNode:
    text = path.read_text(encoding="utf-8")
    nb = parse_ipynb(text, path=path) if path.suffix == ".ipynb" else parse_source(text, path=path)
    for index, cell in enumerate(nb.cells):
        if not cell.get("id"):
            cell["id"] = f"cell-{index + 1}"  # deterministic, unlike nbformat's random ids
    ids = [cell["id"] for cell in nb.cells]
    if len(set(ids)) != len(ids):
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        raise AuthoringError(f"{path}: cell ids {', '.join(dupes)} are used more than once.",
                             hint="Give every cell its own id, so lesson cells keep stable ids.")
    return nb


def _lesson_notebook(nb: NotebookNode, *, path: Path) -> tuple[NotebookNode, list[Exercise]]:
    lesson = nbformat.from_dict(json.loads(json.dumps(nb)))
    exercises: list[Exercise] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(lesson.cells):
        where = f"{path.name}, cell {index + 1} (id {cell['id']})"
        tags = list(cell.metadata.get("tags", []))
        if cell.cell_type != "code":
            if SOLUTION_TAG in tags:
                raise AuthoringError(f"{where}: a {cell.cell_type} cell is tagged '{SOLUTION_TAG}'.",
                                     hint="Only code cells hold exercises.")
            continue
        cell.outputs = []
        cell.execution_count = None
        cell.metadata.pop("execution", None)
        lines = cell.source.split("\n")
        regions = _regions(lines, where=where)
        if not regions:
            if SOLUTION_TAG in tags and path.suffix == ".ipynb":
                raise AuthoringError(f"{where}: tagged '{SOLUTION_TAG}' but has no BEGIN/END SOLUTION region.",
                                     hint="Mark the solution code, or remove the tag.")
            continue
        if path.suffix == ".ipynb" and SOLUTION_TAG not in tags:
            raise AuthoringError(f"{where}: has a solution region but not the tag '{SOLUTION_TAG}'.",
                                 hint=f"Add the cell tag '{SOLUTION_TAG}' (View > Cell toolbar > Tags).")
        if len(regions) > 1:
            raise AuthoringError(f"{where}: {len(regions)} solution regions in one cell.",
                                 hint="Put one exercise per cell, so a learner's cell maps to one exercise.")
        region = regions[0]
        if region.exercise in seen:
            raise AuthoringError(f"{where}: exercise {region.exercise} is already in cell {seen[region.exercise]}.",
                                 hint="Give each exercise its own id.")
        seen[region.exercise] = index + 1
        cell.source = "\n".join(_replace_regions(lines, regions, code=True))
        cell.metadata["tags"] = [EXERCISE_TAG if t == SOLUTION_TAG else t for t in tags] or [EXERCISE_TAG]
        cell.metadata[METADATA_KEY] = {**cell.metadata.get(METADATA_KEY, {}), "exercise": region.exercise}
        exercises.append(Exercise(id=region.exercise, prompt=region.prompt, docs=docs_link(region.exercise),
                                  file=path.name, cell_id=cell["id"]))
    lesson.metadata[METADATA_KEY] = {**lesson.metadata.get(METADATA_KEY, {}), "lesson": True,
                                     "built_from": f"solutions/{path.name}"}
    return lesson, exercises


def _notebook_text(nb: NotebookNode, *, suffix: str) -> str:
    if suffix == ".py":
        return to_source(nb)
    nbformat.validate(nb)
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def _is_notebook(path: Path) -> bool:
    if path.suffix == ".ipynb":
        return True
    if path.suffix != ".py":
        return False
    with path.open(encoding="utf-8", errors="replace") as fh:
        return fh.readline().strip() == SOURCE_HEADER


# ------------------------------------------------------------------------------------------------- YAML

def _lesson_yaml(path: Path) -> tuple[str, list[Exercise]]:
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    regions = _regions(lines, where=path.name)
    out = "\n".join(_replace_regions(lines, regions, code=False))
    try:
        yaml.safe_load(out)
    except yaml.YAMLError as exc:
        raise AuthoringError(f"{path.name}: the lesson version is not valid YAML once the solutions are removed: "
                             f"{exc}", hint="Mark whole YAML blocks (a key with everything under it).") from None
    exercises: dict[str, Exercise] = {}
    for region in regions:
        known = exercises.get(region.exercise)
        exercises[region.exercise] = Exercise(
            id=region.exercise, prompt=known.prompt if known else region.prompt, docs=docs_link(region.exercise),
            file=path.name, regions=(known.regions + 1) if known else 1)
    return out, list(exercises.values())


# ------------------------------------------------------------------------------------------------ build

def _render(path: Path) -> tuple[bytes, list[Exercise]]:
    """The lesson bytes for one solution file, and the exercises in it."""
    if _is_notebook(path):
        try:
            nb = _read_solution_notebook(path)
        except NotebookFormatError as exc:
            raise AuthoringError(exc.message, hint=exc.hint) from None
        lesson, exercises = _lesson_notebook(nb, path=path)
        return _notebook_text(lesson, suffix=path.suffix).encode("utf-8"), exercises
    if path.suffix in MARKED_SUFFIXES:
        text, exercises = _lesson_yaml(path)
        return text.encode("utf-8"), exercises
    data = path.read_bytes()
    if b"BEGIN SOLUTION" in data:
        raise AuthoringError(f"{path.name}: has solution markers, but only notebooks (.ipynb, Databricks .py) and "
                             f"YAML files ({', '.join(MARKED_SUFFIXES)}) are turned into exercises; it would be "
                             "copied to the lessons with its solution.",
                             hint="Move the exercise into a notebook, or remove the markers.")
    return data, []


def _source_files(solutions: Path) -> list[Path]:
    files = []
    for path in sorted(solutions.rglob("*")):
        relative = path.relative_to(solutions)
        if any(part.startswith(".") or part in _IGNORED_DIRS for part in relative.parts):
            continue
        if path.is_file():
            files.append(path)
    return files


def find_exercises(*, solutions: Path) -> list[Exercise]:
    """Every exercise marked in ``solutions``, in file order (nothing is written)."""
    found: list[Exercise] = []
    for path in _source_files(_checked_solutions(solutions)):
        found += _render(path)[1]
    return found


def _checked_solutions(solutions: Path) -> Path:
    solutions = Path(solutions)
    if not solutions.is_dir():
        raise AuthoringError(f"Solutions folder {solutions} does not exist.",
                             hint="Run from the repository root, or pass --solutions FOLDER.")
    return solutions


def build_lessons(*, solutions: Path, lessons: Path, check: bool = False) -> BuildResult:
    """Write ``lessons`` from ``solutions``; with ``check``, write nothing and report what is out of date."""
    solutions = _checked_solutions(solutions)
    lessons = Path(lessons)
    if lessons.resolve() == solutions.resolve():
        raise AuthoringError(f"Lessons and solutions are the same folder ({solutions}).",
                             hint="Write the lessons to another folder, e.g. lessons/.")
    if lessons.exists() and not lessons.is_dir():
        raise AuthoringError(f"Lessons folder {lessons} is a file.", hint="Pass a folder with --lessons.")
    result = BuildResult(solutions=solutions, lessons=lessons, check=check)
    ids: dict[str, str] = {}
    produced: set[Path] = set()
    for source in _source_files(solutions):
        data, exercises = _render(source)
        for exercise in exercises:
            if exercise.id in ids and ids[exercise.id] != exercise.file:
                raise AuthoringError(f"Exercise {exercise.id} is in both {ids[exercise.id]} and {exercise.file}.",
                                     hint="Exercise ids are unique across the solutions.")
            ids[exercise.id] = exercise.file
        result.exercises += exercises
        target = lessons / source.relative_to(solutions)
        produced.add(target)
        current = target.read_bytes() if target.is_file() else None
        if current == data:
            result.unchanged.append(target)
        elif check:
            result.stale.append(target)
        else:
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.is_dir():
                    shutil.rmtree(target)
                target.write_bytes(data)
            except OSError as exc:
                raise AuthoringError(f"Cannot write {target}: {exc.strerror or exc}.",
                                     hint="Check that the lessons folder is writable.") from None
            result.written.append(target)
    for folder in (solutions, lessons):
        try:
            written, unchanged, stale = sync_bundle(folder, check=check)
        except OSError as exc:
            raise AuthoringError(f"Cannot write {folder / BUNDLE_DIR}: {exc.strerror or exc}.",
                                 hint="Check that the folder is writable.") from None
        result.written += written
        result.unchanged += unchanged
        result.stale += stale
    if lessons.is_dir():
        for path in _source_files(lessons):
            if path not in produced and (path.suffix in (".ipynb", ".json", *MARKED_SUFFIXES) or _is_notebook(path)):
                result.extra.append(path)
    return result
