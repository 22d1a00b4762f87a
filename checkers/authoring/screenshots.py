"""The docs' screenshots, drawn from real runs and captured with headless Chromium.

Nothing here is hand-made: the widget bar is a capture of a real JupyterLab running ``00_widgets``' widget cells
(:mod:`checkers.authoring.lab`);
the layer images come from the executed notebooks of a real local job run, the task graph
from the job file, and the timeline from that run's record. Those three are the kit's own drawings (an HTML page
this module writes, inline CSS and SVG, nothing fetched, captured by Chromium), and each says so in its header:
they are not pictures of the Databricks UI. A change to the solutions shows up in the docs on the next run.
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checkers.errors import CheckersError

if TYPE_CHECKING:
    from nbformat import NotebookNode

    from checkers.jobs.load import LoadedJob
    from checkers.jobs.record import RunRecord

#: Chromium flags: headless, no sandbox (containers), and nothing that phones home.
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync")
#: Where Debian puts Chromium; ``DAY07_CHROMIUM`` overrides it.
DEFAULT_CHROMIUM = "/usr/bin/chromium"
#: Image name → what it shows.
IMAGES = {
    "widgets.png": "the widget bar of 00_widgets in a real JupyterLab, a layer picked in it",
    "bronze_layer.png": "01_bronze's key cells and table preview, from a real job run",
    "silver_layer.png": "02_silver's key cells and table preview, from a real job run",
    "gold_layer.png": "03_gold's key cells and table preview, from a real job run",
    "job_workflow.png": "the task graph of solutions/job.yml",
    "job_workflow_2.png": "a finished local run of the job: states and durations on a timeline",
}
#: Schema the docs run writes to: the one the docs teach, so the images show what a learner sees. It holds what
#: ``day07 run`` of the solutions writes there anyway (the solutions on the sample data).
DOCS_SCHEMA = "day07"
#: The header label of the kit's own drawings: they are drawn from local runs, not captured from Databricks.
KIT_LABEL = "Day 07 kit · local run, not the Databricks UI"
#: Cell tag that picks a cell for a layer screenshot (else: the cells that show a table).
SCREENSHOT_TAG = "screenshot"
_LAYERS = {"bronze_layer.png": "01_bronze", "silver_layer.png": "02_silver", "gold_layer.png": "03_gold"}
_MARKER = re.compile(r"^[ \t]*#\s*(BEGIN|END) SOLUTION\b.*$\n?", re.MULTILINE)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class ScreenshotError(CheckersError):
    """A screenshot cannot be made: no Chromium, no Playwright, or the run it comes from failed."""


@dataclass(frozen=True)
class Shot:
    """One captured image."""

    path: Path
    """The PNG written."""
    width: int
    """Pixel width of the PNG."""
    height: int
    """Pixel height of the PNG."""
    source: str
    """The real thing it was drawn from (a notebook run, a job file, a run record)."""
    blocked: tuple[str, ...] = ()
    """Requests the page tried to make to other hosts, refused (a drawing must need nothing from outside)."""


# ------------------------------------------------------------------------------------------------ page frame

_BASE_CSS = """
* { box-sizing: border-box; }
body { margin: 0; background: #ffffff; font-family: "DejaVu Sans", Arial, sans-serif; color: #1b3139; }
#shot { display: inline-block; padding: 20px; background: #f6f7f9; }
.frame { background: #fff; border: 1px solid #d8dde3; border-radius: 8px; overflow: hidden; }
.bar { display: flex; align-items: center; gap: 10px; padding: 10px 16px; border-bottom: 1px solid #e4e8ec;
       background: #fbfcfd; font-size: 14px; }
.bar .name { font-weight: bold; font-size: 15px; }
.pill { font-size: 11px; padding: 2px 8px; border-radius: 10px; background: #eef1f4; color: #4a5a64; }
.state { font-size: 12px; padding: 2px 10px; border-radius: 10px; font-weight: bold; }
.muted { color: #5f6f78; font-size: 12px; }
.kit { margin-left: auto; font-size: 11px; color: #8a98a0; font-style: italic; }
"""

_STATE_COLOURS = {"SUCCESS": ("#1f7a3a", "#e3f4e8"), "FAILED": ("#b3261e", "#fbe4e2"),
                  "TIMEDOUT": ("#b3261e", "#fbe4e2"), "UPSTREAM_FAILED": ("#b35c00", "#fff0dc"),
                  "UPSTREAM_CANCELED": ("#6b6b6b", "#eeeeee"), "CANCELED": ("#6b6b6b", "#eeeeee"),
                  "EXCLUDED": ("#5f6f78", "#eef1f4"), "DISABLED": ("#5f6f78", "#eef1f4"),
                  "SUCCESS_WITH_FAILURES": ("#8a6d00", "#fff6d6")}
_STATE_WORDS = {"SUCCESS": "Succeeded", "FAILED": "Failed", "TIMEDOUT": "Timed out",
                "UPSTREAM_FAILED": "Upstream failed", "UPSTREAM_CANCELED": "Upstream canceled",
                "CANCELED": "Canceled", "EXCLUDED": "Excluded", "DISABLED": "Disabled",
                "SUCCESS_WITH_FAILURES": "Succeeded with failures"}


def _state_badge(state: str | None) -> str:
    text = _STATE_WORDS.get(state or "", state or "Running")
    fg, bg = _STATE_COLOURS.get(state or "", ("#1d5fa8", "#e3eefb"))
    return f'<span class="state" style="color:{fg};background:{bg}">{html.escape(text)}</span>'


_KIT = f'<span class="kit">{html.escape(KIT_LABEL)}</span>'


def _page(body: str, *, css: str = "") -> str:
    """A complete, self-contained HTML page whose ``#shot`` element is what gets captured."""
    return (f'<!doctype html><html><head><meta charset="utf-8"><style>{_BASE_CSS}{css}</style></head>'
            f'<body><div id="shot">{body}</div></body></html>')


def _seconds_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


# ------------------------------------------------------------------------------------------------ notebooks

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
        took_text = f'<div class="took">Command took {_seconds_text(took)}</div>' if took is not None else ""
        count = cell.get("execution_count")
        parts.append(f'<div class="cell"><div class="gutter">[{count if count else " "}]</div><div class="body">'
                     f'<div class="src">{_highlight(source)}</div>{took_text}'
                     f'<div class="out">{_outputs_html(cell.get("outputs", []), max_rows=max_rows)}</div>'
                     f"</div></div>")
    meta = f'<span class="muted">ran in {_seconds_text(duration)}</span>' if duration is not None else ""
    badge = _state_badge(state) if state else ""
    body = (f'<div class="frame"><div class="bar"><span class="name">{html.escape(name)}</span>'
            f'<span class="pill">Python</span>{badge}{meta}{_KIT}</div>{"".join(parts)}</div>')
    return _page(body, css=_NOTEBOOK_CSS)


# ------------------------------------------------------------------------------------------------ job graph

_GRAPH_CSS = """
.facts { display: flex; flex-wrap: wrap; gap: 6px 22px; padding: 10px 16px; border-bottom: 1px solid #eef1f4;
         font-size: 12px; color: #44545e; }
.facts b { color: #1b3139; }
.graph { padding: 18px 16px 14px; }
"""
NODE_W, NODE_H, GAP_X, GAP_Y = 210, 66, 74, 26


@dataclass(frozen=True)
class GraphNode:
    """One task placed on the graph."""

    key: str
    """The task key."""
    kind: str
    """``notebook``, ``condition`` or another task type."""
    detail: str
    """Second line: the notebook, or the condition in words."""
    column: int
    """Longest chain of dependencies before it (0: no dependencies)."""
    row: int
    """Position within its column."""
    retries: int
    """``max_retries`` (0 when unset)."""


@dataclass(frozen=True)
class GraphEdge:
    """``upstream`` must finish before ``downstream`` starts."""

    upstream: str
    downstream: str
    outcome: str | None
    """For a dependency on a condition task: the branch, "true" or "false"."""


_OP_SIGNS = {"EQUAL_TO": "==", "NOT_EQUAL": "!=", "GREATER_THAN": ">", "GREATER_THAN_OR_EQUAL": ">=",
             "LESS_THAN": "<", "LESS_THAN_OR_EQUAL": "<="}


def job_graph(job: LoadedJob) -> tuple[list[GraphNode], list[GraphEdge]]:
    """Tasks in columns by dependency depth, and their edges; a cycle is a :class:`ScreenshotError`."""
    tasks = job.tasks
    edges = [GraphEdge(dep.task_key, key, dep.outcome) for key, task in tasks.items()
             for dep in task.depends_on or [] if dep.task_key in tasks]
    depth: dict[str, int] = {}

    def visit(key: str, trail: tuple[str, ...]) -> int:
        if key in trail:
            raise ScreenshotError(f"The job's tasks form a cycle through `{key}`, so there is no graph to draw.",
                                  hint="Run `day07 job validate` on the job file.")
        if key not in depth:
            ups = [e.upstream for e in edges if e.downstream == key]
            depth[key] = 1 + max((visit(u, (*trail, key)) for u in ups), default=-1)
        return depth[key]

    rows: dict[int, int] = {}
    nodes = []
    for key, task in tasks.items():
        column = visit(key, ())
        if task.notebook_task is not None:
            kind, detail = "notebook", Path(task.notebook_task.notebook_path).name
        elif task.condition_task is not None:
            cond = task.condition_task
            op = cond.op.value if cond.op else ""
            kind, detail = "condition", f"{_short_ref(cond.left or '')} {_OP_SIGNS.get(op, op)} {cond.right}"
        else:
            kind = next((f for f in task.as_dict() if f.endswith("_task")), "task")
            detail = kind.replace("_", " ")
        nodes.append(GraphNode(key, kind, detail, column, rows.get(column, 0), task.max_retries or 0))
        rows[column] = rows.get(column, 0) + 1
    return nodes, edges


def _short_ref(text: str) -> str:
    """``{{tasks.bronze.values.bronze_rows}}`` reads better as ``bronze.bronze_rows`` on a small box."""
    return re.sub(r"\{\{\s*tasks\.([\w-]+)\.values\.([\w-]+)\s*\}\}", r"\1.\2", text)


def _node_svg(node: GraphNode, x: float, y: float) -> str:
    colour = {"notebook": "#1d5fa8", "condition": "#8a4fc2"}.get(node.kind, "#5f6f78")
    icon = ('<path d="M{0} {1} h12 v16 h-12 z M{2} {3} h6 M{2} {4} h6" fill="none" stroke="{5}" '
            'stroke-width="1.6"/>').format(x + 16, y + 16, x + 19, y + 21, y + 26, colour)
    if node.kind == "condition":
        icon = (f'<path d="M{x + 22} {y + 14} l9 10 l-9 10 l-9 -10 z" fill="none" stroke="{colour}" '
                f'stroke-width="1.6"/>')
    label = "If/else condition" if node.kind == "condition" else node.kind.replace("_", " ").capitalize()
    retry = (f'<text x="{x + NODE_W - 10}" y="{y + 20}" text-anchor="end" font-size="10" fill="#5f6f78">'
             f'↻ {node.retries} {"retry" if node.retries == 1 else "retries"}</text>') if node.retries else ""
    return (f'<g><rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="8" fill="#fff" stroke="#c9d1d8"/>'
            f'<rect x="{x}" y="{y}" width="5" height="{NODE_H}" rx="2" fill="{colour}"/>{icon}'
            f'<text x="{x + 42}" y="{y + 25}" font-size="14" font-weight="bold" fill="#1b3139">'
            f"{html.escape(node.key)}</text>"
            f'<text x="{x + 42}" y="{y + 44}" font-size="11" fill="#5f6f78">{html.escape(node.detail)}</text>'
            f'<text x="{x + 42}" y="{y + 58}" font-size="9.5" fill="{colour}">{html.escape(label)}</text>'
            f"{retry}</g>")


def job_graph_html(*, job: LoadedJob) -> str:
    """The job's tasks and dependencies drawn as Databricks' DAG view, with its schedule and parameters."""
    from checkers.jobs import schedule as quartz

    nodes, edges = job_graph(job)
    columns = max((n.column for n in nodes), default=0) + 1
    tallest = max((sum(1 for n in nodes if n.column == c) for c in range(columns)), default=1)
    height = tallest * NODE_H + (tallest - 1) * GAP_Y
    place: dict[str, tuple[float, float]] = {}
    for n in nodes:
        in_column = sum(1 for m in nodes if m.column == n.column)
        top = (height - (in_column * NODE_H + (in_column - 1) * GAP_Y)) / 2
        place[n.key] = (n.column * (NODE_W + GAP_X), top + n.row * (NODE_H + GAP_Y))
    paths = []
    for e in edges:
        (x1, y1), (x2, y2) = place[e.upstream], place[e.downstream]
        sx, sy, ex, ey = x1 + NODE_W, y1 + NODE_H / 2, x2 - 4, y2 + NODE_H / 2
        mid = (sx + ex) / 2
        paths.append(f'<path d="M{sx} {sy} C{mid} {sy} {mid} {ey} {ex} {ey}" fill="none" stroke="#8a98a0" '
                     f'stroke-width="1.6" marker-end="url(#arrow)"/>')
        if e.outcome:
            paths.append(f'<rect x="{mid - 18}" y="{(sy + ey) / 2 - 9}" width="36" height="18" rx="9" '
                         f'fill="#f3ecfa" stroke="#d4c2ea"/><text x="{mid}" y="{(sy + ey) / 2 + 4}" '
                         f'text-anchor="middle" font-size="10.5" fill="#6c3aa0">{html.escape(e.outcome)}</text>')
    width = columns * NODE_W + (columns - 1) * GAP_X
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width + 8}" height="{height + 4}" '
           f'font-family="DejaVu Sans, Arial, sans-serif"><defs><marker id="arrow" viewBox="0 0 10 10" refX="8" '
           f'refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" '
           f'fill="#8a98a0"/></marker></defs><g transform="translate(2 2)">{"".join(paths)}'
           f'{"".join(_node_svg(n, *place[n.key]) for n in nodes)}</g></svg>')
    facts = []
    sched = job.settings.schedule
    if sched is not None and sched.quartz_cron_expression:
        try:
            words = quartz.describe(cron=sched.quartz_cron_expression, timezone_id=sched.timezone_id)
        except CheckersError:
            words = sched.quartz_cron_expression
        facts.append(f"<span>Schedule: <b>{html.escape(words)}</b> "
                     f"<code>{html.escape(sched.quartz_cron_expression)}</code></span>")
    for p in job.settings.parameters or []:
        facts.append(f"<span>Parameter <b>{html.escape(p.name)}</b> = {html.escape(str(p.default))}</span>")
    mails = job.settings.email_notifications
    if mails is not None and mails.on_failure:
        facts.append(f"<span>On failure: email <b>{html.escape(', '.join(mails.on_failure))}</b></span>")
    body = (f'<div class="frame"><div class="bar"><span class="name">{html.escape(job.name)}</span>'
            f'<span class="pill">Job</span><span class="muted">{len(nodes)} tasks · {html.escape(job.path.name)}'
            f'</span>{_KIT}</div><div class="facts">{"".join(facts)}</div><div class="graph">{svg}</div></div>')
    return _page(body, css=_GRAPH_CSS)


# ------------------------------------------------------------------------------------------------ timeline

_TIMELINE_CSS = """
.tl { padding: 14px 16px 16px; }
.tl-row { display: flex; align-items: center; height: 34px; }
.tl-name { width: 190px; flex: none; font-size: 13px; font-weight: bold; }
.tl-name span { display: block; font-weight: normal; font-size: 10.5px; color: #5f6f78; }
.tl-track { position: relative; flex: none; height: 22px; background: #f4f6f8; border-radius: 4px; }
.tl-bar { position: absolute; top: 3px; height: 16px; border-radius: 3px; min-width: 3px; }
.tl-state { width: 150px; flex: none; padding-left: 12px; }
.tl-time { width: 80px; flex: none; text-align: right; font-size: 12px; font-family: "DejaVu Sans Mono",
           monospace; color: #44545e; }
.tl-axis { position: relative; height: 18px; margin-left: 190px; font-size: 10px; color: #8a98a0; }
.tl-axis span { position: absolute; top: 2px; transform: translateX(-50%); }
.tl-foot { padding: 8px 16px 12px; font-size: 12px; color: #44545e; border-top: 1px solid #eef1f4; }
"""
TRACK_WIDTH = 560


def _tick_step(total: float) -> float:
    for step in (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 1800, 3600):
        if total / step <= 8:
            return step
    return 7200


def run_timeline_html(*, record: RunRecord) -> str:
    """A finished run: one row per task, its attempts as bars on a shared time axis, state and duration."""
    starts = [a.start_time for t in record.tasks for a in t.attempts if a.start_time]
    start = record.start_time or (min(starts) if starts else None)
    ends = [a.end_time for t in record.tasks for a in t.attempts if a.end_time]
    end = record.end_time or (max(ends) if ends else None)
    if start is None or end is None:
        raise ScreenshotError(f"Run {record.run_id} has no start or end time: it did not finish.",
                              hint="Draw the timeline from a finished run.")
    total = max((end - start).total_seconds(), 0.001)
    scale = TRACK_WIDTH / total
    rows = []
    for task in record.tasks:
        bars = []
        for a in task.attempts:
            if a.start_time is None:
                continue
            left = (a.start_time - start).total_seconds() * scale
            width = max(((a.end_time or end) - a.start_time).total_seconds() * scale, 3)
            fg = _STATE_COLOURS.get(a.state or "", ("#1d5fa8", ""))[0]
            bars.append(f'<div class="tl-bar" style="left:{left:.1f}px;width:{width:.1f}px;background:{fg}" '
                        f'title="attempt {a.number}"></div>')
        kind = "If/else condition" if task.type == "condition" else (
            Path(task.notebook_file).name if task.notebook_file else task.type)
        tries = f" · {len(task.attempts)} attempts" if len(task.attempts) > 1 else ""
        rows.append(f'<div class="tl-row"><div class="tl-name">{html.escape(task.task_key)}'
                    f"<span>{html.escape(kind + tries)}</span></div>"
                    f'<div class="tl-track" style="width:{TRACK_WIDTH}px">{"".join(bars)}</div>'
                    f'<div class="tl-state">{_state_badge(task.result_state)}</div>'
                    f'<div class="tl-time">{_seconds_text(task.duration)}</div></div>')
    step = _tick_step(total)
    ticks = "".join(f'<span style="left:{t * scale:.1f}px">{t:g} s</span>'
                    for t in [i * step for i in range(int(total // step) + 1)])
    params = " · ".join(f"{html.escape(k)} = {html.escape(v)}" for k, v in record.parameters.items())
    body = (f'<div class="frame"><div class="bar"><span class="name">{html.escape(record.job_name)}</span>'
            f'<span class="pill">Run {record.run_id}</span>{_state_badge(record.result_state)}'
            f'<span class="muted">{_seconds_text(record.duration)} · started '
            f'{start.strftime("%Y-%m-%d %H:%M:%S UTC")}</span>{_KIT}</div>'
            f'<div class="tl">{"".join(rows)}<div class="tl-axis" style="width:{TRACK_WIDTH}px">{ticks}</div></div>'
            f'<div class="tl-foot">Job parameters: {params or "none"}</div></div>')
    return _page(body, css=_TIMELINE_CSS)


# ------------------------------------------------------------------------------------------------ capture


def chromium_path() -> Path:
    """The Chromium binary: ``DAY07_CHROMIUM``, else Debian's, else ``chromium`` on the PATH."""
    configured = os.environ.get("DAY07_CHROMIUM")
    for candidate in (configured, DEFAULT_CHROMIUM, shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise ScreenshotError("Chromium was not found" + (f" at DAY07_CHROMIUM={configured}" if configured else "") + ".",
                          hint="Install it (Debian: apt-get install chromium) or set DAY07_CHROMIUM to its path.")


class Camera:
    """One headless Chromium, reused for every capture; network requests are refused."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        """The Playwright ``Browser`` (tests drive the built site with it)."""

    def capture(self, *, page_html: str, out: Path, source: str, width: int = 1400, scale: float = 1.5) -> Shot:
        """Render ``page_html`` and save its ``#shot`` element as a PNG at ``out``."""
        page = self.browser.new_page(viewport={"width": width, "height": 400}, device_scale_factor=scale)
        blocked: list[str] = []

        def refuse_remote(route: Any) -> None:
            if route.request.url.startswith(("http:", "https:")):
                blocked.append(route.request.url)
                route.abort()
            else:
                route.continue_()

        try:
            page.route("**/*", refuse_remote)
            page.set_content(page_html, wait_until="load")
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_name(f".{out.name}.tmp.png")
            page.locator("#shot").screenshot(path=str(tmp))
            tmp.replace(out)
        finally:
            page.close()
        w, h = png_size(out)
        return Shot(path=out, width=w, height=h, source=source, blocked=tuple(blocked))


@contextmanager
def camera() -> Iterator[Camera]:
    """Start headless Chromium through Playwright (from PyPI, driving the system's Chromium)."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ModuleNotFoundError:
        raise ScreenshotError("Playwright is not installed.",
                              hint="Install the docs extra: pip install -e '.[docs]'.") from None
    executable = chromium_path()
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=str(executable), args=list(CHROMIUM_ARGS))
        except PlaywrightError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ScreenshotError(f"Chromium at {executable} did not start: {first}",
                                  hint="Check that `chromium --headless --no-sandbox --version` works.") from None
        try:
            yield Camera(browser)
        finally:
            browser.close()


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header (no imaging library needed)."""
    with path.open("rb") as fh:
        head = fh.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise ScreenshotError(f"{path} is not a PNG file.")
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


# ------------------------------------------------------------------------------------------------ real runs


@dataclass
class ScreenshotRun:
    """The real runs the images come from (only those the requested images need)."""

    job: LoadedJob
    """The solution job."""
    record: RunRecord | None = None
    """The finished local run of that job."""

    def finished(self) -> RunRecord:
        if self.record is None:
            raise ScreenshotError("No job run was made for this image.")
        return self.record


def real_runs(*, root: Path, runs_dir: Path, schema: str = DOCS_SCHEMA, job_run: bool = True) -> ScreenshotRun:
    """Run the solution job (in ``schema``) for real; a failed run is a ScreenshotError.

    ``job_run`` False skips the run when no requested image needs it (the graph needs only the job file).
    """
    from checkers.jobs.load import load_job
    from checkers.jobs.run import run_job

    job_file = root / "solutions" / "job.yml"
    if not job_file.is_file():
        raise ScreenshotError(f"{job_file} not found.", hint="The screenshots come from the solution job.")
    job = load_job(path=job_file)
    run = ScreenshotRun(job=job)
    if job_run:
        names = {p.name for p in job.settings.parameters or []}
        record = run_job(job=job, parameters={"schema": schema} if "schema" in names else {}, runs_dir=runs_dir)
        if record.result_state != "SUCCESS":
            failed = [f"{t.task_key}: {t.message}" for t in record.tasks if t.result_state != "SUCCESS"]
            raise ScreenshotError(f"The solution job ended {record.result_state} (run folder {record.run_dir}):"
                                  "\n  " + "\n  ".join(failed),
                                  hint="Fix the solutions first; the docs show a real run.")
        run.record = record
    return run


def _layer_notebook(record: RunRecord, stem: str) -> tuple[Path, float | None, str | None]:
    for task in record.tasks:
        if task.notebook_file and Path(task.notebook_file).stem == stem:
            last = next((a for a in reversed(task.attempts) if a.notebook), None)
            if last is not None and last.notebook is not None:
                return Path(record.run_dir) / last.notebook, task.duration, task.result_state
    raise ScreenshotError(f"Run {record.run_id} has no task that ran {stem}.",
                          hint="The solution job must run 01_bronze, 02_silver and 03_gold.")


def page_for(name: str, run: ScreenshotRun) -> tuple[str, str]:
    """(HTML, what it was drawn from) for a drawn image ``name`` (every image but the JupyterLab capture)."""
    import nbformat

    if name in _LAYERS:
        path, duration, state = _layer_notebook(run.finished(), _LAYERS[name])
        notebook = nbformat.read(str(path), as_version=4)
        return (notebook_html(notebook=notebook, name=_LAYERS[name], state=state, duration=duration),
                f"executed notebook {path}")
    if name == "job_workflow.png":
        return job_graph_html(job=run.job), f"job file {run.job.path}"
    if name == "job_workflow_2.png":
        record = run.finished()
        return run_timeline_html(record=record), f"run record {record.path}"
    raise ScreenshotError(f"Unknown image {name!r}.", hint=f"Images: {', '.join(IMAGES)}.")


LAB_IMAGE = "widgets.png"
"""The one image captured from a real JupyterLab (:func:`checkers.authoring.lab.capture_widget_bar`), not drawn."""


def generate_screenshots(*, root: Path, out_dir: Path, only: Sequence[str] | None = None,
                         runs_dir: Path | None = None, schema: str = DOCS_SCHEMA,
                         cam: Camera | None = None) -> list[Shot]:
    """Run the solutions for real and write every docs image (or ``only`` those) to ``out_dir``.

    ``cam`` reuses an open :func:`camera` (Playwright's sync API cannot open a second one inside the first).
    """
    from checkers.authoring.lab import capture_widget_bar
    from checkers.config import settings

    names = list(only) if only else list(IMAGES)
    unknown = [n for n in names if n not in IMAGES]
    if unknown:
        raise ScreenshotError(f"Unknown image {', '.join(unknown)}.", hint=f"Images: {', '.join(IMAGES)}.")
    if cam is None:
        chromium_path()  # fail before the (minute-long) runs, not after
    run = real_runs(root=root, runs_dir=runs_dir or settings().home / "docs-runs", schema=schema,
                    job_run=any(n in names for n in (*_LAYERS, "job_workflow_2.png")))
    with contextlib.ExitStack() as stack:
        if cam is None:
            cam = stack.enter_context(camera())
        shots = []
        for name in names:
            if name == LAB_IMAGE:
                shots.append(capture_widget_bar(cam=cam, solution=root / "solutions" / "00_widgets.ipynb",
                                                out=out_dir / name))
                continue
            page_html, source = page_for(name, run)
            shots.append(cam.capture(page_html=page_html, out=out_dir / name, source=source))
    leaky = [f"{s.path.name}: {', '.join(s.blocked)}" for s in shots if s.blocked]
    if leaky:
        raise ScreenshotError("A drawing tried to load something from another host: " + "; ".join(leaky),
                              hint="The images must be drawn from local data only.")
    return shots
