"""Widget declarations as the notebook source writes them, to cross-check what the runtime reported.

The runtime reports each ``dbutils.widgets.*`` call as it happens, but code inside a kernel can send messages of
its own. Where the source declares a widget with literal arguments (``dbutils.widgets.dropdown("layer",
"bronze", ["bronze", "silver", "gold"])``), what the runtime reported must be one of those declarations. The
source is read before any of the submission's code runs, so nothing a notebook does can change it.

A declaration the source does not spell out (a loop, a helper notebook run with ``%run``, a variable name) cannot
be cross-checked, and is taken as reported. But a notebook whose every widget call is spelled out (no ``%run``, no
``%sql``, no helper module of its own, no ``exec``, ``dbutils.widgets`` never passed around) declares exactly the
widgets its source names: a reported widget it never declares was forged.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

from checkers.runtime.context import WidgetDecl

WIDGET_KINDS = ("text", "dropdown", "combobox", "multiselect")
_ARGS = {"text": ("name", "defaultValue", "label"),
         "dropdown": ("name", "defaultValue", "choices", "label"),
         "combobox": ("name", "defaultValue", "choices", "label"),
         "multiselect": ("name", "defaultValue", "choices", "label")}
"""The SDK's parameter names, in order, per declaration method."""
_UNKNOWN: Any = object()


@dataclass(frozen=True)
class WrittenDecl:
    """One ``dbutils.widgets.<kind>(...)`` call in the source whose name is a literal."""

    name: str
    kind: str
    cell: int
    """0-based index of the cell (as :func:`checkers.notebooks.formats.read_notebook` numbers them)."""
    default: str | None
    """The literal default, as text; None when the source computes it."""
    choices: tuple[str, ...] | None
    """The literal choices; None when the source computes them (or the kind has none)."""

    def describe(self) -> str:
        if self.kind == "none":
            return "nothing: the source never declares it"
        parts = [f"a {self.kind} widget"]
        if self.default is not None:
            parts.append(f"default {self.default!r}")
        if self.choices is not None:
            parts.append(f"choices {', '.join(self.choices)}")
        return ", ".join(parts) + f" (cell {self.cell + 1})"


class WrittenDecls(list[WrittenDecl]):
    """A notebook's written declarations; ``complete`` when the source has no way to declare one it does not spell
    out (see the module's docstring)."""

    complete: bool = False


_PLAIN_MAGICS = {"md", "markdown", "pip", "sh", "fs", "matplotlib", "time", "timeit", "who", "env"}
"""Magics that cannot declare a widget (``%sql`` can: ``CREATE WIDGET``; ``%run`` runs another notebook's code)."""
_KNOWN_PACKAGES = {
    "json", "os", "sys", "re", "datetime", "time", "math", "uuid", "random", "logging", "pathlib", "decimal", "typing",
    "collections", "functools", "itertools", "string", "textwrap", "pprint", "dataclasses", "enum", "hashlib", "csv",
    "io", "pyspark", "pandas", "numpy", "delta", "databricks", "matplotlib", "seaborn", "zoneinfo", "calendar"}
"""Imports that declare no widget; any other (a helper module of the learner's) might."""
_SQL_WIDGET = re.compile(r"\bCREATE\s+WIDGET\b", re.IGNORECASE)
_OPEN_CALLS = {"exec", "eval", "compile", "getattr", "__import__", "globals", "locals", "vars"}


def written_declarations(cells: list[Any]) -> WrittenDecls:
    """Every widget declaration with a literal name in the code cells of a notebook (never raises)."""
    from IPython.core.inputtransformer2 import TransformerManager

    transformer = TransformerManager()
    found = WrittenDecls()
    complete = True
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source") or ""
        if isinstance(source, list):
            source = "".join(source)
        try:
            tree = ast.parse(transformer.transform_cell(source))
        except (SyntaxError, ValueError, TypeError, RecursionError):
            complete = False  # a SQL or shell cell, or code that does not parse: nothing to cross-check there
            continue
        spelled = set()
        for node in ast.walk(tree):
            decl = _declaration(node, index)
            if decl is not None:
                found.append(decl)
                spelled.add(id(node.func.value))  # type: ignore[attr-defined]
            elif _reads_widgets(node):
                spelled.add(id(node.func.value))  # type: ignore[attr-defined]
        complete = complete and _spelled_out(tree, spelled)
    found.complete = complete
    return found


