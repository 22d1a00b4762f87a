"""What a run tells its watchers (the live view, the CLI, tests) as it goes.

The event type sits apart from the runner so that a display depends on this small module, not on the
process handling that emits the events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from checkers.jobs.record import Attempt, RunRecord
from checkers.runtime.progress import QueryProgress


@dataclass(frozen=True)
class RunEvent:
    """Something happened in a run. Handlers may read ``record`` (do not change it); they run under the
    runner's lock, from the thread that made the change, so keep them quick."""

    kind: str
    """``run_started``, ``task_started``, ``task_progress``, ``task_retrying``, ``task_finished`` or
    ``run_finished``."""
    record: RunRecord
    """The live run record."""
    task_key: str | None = None
    """The task concerned (task events only)."""
    attempt: Attempt | None = None
    """The attempt that started or ended (notebook and condition tasks)."""
    progress: QueryProgress | None = None
    """``task_progress`` only: where the task's running Spark query is (not kept in the record)."""


EventHandler = Callable[[RunEvent], None]

