"""What a learner watches while a job runs: the task graph with live states, then a summary table.

On a terminal the view redraws in place (rich ``Live``); in a log or a pipe it prints one line per change,
so CI output and ``day07 run > log.txt`` stay readable.
"""

from __future__ import annotations

import copy
import threading
import time
from pathlib import Path
from types import TracebackType

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from checkers.jobs.events import RunEvent
from checkers.jobs.record import PENDING, RUNNING, WAITING_FOR_RETRY, Attempt, RunRecord, TaskRun
from checkers.runtime.progress import QueryProgress, size_text

STATE_STYLES = {
    "SUCCESS": "bold green",
    "SUCCESS_WITH_FAILURES": "bold yellow",
    "FAILED": "bold red",
    "TIMEDOUT": "bold red",
    "CANCELED": "magenta",
    "UPSTREAM_FAILED": "yellow",
    "UPSTREAM_CANCELED": "magenta",
    "EXCLUDED": "dim",
    "DISABLED": "dim",
    RUNNING: "bold cyan",
    WAITING_FOR_RETRY: "yellow",
    PENDING: "dim",
}
"""Colour per result or life-cycle state."""


def state_text(state: str | None) -> Text:
    shown = state or PENDING
    return Text(shown, style=STATE_STYLES.get(shown, ""))


def _depends(task: TaskRun) -> Text:
    parts = [d["task_key"] + (f" ({d['outcome']})" if d.get("outcome") else "") for d in task.depends_on]
    text = Text(", ".join(parts) or "—")
    if task.depends_on and task.run_if != "ALL_SUCCESS":
        text.append(f"  [{task.run_if}]", style="dim")
    return text


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def _task_state(task: TaskRun) -> Text:
    if task.result_state is not None:
        text = state_text(task.result_state)
        if task.outcome is not None:
            text.append(f" → {task.outcome}", style="dim")
        return text
    return state_text(task.life_cycle_state)


