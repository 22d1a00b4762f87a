"""Jupyter ``.ipynb`` and Databricks source-format ``.py`` notebooks, both as nbformat notebooks.

Databricks Git folders commit notebooks as ``.py`` source files; ``.ipynb`` exports carry Databricks metadata.
Both become one nbformat v4 notebook so everything downstream sees one shape.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode
from nbformat.warnings import MissingIDFieldWarning

from checkers.errors import NotebookFormatError

SOURCE_HEADER = "# Databricks notebook source"
CELL_SEPARATOR = "# COMMAND ----------"
MAGIC_PREFIX = "# MAGIC"
CELL_META_KEY = "application/vnd.databricks.v1+cell"
NOTEBOOK_META_KEY = "application/vnd.databricks.v1+notebook"
SQL_SOURCE_HEADER = "-- Databricks notebook source"
"""A SQL notebook's source file (``.sql``) in a Databricks Git folder: ``--`` comments instead of ``#``."""
NOTEBOOK_SUFFIXES = (".ipynb", ".py", ".sql")
_DBTITLE = re.compile(r"^(?:#|--) DBTITLE \d+,(?P<title>.*)$")


def saved_widgets(nb: Any) -> dict[str, str]:
    """The widgets a Databricks ``.ipynb`` export keeps in its metadata (made in the notebook's widget bar): name →
    default value. Importing the notebook brings them back, so a notebook may read one it never declares."""
    meta = (getattr(nb, "metadata", None) or {}).get(NOTEBOOK_META_KEY) or {}
    found: dict[str, str] = {}
    for name, widget in dict(meta.get("widgets") or {}).items():
        info = (widget or {}).get("widgetInfo") or (widget or {}).get("typedWidgetInfo") or {}
        value = info.get("defaultValue", (widget or {}).get("currentValue"))
        if isinstance(name, str) and value is not None:
            found[name] = str(value)
    return found


def find_notebook(folder: Path, stem: str) -> Path | None:
    """``<stem>.ipynb`` or ``<stem>.py`` in ``folder`` (the .ipynb first), or None."""
    for suffix in NOTEBOOK_SUFFIXES:
        candidate = folder / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


SKIPPED_FOLDERS = frozenset({"__pycache__", "spark-warehouse", "metastore_db", "node_modules", "day07_checks"})
"""Folders never searched for a learner's notebooks: caches, local Spark state, the kit's own feedback code."""


def folders_below(folder: Path, *, depth: int = 3) -> Iterator[tuple[int, Path]]:
    """``(distance, subfolder)`` for ``folder``'s subfolders down to ``depth``, nearest first, in name order.

    Where a submission keeps its files: hidden folders, links and :data:`SKIPPED_FOLDERS` are not entered."""
    level = [Path(folder)]
    for distance in range(1, depth + 1):
        below: list[Path] = []
        for parent in level:
            try:
                children = sorted(p for p in parent.iterdir() if p.is_dir() and not p.is_symlink())
            except OSError:
                continue
            below += [c for c in children if not c.name.startswith(".") and c.name not in SKIPPED_FOLDERS]
        yield from ((distance, child) for child in below)
        level = below


def find_notebooks_below(folder: Path, stem: str, *, depth: int = 3) -> list[Path]:
    """Every ``<stem>.ipynb`` / ``.py`` / ``.sql`` in ``folder``'s subfolders (not ``folder`` itself), nearest first.

    A Databricks bundle keeps notebooks in ``src/``, a zip often wraps everything in one folder: a notebook is
    the contract's by its name wherever it sits."""
    found: list[tuple[int, str, int, Path]] = []
    for distance, child in folders_below(folder, depth=depth):
        for rank, suffix in enumerate(NOTEBOOK_SUFFIXES):
            candidate = child / f"{stem}{suffix}"
            if candidate.is_file() and not candidate.is_symlink():
                found.append((distance, str(child), rank, candidate))
    return [path for *_, path in sorted(found)]