def _is_dbutils_widgets(node: ast.AST) -> bool:
    """The expression ``dbutils.widgets`` itself."""
    return (isinstance(node, ast.Attribute) and node.attr == "widgets" and isinstance(node.value, ast.Name)
            and node.value.id == "dbutils")


def _reads_widgets(node: ast.AST) -> bool:
    """``dbutils.widgets.get(...)`` and the other calls that declare nothing."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_dbutils_widgets(node.func.value)
            and node.func.attr in ("get", "getAll", "getArgument", "remove", "removeAll", "help"))


def _spelled_out(tree: ast.AST, declarations: set[int]) -> bool:
    """No way in this cell to declare a widget whose name the source does not spell out."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "widgets" and id(node) not in declarations:
            return False  # ``dbutils.widgets`` used other than in a spelled-out call (passed on, aliased, computed)
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if getattr(node, "level", 0) or any(n.split(".")[0] not in _KNOWN_PACKAGES for n in names):
                return False
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in _OPEN_CALLS or name == "run_cell" or (name == "run" and "notebook" in ast.dump(func)):
                return False
            if name in ("run_cell_magic", "run_line_magic") and not (
                    node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value in _PLAIN_MAGICS):
                return False
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL_WIDGET.search(node.value):
            return False  # ``spark.sql("CREATE WIDGET ...")`` declares one too
    return True


def _declaration(node: ast.AST, cell: int) -> WrittenDecl | None:
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return None
    kind = node.func.attr
    if kind not in WIDGET_KINDS or not _is_dbutils_widgets(node.func.value):
        return None
    if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
        return None  # *args / **kwargs: not spelled out
    values: dict[str, ast.AST] = dict(zip(_ARGS[kind], node.args, strict=False))
    values.update({k.arg: k.value for k in node.keywords if k.arg})
    name = _literal(values.get("name"))
    if not isinstance(name, str):
        return None
    default = _literal(values.get("defaultValue"))
    choices = _literal(values.get("choices")) if kind != "text" else None
    return WrittenDecl(
        name=name, kind=kind, cell=cell,
        default=None if default is _UNKNOWN else ("" if default is None else str(default)),
        choices=tuple(str(c) for c in choices) if isinstance(choices, (list, tuple)) else None)


def _literal(node: ast.AST | None) -> Any:
    if node is None:
        return _UNKNOWN
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _UNKNOWN


def _agrees(recorded: WidgetDecl, written: WrittenDecl) -> bool:
    if recorded.kind != written.kind:
        return False
    if written.default is not None and recorded.default != written.default:
        return False
    return written.choices is None or list(recorded.choices or []) == list(written.choices)


def conflict(recorded: WidgetDecl, written: list[WrittenDecl]) -> WrittenDecl | None:
    """The source declaration that ``recorded`` contradicts, or None when they agree (or cannot be compared). When
    the source is complete and never declares that name, a declaration of kind ``none`` stands for "never".

    The declarations of the same name in the cell the runtime reported it from are compared first (a notebook may
    remove a widget and declare it again differently, in another cell); when that cell declares none, all of the
    notebook's are. ``recorded`` must agree with at least one of them.
    """
    same = [w for w in written if w.name == recorded.name]
    if not same and getattr(written, "complete", False):
        return WrittenDecl(name=recorded.name, kind="none", cell=-1, default=None, choices=None)
    in_cell = [w for w in same if recorded.cell is not None and w.cell == recorded.cell]
    candidates = in_cell or same
    if not candidates or any(_agrees(recorded, w) for w in candidates):
        return None
    return candidates[-1]


def describe_recorded(decl: WidgetDecl) -> str:
    parts = [f"a {decl.kind} widget", f"default {decl.default!r}"]
    if decl.choices is not None:
        parts.append(f"choices {', '.join(decl.choices)}")
    return ", ".join(parts)
