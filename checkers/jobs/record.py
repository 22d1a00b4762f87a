"""The run record: what one local job run did, written to ``<runs_dir>/<run_id>/run.json``.

The shape follows the Jobs API's run objects where it can (``result_state``, ``tasks[].task_key``,
``attempts``, ``repair_history``) so a learner who reads it learns the real thing, and it carries what the
grader's ``run`` section needs (docs/contract.md): ``{"result_state": …, "tasks": [{"task_key": …,
"result_state": …}]}``. The record is rewritten atomically on every state change, so another process can
watch a run and a crashed run leaves a readable record behind.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from checkers.config import settings
from checkers.errors import JobRunError
from checkers.files import atomic_write
from checkers.runtime.context import RuntimeRecord

RECORD_NAME = "run.json"
"""File name of the record inside a run folder."""
TASKS_DIR = "tasks"
"""Sub-folder of a run folder holding ``<task_key>/attempt_<n>.ipynb``."""

# Task result states (Jobs API ``RunResultState``), as the Jobs API documents them.
SUCCESS = "SUCCESS"
FAILED = "FAILED"
TIMEDOUT = "TIMEDOUT"
CANCELED = "CANCELED"
EXCLUDED = "EXCLUDED"
UPSTREAM_FAILED = "UPSTREAM_FAILED"
UPSTREAM_CANCELED = "UPSTREAM_CANCELED"
DISABLED = "DISABLED"
SUCCESS_WITH_FAILURES = "SUCCESS_WITH_FAILURES"

TASK_RESULT_STATES = (SUCCESS, FAILED, TIMEDOUT, CANCELED, EXCLUDED, UPSTREAM_FAILED, UPSTREAM_CANCELED, DISABLED)

# Life-cycle of a task while the run is going (the Jobs API's ``life_cycle_state``, simplified).
PENDING = "PENDING"
RUNNING = "RUNNING"
WAITING_FOR_RETRY = "WAITING_FOR_RETRY"
TERMINATED = "TERMINATED"
SKIPPED = "SKIPPED"


def now_utc() -> datetime:
    """Now, in UTC, to the millisecond (what the record stores, so a record reads back exactly)."""
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _time_out(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def _time_in(value: Any) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None:
        return None
    return round(((end or now_utc()) - start).total_seconds(), 3)


@dataclass
class Attempt:
    """One execution of a task (the first run, a retry, or a run inside a repair)."""

    number: int
    """1-based, counted over the whole run including repairs; names ``attempt_<n>.ipynb``."""
    execution_count: int
    """``{{task.execution_count}}`` for this attempt: 1 for the first try of a (repair) run, +1 per retry."""
    repair_count: int = 0
    """Which repair ran it: 0 for the original run."""
    start_time: datetime | None = None
    """When the attempt started (UTC)."""
    end_time: datetime | None = None
    """When it ended (UTC); None while it runs."""
    state: str | None = None
    """Its result: SUCCESS, FAILED or TIMEDOUT (None while it runs)."""
    message: str = ""
    """What happened, in one line (the failing cell and error, the timeout, the condition evaluated)."""
    parameters: dict[str, str] = field(default_factory=dict)
    """Widget values passed to the notebook, references resolved."""
    notebook: str | None = None
    """The executed notebook, relative to the run folder (notebook tasks only)."""
    exit_value: str | None = None
    """The value given to ``dbutils.notebook.exit``, if any."""
    error: dict[str, Any] | None = None
    """The failing cell: ``{"cell": n (1-based), "ename": …, "evalue": …}``."""
    iteration: int | None = None
    """For a ``for_each_task``: the 0-based index of the ``inputs`` element this attempt ran (None otherwise)."""
    runtime: RuntimeRecord | None = field(default=None, compare=False, repr=False)
    """What the notebook did through ``dbutils``, as its kernel reported it while it ran (in memory only: the
    grader takes it from the runner, never from a file in the run folder, which the notebook could rewrite)."""

    @property
    def duration(self) -> float | None:
        """Seconds the attempt took (so far)."""
        return _seconds(self.start_time, self.end_time)

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number, "execution_count": self.execution_count, "repair_count": self.repair_count,
            "start_time": _time_out(self.start_time), "end_time": _time_out(self.end_time),
            "duration_seconds": self.duration, "state": self.state, "message": self.message,
            "parameters": dict(self.parameters), "notebook": self.notebook, "exit_value": self.exit_value,
            "error": self.error, **({"iteration": self.iteration} if self.iteration is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Attempt:
        return cls(number=int(data["number"]), execution_count=int(data.get("execution_count", 1)),
                   repair_count=int(data.get("repair_count", 0)), start_time=_time_in(data.get("start_time")),
                   end_time=_time_in(data.get("end_time")), state=data.get("state"),
                   message=data.get("message", ""), parameters=dict(data.get("parameters") or {}),
                   notebook=data.get("notebook"), exit_value=data.get("exit_value"), error=data.get("error"),
                   iteration=data.get("iteration"))


@dataclass
class TaskRun:
    """One task of the run: its settings in short, its attempts and its result."""

    task_key: str
    """The task's key."""
    type: str
    """``notebook``, ``condition``, ``for_each`` (a notebook's loop), or the Jobs API name of a type run only there."""
    depends_on: list[dict[str, str]] = field(default_factory=list)
    """``[{"task_key": …, "outcome": "true"|"false"?}]`` as in the job."""
    run_if: str = "ALL_SUCCESS"
    """The task's run_if."""
    notebook_path: str | None = None
    """The notebook path as written in the job."""
    notebook_file: str | None = None
    """The local notebook file it ran."""
    life_cycle_state: str = PENDING
    """PENDING, RUNNING, WAITING_FOR_RETRY, TERMINATED (ran) or SKIPPED (never started)."""
    result_state: str | None = None
    """SUCCESS, FAILED, TIMEDOUT, CANCELED, EXCLUDED, UPSTREAM_FAILED, UPSTREAM_CANCELED or DISABLED."""
    message: str = ""
    """Why it ended that way (the last attempt's message, or why it was skipped)."""
    start_time: datetime | None = None
    """Start of its first attempt in the latest (repair) run."""
    end_time: datetime | None = None
    """When it reached its result."""
    attempts: list[Attempt] = field(default_factory=list)
    """Every attempt, over the original run and all repairs."""
    parameters: dict[str, str] = field(default_factory=dict)
    """Widget values of the last attempt (job parameters pushed down over base_parameters), resolved."""
    task_values: dict[str, Any] = field(default_factory=dict)
    """Values it set with ``dbutils.jobs.taskValues.set`` (last attempt)."""
    exit_value: str | None = None
    """``dbutils.notebook.exit`` value of the last attempt."""
    condition: dict[str, Any] | None = None
    """Condition tasks: ``{"op", "left", "right"}`` resolved, and ``"outcome"``: "true"/"false"."""
    task_run_id: int = 0
    """``{{task.run_id}}``: a new id each time the task runs in a (repair) run."""
    repair_count: int = 0
    """The repair whose result this is (0: the original run)."""
    notes: list[str] = field(default_factory=list)
    """Things the runner did differently from Databricks, said plainly (e.g. a capped max_retries -1)."""

    @property
    def outcome(self) -> str | None:
        """A condition task's outcome, "true" or "false" (None for other tasks or before it ran)."""
        return None if self.condition is None else self.condition.get("outcome")

    @property
    def duration(self) -> float | None:
        return _seconds(self.start_time, self.end_time)

    @property
    def attempts_in_repair(self) -> list[Attempt]:
        """Attempts of the latest (repair) run that ran this task."""
        return [a for a in self.attempts if a.repair_count == self.repair_count]

    def to_dict(self) -> dict[str, Any]:
        return {
            "task_key": self.task_key, "result_state": self.result_state, "type": self.type,
            "depends_on": [dict(d) for d in self.depends_on], "run_if": self.run_if,
            "notebook_path": self.notebook_path, "notebook_file": self.notebook_file,
            "life_cycle_state": self.life_cycle_state, "message": self.message,
            "start_time": _time_out(self.start_time), "end_time": _time_out(self.end_time),
            "duration_seconds": self.duration, "attempts": [a.to_dict() for a in self.attempts],
            "parameters": dict(self.parameters), "task_values": dict(self.task_values),
            "exit_value": self.exit_value, "condition": self.condition, "outcome": self.outcome,
            "task_run_id": self.task_run_id, "repair_count": self.repair_count, "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskRun:
        return cls(
            task_key=data["task_key"], type=data.get("type", "notebook"),
            depends_on=[dict(d) for d in data.get("depends_on") or []], run_if=data.get("run_if", "ALL_SUCCESS"),
            notebook_path=data.get("notebook_path"), notebook_file=data.get("notebook_file"),
            life_cycle_state=data.get("life_cycle_state", PENDING), result_state=data.get("result_state"),
            message=data.get("message", ""), start_time=_time_in(data.get("start_time")),
            end_time=_time_in(data.get("end_time")),
            attempts=[Attempt.from_dict(a) for a in data.get("attempts") or []],
            parameters=dict(data.get("parameters") or {}), task_values=dict(data.get("task_values") or {}),
            exit_value=data.get("exit_value"), condition=data.get("condition"),
            task_run_id=int(data.get("task_run_id", 0)), repair_count=int(data.get("repair_count", 0)),
            notes=list(data.get("notes") or []))


@dataclass
class Repair:
    """One repair of the run (Jobs API ``repair_history``)."""

    repair_count: int
    """1 for the first repair, +1 each time."""
    start_time: datetime | None = None
    """When the repair started."""
    end_time: datetime | None = None
    """When it ended."""
    rerun_tasks: list[str] = field(default_factory=list)
    """The tasks it re-ran (the unsuccessful ones and everything downstream of them)."""
    parameters_given: dict[str, str] = field(default_factory=dict)
    """Job parameters given to the repair (they override the run's)."""
    previous_result_state: str | None = None
    """The run's result before this repair."""
    previous_task_states: dict[str, str | None] = field(default_factory=dict)
    """task_key → result before this repair."""
    result_state: str | None = None
    """The run's result after it."""

    def to_dict(self) -> dict[str, Any]:
        return {"repair_count": self.repair_count, "start_time": _time_out(self.start_time),
                "end_time": _time_out(self.end_time), "rerun_tasks": list(self.rerun_tasks),
                "parameters_given": dict(self.parameters_given),
                "previous_result_state": self.previous_result_state,
                "previous_task_states": dict(self.previous_task_states), "result_state": self.result_state}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Repair:
        return cls(repair_count=int(data["repair_count"]), start_time=_time_in(data.get("start_time")),
                   end_time=_time_in(data.get("end_time")), rerun_tasks=list(data.get("rerun_tasks") or []),
                   parameters_given=dict(data.get("parameters_given") or {}),
                   previous_result_state=data.get("previous_result_state"),
                   previous_task_states=dict(data.get("previous_task_states") or {}),
                   result_state=data.get("result_state"))


@dataclass
class RunRecord:
    """A whole job run: parameters, tasks in job order, result, repairs."""

    run_id: int
    """``{{job.run_id}}``: unique under the runs folder, increasing."""
    job_name: str
    """The job's name."""
    job_path: str
    """The job definition file that ran (a repair reloads it)."""
    run_dir: str
    """The run folder: this record, and ``tasks/<task_key>/attempt_<n>.ipynb``."""
    job_key: str = ""
    """The bundle's resource key (or one derived from the name)."""
    job_shape: str = "bundle"
    """How the job file is written: ``bundle``, ``create`` or ``get`` (a repair reloads it the same way)."""
    job_id: int = 0
    """``{{job.id}}``: the ``jobs get`` id when the file has one, else a stable local id."""
    result_state: str | None = None
    """SUCCESS, SUCCESS_WITH_FAILURES, FAILED, TIMEDOUT (job timeout) or CANCELED; None while running."""
    life_cycle_state: str = RUNNING
    """RUNNING or TERMINATED."""
    message: str = ""
    """Why the run ended that way, in one line."""
    start_time: datetime | None = None
    """``{{job.start_time}}``: when the original run started."""
    end_time: datetime | None = None
    """When the last (repair) run ended."""
    parameters_given: dict[str, str] = field(default_factory=dict)
    """Job parameters as given for the run (``--param``), before defaults and references."""
    parameters: dict[str, str] = field(default_factory=dict)
    """Job parameters as resolved: defaults overridden by the given ones, references replaced."""
    tasks: list[TaskRun] = field(default_factory=list)
    """Every task, in job order."""
    repair_count: int = 0
    """``{{job.repair_count}}``: 0 for the original run, +1 per repair."""
    repairs: list[Repair] = field(default_factory=list)
    """Each repair, oldest first."""
    max_parallel: int = 2
    """How many notebook tasks ran at once at most."""
    timeout_seconds: int = 0
    """The job's timeout_seconds (0: none)."""
    pid: int | None = None
    """Process running the run; set while RUNNING, so a repair can tell a crashed run from a live one."""
    notes: list[str] = field(default_factory=list)
    """Run-level remarks (capped retries, tasks that cannot run locally)."""

    def task(self, task_key: str) -> TaskRun:
        """The task with that key (KeyError naming the known keys otherwise)."""
        for t in self.tasks:
            if t.task_key == task_key:
                return t
        raise KeyError(f"no task {task_key!r} in run {self.run_id} (tasks: {', '.join(self.task_keys)})")

    @property
    def task_keys(self) -> list[str]:
        return [t.task_key for t in self.tasks]

    @property
    def states(self) -> dict[str, str | None]:
        """task_key → result state."""
        return {t.task_key: t.result_state for t in self.tasks}

    @property
    def duration(self) -> float | None:
        return _seconds(self.start_time, self.end_time)

    @property
    def path(self) -> Path:
        """The ``run.json`` file."""
        return Path(self.run_dir) / RECORD_NAME

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "job_name": self.job_name, "result_state": self.result_state,
            "tasks": [t.to_dict() for t in self.tasks],
            "life_cycle_state": self.life_cycle_state, "message": self.message, "job_key": self.job_key,
            "job_shape": self.job_shape, "job_id": self.job_id, "job_path": self.job_path, "run_dir": self.run_dir,
            "start_time": _time_out(self.start_time), "end_time": _time_out(self.end_time),
            "duration_seconds": self.duration, "parameters_given": dict(self.parameters_given),
            "parameters": dict(self.parameters), "repair_count": self.repair_count,
            "repair_history": [r.to_dict() for r in self.repairs], "max_parallel": self.max_parallel,
            "timeout_seconds": self.timeout_seconds, "pid": self.pid, "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        known = {f.name for f in fields(cls)}
        missing = [k for k in ("run_id", "job_name", "job_path", "run_dir") if k not in data]
        if missing:
            raise ValueError(f"run record lacks {', '.join(missing)}")
        simple = {k: v for k, v in data.items() if k in known and k not in (
            "tasks", "repairs", "start_time", "end_time", "parameters_given", "parameters", "notes")}
        return cls(**simple, tasks=[TaskRun.from_dict(t) for t in data.get("tasks") or []],
                   repairs=[Repair.from_dict(r) for r in data.get("repair_history") or []],
                   start_time=_time_in(data.get("start_time")), end_time=_time_in(data.get("end_time")),
                   parameters_given=dict(data.get("parameters_given") or {}),
                   parameters=dict(data.get("parameters") or {}), notes=list(data.get("notes") or []))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str) + "\n"

    def save(self) -> Path:
        """Write ``run.json`` atomically (readers never see half a file)."""
        atomic_write(self.path, self.to_json())
        return self.path


