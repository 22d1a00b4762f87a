"""Which cells of a notebook are the kit's own self-check cells, left unchanged, that a grading may skip.

Each lesson notebook follows an exercise with a self-check cell (tagged ``check`` in the solutions) that reads
the learner's DataFrames and prints ✅ or ❌. They help a learner; they never raise and never write a table.
The grader checks the tables itself, so running them again costs a grading about half its Spark time for
nothing. A cell is skipped only when its code is exactly a self-check cell the kit ships, and no other cell of
the notebook uses a name it defines: a learner's edited or reused cell always runs.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Sequence

from nbformat import NotebookNode

from checkers.config import PROJECT_ROOT

CHECK_TAG = "check"
SKIP_NOTE = ("ℹ️ Skipped by the grader: this is the kit's self-check cell, unchanged. The grader checks your tables "
             "itself. See docs/check.md#self-check-cells\n")


def _normal(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


@functools.lru_cache(maxsize=1)
def kit_check_sources() -> frozenset[str]:
    """The code of every self-check cell in the shipped solutions (the lessons' cells are copies of them)."""
    from checkers.notebooks.formats import read_notebook

    found = set()
    for path in sorted((PROJECT_ROOT / "solutions").glob("*.ipynb")):
        try:
            nb = read_notebook(path)
        except Exception:  # noqa: BLE001 - a kit without readable solutions skips nothing
            continue
        for cell in nb.cells:
            if cell.cell_type == "code" and CHECK_TAG in cell.get("metadata", {}).get("tags", []):
                found.add(_normal(cell.source))
    return frozenset(found)


def _defined_names(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {"<unparsable>"}
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        else:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    names.add(sub.id)
    return names


def skippable_cells(cells: Sequence[NotebookNode], *, known: frozenset[str] | None = None) -> set[int]:
    """Indexes of the cells a grading may skip: unchanged kit self-checks whose names nothing else uses."""
    known = kit_check_sources() if known is None else known
    code = {i: c.source for i, c in enumerate(cells) if c.cell_type == "code" and c.source.strip()}
    candidates = {i for i, source in code.items() if _normal(source) in known}
    skip = set()
    for i in candidates:
        others = "\n".join(source for j, source in code.items() if j != i)
        if not any(re.search(rf"\b{re.escape(name)}\b", others) for name in _defined_names(code[i])):
            skip.add(i)
    return skip
