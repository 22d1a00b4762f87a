"""What every page generator shares: the error it raises, markdown-safe table text, attribute docstrings.

Kept apart so the generators (CLI, job fields, checks, rubric, lessons) depend on this one module, not on each other.
"""

from __future__ import annotations

import ast
import functools
import inspect
from pathlib import Path

from checkers.errors import CheckersError


class DocsError(CheckersError):
    """The docs site cannot be built: a screenshot is missing, mkdocs is absent, a page cannot be generated."""


def table_cell(text: object) -> str:
    """Text safe inside a markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


@functools.cache
def _module_field_docs(path: str) -> dict[str, dict[str, str]]:
    """class name → attribute → docstring for every class in a source file (parsed once: the SDK's are big)."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    out: dict[str, dict[str, str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        docs = out.setdefault(node.name, {})
        for stmt, after in zip(node.body, node.body[1:], strict=False):
            if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                    and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)):
                docs[stmt.target.id] = after.value.value
    return out


def attribute_docs(cls: type) -> dict[str, str]:
    """Attribute docstrings of a dataclass (an SDK one, the kit's ``Settings``), read from its source: Python does
    not keep them at run time."""
    try:
        path = inspect.getsourcefile(cls)
    except TypeError:
        return {}
    return _module_field_docs(path).get(cls.__name__, {}) if path else {}