def read_notebook(path: Path) -> NotebookNode:
    """Read either format; a broken file raises :class:`NotebookFormatError` naming it and what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotebookFormatError("notebook file not found.", path=path) from None
    except UnicodeDecodeError as exc:
        raise NotebookFormatError(f"is not UTF-8 text ({exc.reason} at byte {exc.start}).", path=path,
                                  hint="Save the notebook as UTF-8.") from None
    except OSError as exc:
        raise NotebookFormatError(f"cannot be read: {exc.strerror}.", path=path) from None
    if path.suffix == ".ipynb":
        return parse_ipynb(text, path=path)
    if path.suffix in (".py", ".sql"):
        return parse_source(text, path=path)
    raise NotebookFormatError(f"has suffix '{path.suffix}'; notebooks are .ipynb files or Databricks source .py or "
                              ".sql files.", path=path)


def parse_ipynb(text: str, *, path: Path | str = "<notebook>") -> NotebookNode:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookFormatError(
            f"is not valid notebook JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.", path=path,
            hint="Open it in Jupyter or a text editor and fix the JSON, or export it again from Databricks.",
        ) from None
    if not isinstance(raw, dict) or "cells" not in raw:
        raise NotebookFormatError("is JSON but not a notebook (no 'cells' list).", path=path)
    try:
        with warnings.catch_warnings():
            # Databricks exports and hand-written JSON have no cell ids: normalize() adds them, silently.
            warnings.simplefilter("ignore", MissingIDFieldWarning)
            nb = nbformat.reads(text, as_version=4)
            _changes, normalized = nbformat.validator.normalize(nb)
            nb = nbformat.from_dict(normalized)
            nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several kinds for a malformed document
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NotebookFormatError(f"is not a valid Jupyter notebook: {first_line}", path=path,
                                  hint="Export it again, or open and save it in Jupyter.") from None
    databricks = nb.metadata.get(NOTEBOOK_META_KEY)
    if isinstance(databricks, dict) and str(databricks.get("language", "")).lower() == "sql":
        for cell in nb.cells:  # a SQL notebook's export: its own cells are plain SQL, other languages say so
            if cell.cell_type == "code" and cell.source.strip() and not cell.source.lstrip().startswith("%"):
                cell.source = "%sql\n" + cell.source
    return nb


def parse_source(text: str, *, path: Path | str = "<notebook>") -> NotebookNode:
    """Databricks source format → notebook; ``# MAGIC`` lines are unwrapped, ``%md`` cells become markdown.

    A ``.sql`` source file (``-- Databricks notebook source``) is a SQL notebook: its plain cells become ``%sql``
    cells, and its ``-- MAGIC %python`` cells Python ones, so one kernel runs both."""
    lines = text.splitlines()
    sql = Path(str(path)).suffix == ".sql"
    header = SQL_SOURCE_HEADER if sql else SOURCE_HEADER
    if not lines or lines[0].strip() != header:
        raise NotebookFormatError(
            f"is not a Databricks notebook: its first line must be '{header}'.", path=path,
            hint="Export the notebook from Databricks as 'Source file', or save it as .ipynb.")
    separator = "-- COMMAND ----------" if sql else CELL_SEPARATOR
    chunks: list[list[str]] = [[]]
    for line in lines[1:]:
        if line.strip() == separator:
            chunks.append([])
        else:
            chunks[-1].append(line)
    nb = nbformat.v4.new_notebook()
    nb.metadata[NOTEBOOK_META_KEY] = {"notebookName": Path(str(path)).stem, "language": "sql" if sql else "python"}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for chunk in chunks:
        cell = _source_cell(chunk, magic="-- MAGIC" if sql else MAGIC_PREFIX)
        if cell is not None:
            if sql and cell.cell_type == "code" and not cell.source.lstrip().startswith("%"):
                cell.source = "%sql\n" + cell.source
            nb.cells.append(cell)
    return nb


def _source_cell(chunk: list[str], *, magic: str = MAGIC_PREFIX) -> NotebookNode | None:
    while chunk and not chunk[0].strip():
        chunk = chunk[1:]
    while chunk and not chunk[-1].strip():
        chunk = chunk[:-1]
    title = None
    if chunk and (match := _DBTITLE.match(chunk[0])):
        title = match.group("title")
        chunk = chunk[1:]
    if not chunk:
        return None
    if all(line.startswith(magic) for line in chunk):
        body = [line[len(magic) + 1:] if line.startswith(magic + " ") else line[len(magic):] for line in chunk]
        first = body[0].strip()
        if first in ("%md", "%md-sandbox") or first.startswith(("%md ", "%md-sandbox ")):
            md = [body[0].strip().split(None, 1)[1]] if " " in body[0].strip() else []
            cell = nbformat.v4.new_markdown_cell("\n".join(md + body[1:]))
        else:
            cell = nbformat.v4.new_code_cell("\n".join(body))
    else:
        cell = nbformat.v4.new_code_cell("\n".join(chunk))
    if title is not None:
        cell.metadata[CELL_META_KEY] = {"title": title}
    return cell


def to_source(nb: NotebookNode) -> str:
    """Notebook → Databricks source format (what a Databricks Git folder commits)."""
    out = [SOURCE_HEADER]
    for index, cell in enumerate(nb.cells):
        if cell.cell_type not in ("code", "markdown"):
            continue
        if index:
            out += ["", CELL_SEPARATOR, ""]
        title = cell.get("metadata", {}).get(CELL_META_KEY, {}).get("title")
        if title:
            out.append(f"# DBTITLE 1,{title}")
        source = cell.source
        if cell.cell_type == "markdown":
            out += [MAGIC_PREFIX + (" " + line if line else "") for line in ["%md", *source.splitlines()]]
        elif source.lstrip().startswith("%"):
            out += [MAGIC_PREFIX + (" " + line if line else "") for line in source.splitlines()]
        else:
            out += source.splitlines()
    return "\n".join(out) + "\n"
