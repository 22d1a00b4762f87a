"""A layer's screenshot page: the key cells of an executed notebook (code, run time, outputs, table preview).

Drawn from the notebook a real local job run wrote, so the image shows what a learner's run shows.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

from checkers.authoring.frame import KIT_TAG, framed_page, seconds_text, state_badge

if TYPE_CHECKING:
    from nbformat import NotebookNode

#: Cell tag that picks a cell for a layer screenshot (else: the cells that show a table).
SCREENSHOT_TAG = "screenshot"
_MARKER = re.compile(r"^[ \t]*#\s*(BEGIN|END) SOLUTION\b.*$\n?", re.MULTILINE)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

_NOTEBOOK_CSS = """
.cell { display: flex; border-top: 1px solid #eef1f4; }
.gutter { width: 54px; flex: none; text-align: right; padding: 12px 10px 0 0; font-family: "DejaVu Sans Mono",
          monospace; font-size: 11px; color: #8a98a0; }
.body { flex: 1; padding: 10px 16px 12px 0; min-width: 0; }
.src { border: 1px solid #e4e8ec; border-radius: 6px; background: #fafbfc; padding: 8px 12px; }
.src pre { margin: 0; font-family: "DejaVu Sans Mono", monospace; font-size: 12px; line-height: 1.45; }
.took { font-size: 11px; color: #8a98a0; margin: 6px 0 0 2px; }
.out pre { margin: 8px 0 0; font-family: "DejaVu Sans Mono", monospace; font-size: 12px; white-space: pre-wrap;
           color: #1b3139; }
.out pre.err { color: #b3261e; }
table.result { border-collapse: collapse; margin-top: 8px; font-size: 12px; }
table.result th { background: #f1f3f5; text-align: left; font-weight: bold; padding: 5px 10px;
                  border: 1px solid #e1e5e9; white-space: nowrap; }
table.result td { padding: 4px 10px; border: 1px solid #eceff2; white-space: nowrap;
                  font-family: "DejaVu Sans Mono", monospace; font-size: 11.5px; }
table.result td.n { color: #8a98a0; text-align: right; }
table.result td.null { color: #8a98a0; font-style: italic; }
.rows { font-size: 11px; color: #5f6f78; margin-top: 5px; }
"""
#: Longest text shown in one table cell before it is cut with an ellipsis.
MAX_CELL_CHARS = 30
#: How pandas' ``to_html`` writes a missing value.
NULL_TEXTS = frozenset({"null", "None", "NaT", "NaN", "<NA>"})


class _TableParser(HTMLParser):
    """Header, rows and footnote of the first table in a ``display`` output (pandas ``to_html`` shape)."""

    def __init__(self) -> None:
        super().__init__()
        self.header: list[str] = []
        self.rows: list[list[str]] = []
        self.note = ""
        self._row: list[str] | None = None
        self._text: list[str] | None = None
        self._in_head = False
        self._in_note = False
        self._tables = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._tables += 1
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and self._tables == 1:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._text = []
        elif tag == "p" and ("class", "day07-note") in attrs:
            self._in_note = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._text is not None:
            self._row.append("".join(self._text).strip())
            self._text = None
        elif tag == "tr" and self._row is not None:
            if self._in_head and not self.header:
                self.header = self._row
            elif not self._in_head:
                self.rows.append(self._row)
            self._row = None
        elif tag == "thead":
            self._in_head = False
        elif tag == "p":
            self._in_note = False

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)
        elif self._in_note:
            self.note += data


def _table_html(markup: str, *, max_rows: int) -> str | None:
    parser = _TableParser()
    parser.feed(markup)
    if not parser.header:
        return None

    def cell(text: str) -> str:
        if text in NULL_TEXTS:  # pandas writes a missing value as None / NaT / NaN; Databricks shows null
            return '<td class="null">null</td>'
        shown = text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"
        return f"<td>{html.escape(shown)}</td>"

    head = "".join(f"<th>{html.escape(h)}</th>" for h in ["", *parser.header])
    body = "".join(f'<tr><td class="n">{i}</td>{"".join(cell(c) for c in row)}</tr>'
                   for i, row in enumerate(parser.rows[:max_rows], 1))
    return (f'<table class="result"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
            f'<div class="rows">{html.escape(rows_note(len(parser.rows), max_rows, parser.note.strip()))}</div>')


def rows_note(rows: int, max_rows: int, display_note: str = "") -> str:
    """The footnote under a table preview: how many rows it shows, of how many ``display`` returned."""
    shown = min(rows, max_rows)
    cut = display_note.lower().startswith("showing the first")  # display itself stopped at its row limit
    of = f"the first {rows:,}" if cut else f"{rows:,}"
    if shown < rows:
        return f"Showing {shown} of {of} rows"
    return display_note if cut else f"{rows:,} row{'s' if rows != 1 else ''}"


def _is_table(output: Mapping[str, Any]) -> bool:
    data = output.get("data") or {}
    return output.get("output_type") in ("display_data", "execute_result") and "<table" in data.get("text/html", "")


def _highlight(source: str) -> str:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer, SqlLexer

    lines = source.splitlines()
    lexer: Any = PythonLexer()
    if lines and lines[0].strip().startswith("%sql"):
        lexer = SqlLexer()
    return highlight(source, lexer, HtmlFormatter(noclasses=True, nobackground=True, style="friendly"))


def _duration(cell: NotebookNode) -> float | None:
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not start or not end:
        return None
    try:
        return (datetime.fromisoformat(end.replace("Z", "+00:00"))
                - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()
    except ValueError:
        return None


def _outputs_html(outputs: Sequence[Mapping[str, Any]], *, max_rows: int) -> str:
    parts = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            text = "".join(out.get("text", ""))
            lines = text.rstrip("\n").splitlines()
            if len(lines) > 12:
                lines = [*lines[:11], f"… {len(lines) - 11} more lines"]
            parts.append(f"<pre>{html.escape(chr(10).join(lines))}</pre>")
        elif _is_table(out):
            table = _table_html(out["data"]["text/html"], max_rows=max_rows)
            if table:
                parts.append(table)
        elif kind in ("display_data", "execute_result") and "text/plain" in (out.get("data") or {}):
            parts.append(f"<pre>{html.escape(''.join(out['data']['text/plain']))}</pre>")
        elif kind == "error":
            text = _ANSI.sub("", f"{out.get('ename', '')}: {out.get('evalue', '')}")
            parts.append(f'<pre class="err">{html.escape(text)}</pre>')
    return "".join(parts)


def key_cells(notebook: NotebookNode, *, limit: int = 3) -> list[int]:
    """Indexes of the cells worth showing: tagged ``screenshot``, else the code cells that show a table."""
    code = [(i, c) for i, c in enumerate(notebook.cells) if c.cell_type == "code"]
    tagged = [i for i, c in code if SCREENSHOT_TAG in c.metadata.get("tags", [])]
    if tagged:
        return tagged[:limit]
    tables = [i for i, c in code if any(_is_table(o) for o in c.get("outputs", []))
              and not {"check", "setup"} & set(c.metadata.get("tags", []))]
    if tables:
        return tables[-limit:]
    return [i for i, c in code if "solution" in c.metadata.get("tags", [])][:limit]


def notebook_html(*, notebook: NotebookNode, name: str, cells: Sequence[int] | None = None, max_rows: int = 5,
                  state: str | None = None, duration: float | None = None) -> str:
    """The chosen cells of an executed notebook (code, run time, outputs) in a notebook-like frame."""
    chosen = list(cells) if cells is not None else key_cells(notebook)
    parts = []
    for index in chosen:
        cell = notebook.cells[index]
        source = _MARKER.sub("", cell.source).strip("\n")
        took = _duration(cell)
        took_text = f'<div class="took">Command took {seconds_text(took)}</div>' if took is not None else ""
        count = cell.get("execution_count")
        parts.append(f'<div class="cell"><div class="gutter">[{count if count else " "}]</div><div class="body">'
                     f'<div class="src">{_highlight(source)}</div>{took_text}'
                     f'<div class="out">{_outputs_html(cell.get("outputs", []), max_rows=max_rows)}</div>'
                     f"</div></div>")
    meta = f'<span class="muted">ran in {seconds_text(duration)}</span>' if duration is not None else ""
    badge = state_badge(state) if state else ""
    body = (f'<div class="frame"><div class="bar"><span class="name">{html.escape(name)}</span>'
            f'<span class="pill">Python</span>{badge}{meta}{KIT_TAG}</div>{"".join(parts)}</div>')
    return framed_page(body, css=_NOTEBOOK_CSS)
