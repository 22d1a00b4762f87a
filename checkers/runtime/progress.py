"""How far a long Spark query has got: one line in the cell, and the task's progress in ``day07 run``'s live view.

Spark Connect streams a running query's progress to its client (every ``spark.connect.progress.reportInterval``,
2 s by default); PySpark 4 hands it to the handlers registered with ``spark.registerProgressHandler``. The kernel
registers one (:func:`install`):

- in a learner's own notebook it shows one line per long query, updated in place (a display with an id), and
  leaves the final figures there: nothing for a query that ends within :data:`SHOW_AFTER` seconds;
- in a notebook an executor runs (a job task) it sends the figures to the executor as Jupyter messages of their
  own type (:data:`PROGRESS_MSG_TYPE`), which the runner passes to its live view; the executed notebook stays
  clean;
- in a grading nothing is registered (the grader sets ``DAY07_PROGRESS=0`` in its kernels, and its servers send
  no progress at all).
"""

from __future__ import annotations

import html
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

"""``0``: register no progress handler in this kernel (the grader's kernels); see ``Settings.progress``."""
PROGRESS_MSG_TYPE = "day07_progress"
"""The IOPub message type of a progress update; front-ends ignore message types they do not know."""
SHOW_AFTER = 2.0
"""Seconds a query runs before its line appears (a short query shows nothing)."""
MIN_INTERVAL = 1.0
"""Seconds between two updates of one line (the server reports every 2 s anyway)."""


@dataclass(frozen=True)
class QueryProgress:
    """Where one query is: its stages and tasks so far, the bytes it read, how long it has run."""

    tasks: int
    """Tasks of the stages known so far (later stages appear as the query goes on)."""
    tasks_done: int
    stages: int
    stages_done: int
    running: int
    """Tasks running right now."""
    bytes_read: int
    seconds: float
    """Since the first report of this query."""
    done: bool = False
    operation_id: str | None = None

    @property
    def percent(self) -> int:
        return int(100 * self.tasks_done / self.tasks) if self.tasks else 0

    def text(self) -> str:
        """``Spark: 13/44 tasks (29 %), stage 2 of 3, 1.2 GiB read, 25 s`` — one short line."""
        if self.done:
            head = f"Spark: done, {self.tasks:,} tasks in {self.stages} stage{'s' if self.stages != 1 else ''}"
        else:
            head = (f"Spark: {self.tasks_done:,}/{self.tasks:,} tasks ({self.percent} %), "
                    f"stage {min(self.stages_done + 1, self.stages)} of {self.stages}")
        read = f", {size_text(self.bytes_read)} read" if self.bytes_read else ""
        return f"{head}{read}, {duration_text(self.seconds)}"

    def html(self) -> str:
        bar = "" if self.done else (f'<progress value="{self.tasks_done}" max="{max(self.tasks, 1)}" '
                                    'style="width:12em;vertical-align:middle"></progress> ')
        return f'<div style="font-family:monospace;font-size:90%">{bar}{html.escape(self.text())}</div>'

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> QueryProgress | None:
        """A progress update received from a kernel, or None when it is not one (never raises)."""
        if not isinstance(data, dict):
            return None
        try:
            return cls(tasks=int(data["tasks"]), tasks_done=int(data["tasks_done"]), stages=int(data["stages"]),
                       stages_done=int(data["stages_done"]), running=int(data["running"]),
                       bytes_read=int(data["bytes_read"]), seconds=float(data["seconds"]),
                       done=bool(data.get("done")), operation_id=data.get("operation_id"))
        except (KeyError, TypeError, ValueError):
            return None