def progress_text(update: QueryProgress) -> Text:
    """A running task's Spark query, compact: a ten-cell bar, the share of its tasks done, the bytes read."""
    filled = min(10, update.percent // 10)
    text = Text("▕" + "█" * filled + " " * (10 - filled) + "▏", style="cyan")
    text.append(f" {update.percent:>3} %")
    if update.bytes_read:
        text.append(f" · {size_text(update.bytes_read)}", style="dim")
    return text


def graph_table(record: RunRecord, progress: dict[str, QueryProgress] | None = None) -> Table:
    """The live view: every task, what it waits for, its state, its attempt and how long it has run; with
    ``progress``, where each running task's Spark query is."""
    what = "repair " + str(record.repair_count) + " of run" if record.repair_count else "run"
    table = Table(title=Text(f"{record.job_name} — {what} {record.run_id}", style="bold"), title_justify="left",
                  expand=False)
    table.add_column("task", no_wrap=True)
    table.add_column("depends on")
    table.add_column("state", no_wrap=True)
    table.add_column("attempt", justify="right", no_wrap=True)
    table.add_column("duration", justify="right", no_wrap=True)
    shown = {k: v for k, v in (progress or {}).items() if not v.done}
    if shown:
        table.add_column("Spark", no_wrap=True)
    for task in record.tasks:
        attempt = str(len(task.attempts_in_repair)) if task.attempts_in_repair else ""
        cells: list[Text | str] = [Text(task.task_key), _depends(task), _task_state(task), attempt,
                                   _duration(task.duration)]
        if shown:
            update = shown.get(task.task_key) if task.life_cycle_state == RUNNING else None
            cells.append(progress_text(update) if update is not None else Text(""))
        table.add_row(*cells)
    return table


def summary(record: RunRecord) -> Group:
    """After the run: a table of results, then what happened to each task and where to look.

    The details go under the table, not in a column, so they stay readable in an 80-column terminal.
    """
    table = Table(show_header=True, header_style="bold", expand=False)
    table.add_column("task", no_wrap=True)
    table.add_column("type", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("attempts", justify="right", no_wrap=True)
    table.add_column("duration", justify="right", no_wrap=True)
    details: list[Text] = []
    for task in record.tasks:
        table.add_row(Text(task.task_key), Text(task.type), _task_state(task),
                      str(len(task.attempts_in_repair)) if task.attempts_in_repair else "",
                      _duration(task.duration))
        line = Text.assemble((f"{task.task_key}: ", "bold"))
        if task.result_state == "SUCCESS" and task.type == "notebook":
            line.append(f"exit value {task.exit_value!r}" if task.exit_value else "ran to the end", style="dim")
        else:
            line.append(task.message)
        last = task.attempts[-1] if task.attempts else None
        if task.result_state not in ("SUCCESS", None) and last is not None and last.notebook \
                and last.repair_count == task.repair_count:
            line.append(f"\n    executed notebook: {Path(record.run_dir) / last.notebook}", style="dim")
        for note in task.notes:
            line.append(f"\n    note: {note}", style="yellow")
        details.append(line)
    return Group(table, *details)


def result_line(record: RunRecord) -> Text:
    """``Run 7: SUCCESS — all 4 tasks succeeded``."""
    line = Text(f"Run {record.run_id}" + (f" (repair {record.repair_count})" if record.repair_count else "") + ": ")
    line.append_text(state_text(record.result_state))
    if record.message:
        line.append(f" — {record.message}")
    return line


class LiveView:
    """Pass :meth:`on_event` to ``run_job``/``repair_run`` inside ``with LiveView(console):``."""

    PRINT_PROGRESS_EVERY = 30.0
    """Seconds between two progress lines of one task in a log (on a terminal the view redraws in place)."""

    def __init__(self, console: Console, *, refresh_per_second: float = 4) -> None:
        self.console = console
        self._lock = threading.Lock()
        self._snapshot: RunRecord | None = None
        self._progress: dict[str, QueryProgress] = {}
        self._printed: dict[str, float] = {}
        self._live: Live | None = None
        self._refresh = refresh_per_second

    def __enter__(self) -> LiveView:
        if self.console.is_terminal:
            self._live = Live(console=self.console, get_renderable=self._render, transient=True,
                              refresh_per_second=self._refresh)
            self._live.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _render(self) -> Group | Text:
        with self._lock:
            snapshot = self._snapshot
        if snapshot is None:
            return Text("starting…", style="dim")
        with self._lock:
            progress = dict(self._progress)
        return Group(graph_table(snapshot, progress))

    def on_event(self, event: RunEvent) -> None:
        """Called by the runner (under its lock) on every change."""
        if event.kind == "task_progress":
            self._on_progress(event)
            return
        with self._lock:
            if event.kind in ("task_started", "task_finished", "task_retrying") and event.task_key:
                self._progress.pop(event.task_key, None)
            self._snapshot = copy.deepcopy(event.record)
        if self._live is None:
            line = self._line(event)
            if line is not None:
                self.console.print(line)

    def _on_progress(self, event: RunEvent) -> None:
        update, key = event.progress, event.task_key
        if update is None or key is None:
            return
        with self._lock:
            self._progress[key] = update
        if self._live is not None or update.done:
            return
        now = time.monotonic()
        if now - self._printed.get(key, 0.0) >= self.PRINT_PROGRESS_EVERY:
            self._printed[key] = now
            self.console.print(Text(f"  … {key}: {update.text()}", style="dim"))

    @staticmethod
    def _line(event: RunEvent) -> Text | None:
        record = event.record
        if event.kind == "run_started":
            what = f"repair {record.repair_count} of run" if record.repair_count else "run"
            return Text(f"{record.job_name}: {what} {record.run_id} started ({len(record.tasks)} tasks)")
        if event.task_key is None:
            return None
        task = record.task(event.task_key)
        if event.kind == "task_started":
            attempt = event.attempt or Attempt(number=1, execution_count=1)
            if attempt.iteration is not None:
                retry = f" (attempt {attempt.execution_count})" if attempt.execution_count > 1 else ""
                return Text(f"  ▶ {task.task_key} iteration {attempt.iteration + 1} started" + retry)
            return Text(f"  ▶ {task.task_key} started" + (f" (attempt {attempt.number})" if attempt.number > 1 else ""))
        if event.kind == "task_retrying":
            return Text(f"  ↻ {task.task_key}: {task.message}", style="yellow")
        if event.kind == "task_finished":
            line = Text(f"  {'✓' if task.result_state in ('SUCCESS', 'EXCLUDED', 'DISABLED') else '✗'} "
                        f"{task.task_key} ")
            line.append_text(_task_state(task))
            if task.result_state != "SUCCESS" and task.message:
                line.append(f": {task.message}")
            elif task.duration:
                line.append(f" in {_duration(task.duration)}", style="dim")
            return line
        return None
