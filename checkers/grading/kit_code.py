"""Tables built with the kit's own solution code are not the learner's work, so they earn no points.

The lessons ship ``day07_checks/`` next to the notebooks for the check cells: it holds the solution's steps
(``reference``) and the grader's own modules (``_grader``). The kernel can also import the kit (``checkers``).
A notebook whose own code calls either gets correct tables without doing the exercise. The grader reads every
notebook and module of the submission before any of it runs (so nothing the run writes can hide a use), finds
those uses, and fails the checks of the layers they feed. The check cells' own ``day07_checks.feedback(...)`` calls
are not uses: they print feedback and never write a table.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import io
import re
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from checkers.grading.checks.run import TRIAL_CHECKS
from checkers.grading.result import CheckResult

KIT_MODULES = {"day07_checks": ("reference", "_grader"), "checkers": ("grading", "feedback")}
"""Package → its modules that hold the solution or the grader."""


def _mention(package: str, modules: tuple[str, ...]) -> str:
    return (rf"\b{package}\b(?:\s*[./]\s*|[ \t]+import[ \t]+(?:\([\w\s,]*?|[\w \t,]*?))"
            rf"\b(?:{'|'.join(modules)})\b")


SOLUTION_CODE = re.compile("|".join(_mention(package, modules) for package, modules in KIT_MODULES.items()))
"""A mention of the kit's solution code: ``day07_checks.reference``, ``from day07_checks import _grader``,
``day07_checks/reference.py``, ``checkers.grading...``, ``from checkers import feedback``; also inside a string
(``importlib.import_module("day07_checks.reference")``). Comments do not count."""

LAYER_GROUPS = {"00_widgets": "widgets", "01_bronze": "bronze", "02_silver": "silver", "03_gold": "gold"}
"""A contract notebook → the check group its tables (or its echo) are graded in."""
SCANNED_SUFFIXES = (".ipynb", ".py", ".sql")
MAX_SCANNED_BYTES = 20 * 1024 * 1024
"""As big as a file the private copy keeps: padding a notebook does not hide it."""
MAX_SCANNED_FILES = 1000
"""A submission is a handful of files; a copied library folder is not read to the end (the graded notebooks always
are, first)."""


@dataclass(frozen=True)
class KitCodeUse:
    """One place where a submission's own code reaches for the kit's solution code."""

    file: str
    """The file, relative to the submission folder."""
    cell: int | None
    """1-based code cell of a notebook; None for a plain module."""
    line: str
    """The line that does it, trimmed."""

    def where(self) -> str:
        return f"{self.file}, cell {self.cell}" if self.cell is not None else self.file


def without_comments(source: str) -> str:
    """Python source with its comments blanked; text that does not tokenize stays as it is."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return source
    lines = source.splitlines(keepends=True)
    for token in reversed(tokens):
        if token.type == tokenize.COMMENT:
            row, col = token.start
            line = lines[row - 1]
            lines[row - 1] = line[:col] + " " * (token.end[1] - col) + line[token.end[1]:]
    return "".join(lines)


SHOWING_CALLS = frozenset({"print", "display", "displayHTML", "info", "warning", "debug", "error", "write"})
"""Calls whose text is only shown: a string mentioning the kit there is not a use."""


def _kit_module(dotted: str) -> bool:
    parts = dotted.split(".")
    return len(parts) > 1 and parts[1] in KIT_MODULES.get(parts[0], ())


def _dotted(node: ast.AST) -> str:
    names: list[str] = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        names.append(node.id)
        return ".".join(reversed(names))
    return ""