def size_text(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"  # pragma: no cover - the loop returns at GiB


def duration_text(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s"


Show = Callable[[QueryProgress, bool], None]
"""``show(progress, first)``: draw a query's line (``first``: its first time)."""


class ProgressLine:
    """A Spark Connect progress handler: per query, one line after :data:`SHOW_AFTER` s, at most one update per
    :data:`MIN_INTERVAL` s, and the final figures when it ends (only for a query whose line was shown)."""

    def __init__(self, show: Show, *, clock: Callable[[], float] = time.monotonic,
                 show_after: float = SHOW_AFTER, min_interval: float = MIN_INTERVAL) -> None:
        self._show = show
        self._clock = clock
        self._show_after = show_after
        self._min_interval = min_interval
        self._lock = threading.Lock()
        self._queries: dict[str | None, dict[str, float]] = {}

    def __call__(self, stages: Iterable[Any] | None, inflight_tasks: int, operation_id: str | None,
                 done: bool) -> None:
        try:
            self._handle(list(stages or ()), inflight_tasks, operation_id, done)
        except Exception:  # noqa: BLE001 - a display problem must never fail the learner's query
            pass

    def _handle(self, stages: list[Any], running: int, operation_id: str | None, done: bool) -> None:
        now = self._clock()
        with self._lock:
            query = self._queries.setdefault(operation_id, {"started": now, "shown": 0.0, "last": 0.0})
            if done:
                self._queries.pop(operation_id, None)
            first = not query["shown"]
            if done and first:
                return  # a short query: nothing was shown, nothing to finish
            if not done and (now - query["started"] < self._show_after or now - query["last"] < self._min_interval):
                return
            query["shown"], query["last"] = 1.0, now
            progress = QueryProgress(
                tasks=sum(int(s.num_tasks) for s in stages), tasks_done=sum(int(s.num_completed_tasks) for s in stages),
                stages=len(stages), stages_done=sum(1 for s in stages if s.done), running=int(running),
                bytes_read=sum(int(s.num_bytes_read) for s in stages), seconds=now - query["started"], done=done,
                operation_id=operation_id)
        if done and not stages:
            return
        self._show(progress, first)


def cell_display() -> Show:
    """Show each query's line in the running cell, updated in place (a Jupyter display with an id)."""
    from IPython.display import display, update_display

    ids: dict[str | None, str] = {}

    def show(progress: QueryProgress, first: bool) -> None:
        bundle = {"text/plain": progress.text(), "text/html": progress.html()}
        if first or progress.operation_id not in ids:
            handle = display(bundle, raw=True, display_id=True)
            ids[progress.operation_id] = handle.display_id if handle is not None else ""
        else:
            update_display(bundle, raw=True, display_id=ids[progress.operation_id])
        if progress.done:
            ids.pop(progress.operation_id, None)

    return show


def executor_messages(kernel: Any) -> Show:
    """Send each update to the executor on IOPub, as the running cell's (see :data:`PROGRESS_MSG_TYPE`)."""
    session, socket = kernel.session, kernel.iopub_socket
    get_parent = kernel.get_parent

    def show(progress: QueryProgress, first: bool) -> None:
        content = json.loads(json.dumps(progress.to_dict()))
        session.send(socket, PROGRESS_MSG_TYPE, content, parent=get_parent("shell"), ident=b"day07_progress")

    return show


def wanted() -> bool:
    """False when this kernel must show no progress (``DAY07_PROGRESS=0``: the grader's kernels)."""
    from checkers.config import settings

    return settings().progress


def install(session: Any, *, kernel: Any = None, to_executor: bool = False) -> ProgressLine | None:
    """Register a progress handler on ``session`` (a Spark Connect session): to the executor when ``to_executor``
    (a job task), else in the cell. Returns it, or None when progress is off or the session cannot report it."""
    if not wanted() or not hasattr(session, "registerProgressHandler"):
        return None
    if to_executor:
        if kernel is None:
            return None
        handler = ProgressLine(executor_messages(kernel))
    else:
        handler = ProgressLine(cell_display())
    try:
        session.registerProgressHandler(handler)
    except Exception:  # noqa: BLE001 - a classic session (no Connect) has nothing to report
        return None
    return handler