# --------------------------------------------------------------------------------------------- run folders

_ID_RE = re.compile(r"[0-9]+")


def runs_root(runs_dir: Path | None = None) -> Path:
    """The folder holding run folders (default: the kit home's ``runs``)."""
    return Path(runs_dir) if runs_dir is not None else settings().runs_dir


def run_ids(runs_dir: Path | None = None) -> list[int]:
    """Ids of the run folders under the runs folder, ascending."""
    root = runs_root(runs_dir)
    if not root.is_dir():
        return []
    return sorted(int(p.name) for p in root.iterdir() if p.is_dir() and _ID_RE.fullmatch(p.name))


def new_run_dir(runs_dir: Path | None = None) -> tuple[int, Path]:
    """Reserve the next run id by creating its folder.

    ``mkdir`` either creates the folder or fails because it exists, on every OS, so two processes starting
    runs at the same moment never get the same id: the loser just tries the next number.
    """
    root = runs_root(runs_dir)
    root.mkdir(parents=True, exist_ok=True)
    candidate = (run_ids(root) or [0])[-1] + 1
    while True:
        folder = root / str(candidate)
        try:
            folder.mkdir()
        except FileExistsError:
            candidate += 1
            continue
        return candidate, folder


def attempt_notebook(task_key: str, number: int) -> str:
    """Where an attempt's executed notebook goes, relative to the run folder."""
    return f"{TASKS_DIR}/{task_key}/attempt_{number}.ipynb"