def _python_use(tree: ast.AST) -> int | None:
    """The line of the first use in parsed Python: an import, an attribute of the kit's packages, or a string
    naming them (``import_module("day07_checks.reference")``, ``open("day07_checks/reference.py")``) that is
    neither a docstring nor text only shown."""
    shown: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            shown.add(id(node.value))  # a docstring, or a bare string
        elif isinstance(node, ast.Call) and _dotted(node.func).rsplit(".", 1)[-1] in SHOWING_CALLS:
            shown.update(id(arg) for arg in ast.walk(node) if isinstance(arg, ast.Constant))
    aliases = {alias.asname: alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
               for alias in node.names if alias.asname and alias.name in KIT_MODULES}  # import day07_checks as d
    lines: list[int] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            hit = any(_kit_module(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            hit = _kit_module(module) or any(_kit_module(f"{module}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Attribute):
            head, _, rest = _dotted(node).partition(".")
            hit = _kit_module(f"{aliases.get(head, head)}.{rest}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            hit = id(node) not in shown and SOLUTION_CODE.search(node.value) is not None
        else:
            continue
        if hit:
            lines.append(node.lineno)
    return min(lines) if lines else None


def _line(text: str, number: int) -> str:
    return " ".join(text.splitlines()[number - 1].split())[:120]


def find_uses(source: str) -> str | None:
    """The first line of ``source`` (a cell or a module) that uses the kit's solution code, or None.

    Python is read as Python (comments, docstrings and printed text do not count); a magic line (``%run
    ./day07_checks/reference``) and code that does not parse are searched as text, comments aside."""
    text = without_comments(source)
    lines = text.splitlines()
    for index, line in enumerate(lines, start=1):
        if line.lstrip().startswith(("%", "!")) and SOLUTION_CODE.search(line):
            return _line(text, index)
    python = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)
    found: int | None
    try:
        found = _python_use(ast.parse(python))
    except (SyntaxError, ValueError, RecursionError):
        match = SOLUTION_CODE.search(text)
        found = None if match is None else text.count("\n", 0, match.start()) + 1
    return None if found is None else _line(text, found)


def code_cells(path: Path) -> list[tuple[int | None, str]]:
    """``(cell number, code)`` of a notebook file; a plain module is one unnumbered piece."""
    from checkers.errors import CheckersError
    from checkers.notebooks.formats import read_notebook

    try:
        if path.stat().st_size > MAX_SCANNED_BYTES:
            return []
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    if path.suffix == ".ipynb" or text.lstrip().startswith(("# Databricks notebook source",
                                                             "-- Databricks notebook source")):
        try:
            nb = read_notebook(path)
        except CheckersError:
            return []
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        return list(enumerate(code, start=1))
    return [(None, text)] if path.suffix == ".py" else []


def scan_submission(folder: Path, *, first: Iterable[Path | None] = ()) -> list[KitCodeUse]:
    """Every file of the submission (the kit's ``day07_checks/`` aside) that uses the kit's solution code: the
    ``first`` files (the graded notebooks), then the others, up to :data:`MAX_SCANNED_FILES`."""
    from checkers.notebooks.formats import folders_below

    bases = [folder, *(child for _, child in folders_below(folder, depth=4) if "site-packages" not in child.parts)]
    others = [p for base in bases for p in sorted(base.iterdir())
              if p.suffix in SCANNED_SUFFIXES and p.is_file() and not p.is_symlink()]
    wanted = [p for p in first if p is not None and p.is_file()]
    files = list(dict.fromkeys([*wanted, *others[:MAX_SCANNED_FILES]]))
    uses = [use for path in files if (use := _scan_file(path, folder)) is not None]
    return sorted(uses, key=lambda use: use.file)


COPIED_LINES = 12
"""Lines of the kit's grader a file must hold (and half of its own) to be a copy of it: the solutions and every
submission written for this repository's tests share at most 2 with it; a renamed copy shares nearly all."""
_NOT_SAYING = ("#", "import ", "from ", '"""', "'" * 3, "--")


def significant_lines(code: str) -> set[str]:
    """The lines that say something (imports, comments, docstring fences and short lines aside), trimmed."""
    return {s for line in code.splitlines() if len(s := line.strip()) >= 16 and not s.startswith(_NOT_SAYING)}


@functools.cache
def grader_lines() -> frozenset[str]:
    """The significant lines of the kit's grading package: the grader's expectations and checks."""
    package = Path(__file__).resolve().parent
    lines: set[str] = set()
    for path in package.rglob("*.py"):
        with contextlib.suppress(OSError):
            lines |= significant_lines(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(lines)


def _copy_of_the_grader(where: str, pieces: list[tuple[int | None, str]]) -> KitCodeUse | None:
    """A file that is a copy of the kit's grader under another name (a vendored ``day07_checks/_grader``)."""
    own = significant_lines("\n".join(code for _, code in pieces))
    shared = own & grader_lines()
    if len(shared) >= COPIED_LINES and 2 * len(shared) >= len(own):
        return KitCodeUse(file=where, cell=None,
                          line=f"a copy of the kit's grader code ({len(shared)} of its {len(own)} lines)")
    return None


def _scan_file(path: Path, folder: Path) -> KitCodeUse | None:
    """The first use in one file; a file the reader chokes on is searched as plain text instead."""
    where = path.relative_to(folder).as_posix()
    try:
        pieces = code_cells(path)
        for number, code in pieces:
            line = find_uses(code)
            if line is not None:
                return KitCodeUse(file=where, cell=number, line=line)
        return _copy_of_the_grader(where, pieces)
    except Exception:  # noqa: BLE001 - never a crash of the grader, and never a way to hide a use
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        match = SOLUTION_CODE.search(text)
        return None if match is None else KitCodeUse(file=where, cell=None, line=match.group(0))


def task_stems(loaded: Any) -> set[str]:
    """The stems of the notebooks a loaded job runs (none when it did not load)."""
    if loaded is None:
        return set()
    from checkers.jobs.plan import runs_notebook

    return {PurePosixPath(str(nb.notebook_path)).stem for task in loaded.tasks.values()
            if (nb := runs_notebook(task)) is not None and nb.notebook_path}


def _affected(uses: Iterable[KitCodeUse], *, folder: Path, notebooks: dict[str, Path | None],
              task_stems: set[str]) -> dict[str, KitCodeUse]:
    """Check group or check id → the use that takes its points. A contract notebook counts for its own group; any
    other file for the contract notebooks that name it (``%run ./helpers``, ``import helpers``) and, when the job
    runs it as a task, for the quality checks."""
    graded = {path.relative_to(folder).as_posix(): stem for stem, path in notebooks.items() if path is not None}
    sources = {stem: "\n".join(code for _, code in code_cells(path))
               for stem, path in notebooks.items() if path is not None and stem in LAYER_GROUPS}
    affected: dict[str, KitCodeUse] = {}
    for use in uses:
        stem = graded.get(use.file)
        if stem in LAYER_GROUPS:
            affected.setdefault(LAYER_GROUPS[stem], use)
            continue
        # A module beside the notebooks is named by its name; one in a folder by that folder (``import mylib`` of
        # mylib/grading/x.py) or by an import of its own name (``files``, ``data``: words any notebook has).
        relative = PurePosixPath(use.file)
        name = relative.stem
        by_name = rf"\b{re.escape(name)}\b" if len(relative.parts) == 1 else (
            rf"\b{re.escape(relative.parts[0])}\b|(?:import|from)\s+(?:[\w.]+\.)?{re.escape(name)}\b"
            rf"|%run\s+\S*/{re.escape(name)}\b")
        for layer, text in sources.items():
            if re.search(by_name, text):
                affected.setdefault(LAYER_GROUPS[layer], use)
        if stem is not None or name in task_stems:  # the job's other notebooks: its data-quality task
            for check in TRIAL_CHECKS:
                affected.setdefault(check, use)
    return affected


def discount(results: list[CheckResult], uses: list[KitCodeUse], *, folder: Path, notebooks: dict[str, Path | None],
             task_stems: set[str]) -> list[CheckResult]:
    """``results`` with every passed check of a layer that uses the kit's solution code failed, saying where."""
    if not uses:
        return results
    affected = _affected(uses, folder=folder, notebooks=notebooks, task_stems=task_stems)
    out = []
    for result in results:
        use = affected.get(result.id) or affected.get(result.group)
        if use is None or result.status != "passed":
            out.append(result)
            continue
        out.append(replace(result, status="failed", score=0,
                           message=f"not counted: {use.where()} uses the kit's solution code (`{use.line}`), so "
                                   f"this part is the kit's work, not yours. What the check saw: {result.message}",
                           hint="Write this step in your own code. day07_checks/ is there for the check cells' "
                                "feedback; it is not part of your pipeline. See docs/contract.md#your-own-code"))
    return out
