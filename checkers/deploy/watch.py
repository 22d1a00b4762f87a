"""Follow a workspace run until it ends, as snapshots a display can draw.

Jobs API 2.2 returns a run's tasks in pages of 100 (``next_page_token``); a snapshot holds them all.
Task states come from ``state`` (result or life-cycle state, the names the local runner uses too),
falling back to the newer ``status`` where ``state`` is absent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.service import jobs

#: Life-cycle states after which nothing changes any more.
FINAL_LIFE_CYCLE_STATES = ("TERMINATED", "SKIPPED", "INTERNAL_ERROR")


@dataclass(frozen=True)
class TaskSnapshot:
    """One task of a run, as last seen."""

    task_key: str
    """The task's key in the job."""
    life_cycle_state: str | None
    """PENDING, RUNNING, TERMINATED, ... (None before the workspace reports it)."""
    result_state: str | None
    """SUCCESS, FAILED, EXCLUDED, UPSTREAM_FAILED, ... once the task ended."""
    state_message: str = ""
    """What the workspace says about the state (why it failed, what it waits for)."""
    run_id: int | None = None
    """The task run's id (for its output)."""
    run_page_url: str | None = None
    """The task run's page in the workspace."""
    error: str | None = None
    """The notebook's error, fetched once a notebook task failed."""

    @property
    def state(self) -> str:
        """The result state when there is one, else the life-cycle state."""
        return self.result_state or self.life_cycle_state or "PENDING"


@dataclass(frozen=True)
class RunSnapshot:
    """A workspace run, as last seen."""

    run_id: int
    """The run's id."""
    run_page_url: str | None
    """The run's page in the workspace."""
    life_cycle_state: str | None
    """The run's life-cycle state."""
    result_state: str | None
    """The run's result once it ended: SUCCESS, FAILED, SUCCESS_WITH_FAILURES, ..."""
    state_message: str = ""
    """What the workspace says about the run's state."""
    tasks: tuple[TaskSnapshot, ...] = field(default_factory=tuple)
    """Every task, in the job's task order."""

    @property
    def done(self) -> bool:
        return self.life_cycle_state in FINAL_LIFE_CYCLE_STATES

    @property
    def state(self) -> str:
        return self.result_state or self.life_cycle_state or "PENDING"

    @property
    def succeeded(self) -> bool:
        return self.result_state == "SUCCESS"


def _value(enum_or_none: object) -> str | None:
    return None if enum_or_none is None else str(getattr(enum_or_none, "value", enum_or_none))


def _states(state: jobs.RunState | None, status: jobs.RunStatus | None) -> tuple[str | None, str | None, str]:
    life = _value(state.life_cycle_state) if state else None
    result = _value(state.result_state) if state else None
    message = (state.state_message or "") if state else ""
    if life is None and status is not None:
        life = _value(status.state)
        details = status.termination_details
        if details is not None:
            result = result or _value(details.code)
            message = message or (details.message or "")
    return life, result, message


def snapshot_of(run: jobs.Run, *, task_order: list[str] | None = None) -> RunSnapshot:
    """A snapshot of an SDK ``Run``; tasks in ``task_order`` (the job's), others after them."""
    life, result, message = _states(run.state, run.status)
    tasks = []
    for task in run.tasks or []:
        t_life, t_result, t_message = _states(task.state, task.status)
        tasks.append(TaskSnapshot(task.task_key, t_life, t_result, t_message, task.run_id, task.run_page_url))
    order = {key: i for i, key in enumerate(task_order or [])}
    tasks.sort(key=lambda t: order.get(t.task_key, len(order)))
    return RunSnapshot(run.run_id or 0, run.run_page_url, life, result, message, tuple(tasks))


def fetch_run(w: WorkspaceClient, run_id: int) -> jobs.Run:
    """``jobs/runs/get`` with every page of tasks merged into the first."""
    run = w.jobs.get_run(run_id)
    tasks = list(run.tasks or [])
    token = run.next_page_token
    while token:
        page = w.jobs.get_run(run_id, page_token=token)
        tasks.extend(page.tasks or [])
        token = page.next_page_token
    run.tasks = tasks
    return run


def with_errors(w: WorkspaceClient, snapshot: RunSnapshot) -> RunSnapshot:
    """The snapshot with each failed task's notebook error (``jobs/runs/get-output``), when there is one."""
    from dataclasses import replace

    from databricks.sdk.errors import DatabricksError

    tasks = []
    for task in snapshot.tasks:
        if task.result_state in ("FAILED", "TIMEDOUT") and task.run_id is not None and task.error is None:
            try:
                output = w.jobs.get_run_output(task.run_id)
            except DatabricksError:
                output = None  # the output is a nicety: the state and its message still tell what happened
            if output is not None and output.error:
                task = replace(task, error=output.error)
        tasks.append(task)
    return replace(snapshot, tasks=tuple(tasks))


def wait_for_run(w: WorkspaceClient, run_id: int, *, task_order: list[str] | None = None,
                 poll_seconds: float = 5.0, timeout_seconds: float | None = None,
                 on_update: Callable[[RunSnapshot], None] | None = None,
                 fetch: Callable[[int], jobs.Run] | None = None) -> RunSnapshot:
    """Poll until the run ends (or ``timeout_seconds`` pass: the last snapshot, not done, comes back)."""
    get = fetch or (lambda rid: fetch_run(w, rid))
    deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
    snapshot = snapshot_of(get(run_id), task_order=task_order)
    if on_update:
        on_update(snapshot)
    while not snapshot.done:
        if deadline is not None and time.monotonic() >= deadline:
            return snapshot
        time.sleep(poll_seconds)
        snapshot = snapshot_of(get(run_id), task_order=task_order)
        if on_update:
            on_update(snapshot)
    return snapshot
