"""Databricks archives (``.dbc``): what Databricks' "Export → DBC Archive" makes of a folder of notebooks.

A ``.dbc`` is a zip whose members are notebooks as JSON (``NAME.python``, ``NAME.sql``, ``NAME.scala``, ``NAME.r``):
a list of commands, each one cell's text, in the order of their ``position``. A magic (``%md``, ``%sql``, ``%run``)
starts a command's text as it does in the notebook editor; in a SQL notebook a command without one is SQL.

Each Python or SQL notebook becomes a source-format ``.py`` notebook where the member was: the shape the rest of the
kit reads (:mod:`checkers.notebooks.formats`). Scala and R notebooks cannot run here; they are left out with a note.
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from checkers.notebooks.formats import NOTEBOOK_META_KEY, to_source

DBC_SUFFIX = ".dbc"
MEMBER_LANGUAGES = {".python": "python", ".sql": "sql", ".scala": "scala", ".r": "r"}
"""A DBC member's suffix → its notebook's language."""
MAX_MEMBER_BYTES = 20 * 1024 * 1024


def read_dbc_member(path: Path) -> dict[str, Any] | None:
    """The notebook a DBC member holds, or None when the file is not one (a plain ``.sql`` file, say)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_MEMBER_BYTES + 1)
        if data[:2] == b"\x1f\x8b":  # some exports compress their members; read no more than a plain one
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as unzipped:
                data = unzipped.read(MAX_MEMBER_BYTES + 1)
        if len(data) > MAX_MEMBER_BYTES:
            return None
        notebook = json.loads(data.decode("utf-8-sig"))
    except (OSError, ValueError, EOFError, gzip.BadGzipFile):
        return None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("commands"), list):
        return None
    return notebook


def dbc_notebook(notebook: dict[str, Any], *, name: str) -> NotebookNode:
    """A DBC member's notebook (its JSON) as an nbformat notebook of Python and magic cells."""
    language = str(notebook.get("language") or "python").lower()
    nb = nbformat.v4.new_notebook()
    nb.metadata[NOTEBOOK_META_KEY] = {"notebookName": str(notebook.get("name") or name), "language": language}
    commands = [c for c in notebook["commands"] if isinstance(c, dict) and isinstance(c.get("command"), str)]
    commands.sort(key=_position)
    for command in commands:
        text = command["command"].strip("\n")
        if not text.strip():
            continue
        head = text.lstrip().split(None, 1)
        if head[0] in ("%md", "%md-sandbox"):
            nb.cells.append(nbformat.v4.new_markdown_cell(text.lstrip()[len(head[0]):].lstrip(" ").lstrip("\n")))
        elif language == "sql" and not text.lstrip().startswith("%"):
            nb.cells.append(nbformat.v4.new_code_cell("%sql\n" + text))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(text))
    return nb


def _position(command: dict[str, Any]) -> float:
    position = command.get("position")
    return float(position) if isinstance(position, (int, float)) else 0.0


def convert_dbc_members(folder: Path) -> list[str]:
    """Replace each DBC notebook member under ``folder`` (an unpacked archive) by its ``.py`` source notebook.

    Returns notes: what was converted, and what was left out (another language, a name already taken).
    """
    converted, notes = [], []
    for path in sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in MEMBER_LANGUAGES and p.is_file()):
        notebook = read_dbc_member(path)
        if notebook is None:
            continue  # a plain file that happens to end in .sql or .r
        rel = path.relative_to(folder)
        language = str(notebook.get("language") or MEMBER_LANGUAGES[path.suffix.lower()]).lower()
        if language not in ("python", "sql"):
            notes.append(f"{rel} is a {language.capitalize()} notebook: only Python and SQL notebooks run here; "
                         "left out")
            path.unlink()
            continue
        target = path.with_suffix(".py")
        if target.exists():
            notes.append(f"{rel} was left out: {target.name} is already beside it")
            path.unlink()
            continue
        target.write_text(to_source(dbc_notebook(notebook, name=path.stem)), encoding="utf-8")
        path.unlink()
        converted.append(str(rel.with_suffix(".py")))
    if converted:
        notes.insert(0, f"Databricks archive: {len(converted)} notebook{'s' if len(converted) != 1 else ''} read "
                        f"from it ({', '.join(converted)})")
    return notes
