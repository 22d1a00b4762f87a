"""The job's task graph as a picture: tasks in columns by dependency depth, edges, schedule and parameters.

Drawn from the job file itself (no run needed), laid out like the Databricks job DAG view, as inline SVG.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from checkers.authoring.frame import KIT_TAG, framed_page
from checkers.authoring.shot import ScreenshotError
from checkers.errors import CheckersError

if TYPE_CHECKING:
    from checkers.jobs.load import LoadedJob


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
            f'</span>{KIT_TAG}</div><div class="facts">{"".join(facts)}</div><div class="graph">{svg}</div></div>')
    return framed_page(body, css=_GRAPH_CSS)