def _resolve_run_ref(run_id: int | str, root: Path) -> int:
    text = str(run_id).strip().lower()
    if text in ("last", "latest"):
        ids = run_ids(root)
        if not ids:
            raise JobRunError(f"There are no runs in {root} yet.", hint="Start one with `day07 run`.")
        return ids[-1]
    if not _ID_RE.fullmatch(text):
        raise JobRunError(f"Run id {run_id!r} is not a number.",
                          hint="Use the number shown after the run (its folder name), or `last`.")
    return int(text)


def load_run(*, run_id: int | str, runs_dir: Path | None = None) -> RunRecord:
    """Read a run's record; ``run_id`` may be ``last``. Raises :class:`JobRunError` naming what is missing."""
    root = runs_root(runs_dir)
    number = _resolve_run_ref(run_id, root)
    path = root / str(number) / RECORD_NAME
    if not path.is_file():
        known = run_ids(root)
        shown = ", ".join(str(i) for i in known[-5:]) or "none"
        raise JobRunError(f"No run {number} in {root} (no {path.name} there).",
                          hint=f"Latest runs: {shown}.")
    try:
        record = RunRecord.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError, KeyError) as exc:
        raise JobRunError(f"{path}: the run record cannot be read ({exc}).",
                          hint="It was edited or cut short; start a new run instead.") from None
    record.run_dir = str(path.parent)
    return record


def pid_alive(pid: int | None) -> bool:
    """True when a process with that id exists (a run still in progress)."""
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True
