"""Widget declarations as the notebook source writes them, to cross-check what the runtime reported.

The runtime reports each ``dbutils.widgets.*`` call as it happens, but code inside a kernel can send messages of
its own. Where the source declares a widget with literal arguments (``dbutils.widgets.dropdown("layer",
"bronze", ["bronze", "silver", "gold"])``), what the runtime reported must be one of those declarations. The
source is read before any of the submission's code runs, so nothing a notebook does can change it.

A declaration the source does not spell out (a loop, a helper notebook run with ``%run``, a variable name) cannot
be cross-checked, and is taken as reported.
"""

from __future__ import annotations

import ast
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
        parts = [f"a {self.kind} widget"]
        if self.default is not None:
            parts.append(f"default {self.default!r}")
        if self.choices is not None:
            parts.append(f"choices {', '.join(self.choices)}")
        return ", ".join(parts) + f" (cell {self.cell + 1})"


def written_declarations(cells: list[Any]) -> list[WrittenDecl]:
    """Every widget declaration with a literal name in the code cells of a notebook (never raises)."""
    from IPython.core.inputtransformer2 import TransformerManager

    transformer = TransformerManager()
    found: list[WrittenDecl] = []
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source") or ""
        if isinstance(source, list):
            source = "".join(source)
        try:
            tree = ast.parse(transformer.transform_cell(source))
        except (SyntaxError, ValueError, TypeError):
            continue  # a SQL or shell cell, or code that does not parse: nothing to cross-check there
        for node in ast.walk(tree):
            decl = _declaration(node, index)
            if decl is not None:
                found.append(decl)
    return found


def _declaration(node: ast.AST, cell: int) -> WrittenDecl | None:
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return None
    kind = node.func.attr
    owner = node.func.value
    if kind not in WIDGET_KINDS or not (isinstance(owner, ast.Attribute) and owner.attr == "widgets"
                                        and isinstance(owner.value, ast.Name) and owner.value.id == "dbutils"):
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
    """The source declaration that ``recorded`` contradicts, or None when they agree (or cannot be compared).

    The declarations of the same name in the cell the runtime reported it from are compared first (a notebook may
    remove a widget and declare it again differently, in another cell); when that cell declares none, all of the
    notebook's are. ``recorded`` must agree with at least one of them.
    """
    same = [w for w in written if w.name == recorded.name]
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
