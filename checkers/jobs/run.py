"""Run a Databricks job locally, task by task, the way Databricks runs it; repair a run that failed.

Notebook tasks run in their own Jupyter kernels (so threads are enough for parallelism), condition tasks
are evaluated in place. Everything a learner can see on Databricks is reproduced and recorded in the run
folder (:mod:`checkers.jobs.record`): task order, parallel branches, parameters and references, task
values, run_if, condition branches, retries, timeouts, disabled tasks, the job result and repairs.

Rules followed, with their Databricks sources:

- "Configure task dependencies" (``jobs/run-if``): ALL_SUCCESS, AT_LEAST_ONE_SUCCESS and NONE_FAILED mark
  the task *Upstream failed* when not met; AT_LEAST_ONE_FAILED and ALL_FAILED mark it *Excluded*;
  "Excluded tasks are skipped and are treated as successful"; "If all task dependencies are excluded, the
  task is also excluded, regardless of its Run if condition"; "If a task run is canceled, the cancellation
  propagates to downstream tasks, and tasks with Run if conditions that handle failures will run".
  NONE_FAILED is "none of the dependencies have failed and at least one was executed" (Jobs API RunIf).
- "How does Databricks determine job run status?": SUCCESS when all tasks succeeded, SUCCESS_WITH_FAILURES
  when some failed but every leaf (a task nothing depends on) succeeded, FAILED when a leaf failed.
- "Disabled tasks in Lakeflow Jobs" (``jobs/disabled-tasks``): a disabled task ends DISABLED; "if a
  downstream task's Run if condition can't be met because one or more parent tasks are disabled", the
  downstream task is DISABLED too. Per run_if: ALL_SUCCESS does not run (a disabled parent does not satisfy
  "succeeded"); AT_LEAST_ONE_SUCCESS runs if another parent succeeded; NONE_FAILED runs if at least one
  parent completed without failure (``A (disabled), C (skipped) → B runs``), not when all are disabled;
  ALL_DONE runs (disabled counts as done); AT_LEAST_ONE_FAILED runs if another parent failed; ALL_FAILED
  does not run (a disabled parent is not a failure). "Because a parent is disabled" is read here as: the
  condition is unmet, but would be met had the disabled parents succeeded.
- "Add branching logic with the If/else condition task": ``==``/``!=`` compare text ("12.0 == 12" is
  false), ``>``, ``>=``, ``<``, ``<=`` compare numbers ("12.0 >= 12" is true). A task depending on a
  condition task with an ``outcome`` runs on that branch only; for it the other branch is EXCLUDED.
- Retries (Jobs API ``Task``): a failed attempt is retried up to ``max_retries`` times, waiting
  ``min_retry_interval_millis`` first; a timed-out one only with ``retry_on_timeout`` (default false).
  ``max_retries: -1`` (retry forever) is capped at :data:`FOREVER_RETRIES_CAP` retries here, and the record
  says so. ``timeout_seconds`` on a task stops that attempt (TIMEDOUT); on the job, it stops the whole run:
  tasks running then end TIMEDOUT, tasks not started end CANCELED, and the run's result is TIMEDOUT.
- Condition tasks are evaluated once: a retry could not change their result.
- Repair ("Repair an unsuccessful job run", Jobs API ``runs/repair``): re-run the unsuccessful tasks and
  their dependents with the *current* job settings, keep the successful ones (and their task values),
  record it in the same run, and increase ``{{job.repair_count}}``.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from databricks.sdk.service import jobs

from checkers.errors import CheckersError, JobRunError
from checkers.jobs.load import LoadedJob, load_job
from checkers.jobs.record import (
    CANCELED,
    DISABLED,
    EXCLUDED,
    FAILED,
    PENDING,
    RUNNING,
    SKIPPED,
    SUCCESS,
    SUCCESS_WITH_FAILURES,
    TERMINATED,
    TIMEDOUT,
    UPSTREAM_CANCELED,
    UPSTREAM_FAILED,
    WAITING_FOR_RETRY,
    Attempt,
    Repair,
    RunRecord,
    TaskRun,
    attempt_notebook,
    load_run,
    new_run_dir,
    now_utc,
    pid_alive,
)
from checkers.jobs.refs import RefContext, RefError, resolve
from checkers.runtime.progress import QueryProgress

FOREVER_RETRIES_CAP = 5
"""``max_retries: -1`` means "retry forever" on Databricks; a local run stops after this many retries."""

RUN_IF_VALUES = ("ALL_SUCCESS", "AT_LEAST_ONE_SUCCESS", "NONE_FAILED", "ALL_DONE", "AT_LEAST_ONE_FAILED",
                 "ALL_FAILED")
#: run_if values whose unmet condition means EXCLUDED (the others mean UPSTREAM_FAILED).
FAILURE_HANDLING = ("AT_LEAST_ONE_FAILED", "ALL_FAILED")

SUCCEEDED = frozenset({SUCCESS, EXCLUDED})
"""Results that count as success for a dependent (excluded tasks are treated as successful)."""
FAILED_LIKE = frozenset({FAILED, TIMEDOUT, UPSTREAM_FAILED})
"""Results that count as a failure and make an unmet dependent UPSTREAM_FAILED."""
CANCELED_LIKE = frozenset({CANCELED, UPSTREAM_CANCELED})
"""Canceled results: failures for failure-handling run_if values; an unmet dependent is UPSTREAM_CANCELED."""
UNSUCCESSFUL = FAILED_LIKE | CANCELED_LIKE
"""Results that make a job SUCCESS_WITH_FAILURES, or FAILED when a leaf has one."""

NUMERIC_OPS = {
    "GREATER_THAN": (">", lambda a, b: a > b),
    "GREATER_THAN_OR_EQUAL": (">=", lambda a, b: a >= b),
    "LESS_THAN": ("<", lambda a, b: a < b),
    "LESS_THAN_OR_EQUAL": ("<=", lambda a, b: a <= b),
}
TEXT_OPS = {"EQUAL_TO": ("==", lambda a, b: a == b), "NOT_EQUAL": ("!=", lambda a, b: a != b)}


def _met(run_if: str, states: Sequence[str]) -> bool:
    succeeded = [s in SUCCEEDED for s in states]
    failed = [s in UNSUCCESSFUL for s in states]
    if run_if == "ALL_SUCCESS":
        return all(succeeded)
    if run_if == "AT_LEAST_ONE_SUCCESS":
        return any(succeeded)
    if run_if == "NONE_FAILED":
        return not any(failed) and any(s != DISABLED for s in states)
    if run_if == "ALL_DONE":
        return True
    if run_if == "AT_LEAST_ONE_FAILED":
        return any(failed)
    if run_if == "ALL_FAILED":
        return all(failed)
    raise ValueError(f"unknown run_if {run_if!r}; expected one of {', '.join(RUN_IF_VALUES)}")


def run_if_decision(run_if: str | None, upstream: Sequence[str]) -> str | None:
    """None when the task runs; otherwise the state it ends in without running.

    ``upstream`` holds each dependency's result as this task sees it (see :func:`dependency_state`).
    A task without dependencies always runs.
    """
    run_if = run_if or "ALL_SUCCESS"
    if not upstream:
        return None
    if all(s == EXCLUDED for s in upstream):
        return EXCLUDED
    if _met(run_if, upstream):
        return None
    if DISABLED in upstream and _met(run_if, [SUCCESS if s == DISABLED else s for s in upstream]):
        return DISABLED
    if run_if in FAILURE_HANDLING:
        return EXCLUDED
    if not any(s in FAILED_LIKE for s in upstream) and any(s in CANCELED_LIKE for s in upstream):
        return UPSTREAM_CANCELED
    return UPSTREAM_FAILED


def dependency_state(result_state: str, *, outcome_wanted: str | None, outcome: str | None) -> str:
    """An upstream result as one dependent sees it: a condition branch not taken is EXCLUDED for it."""
    if outcome_wanted is not None and result_state == SUCCESS and outcome is not None and outcome != outcome_wanted:
        return EXCLUDED
    return result_state


def unmet_reason(run_if: str | None, upstream: dict[str, str], state: str) -> str:
    """One line saying why a task was skipped, naming the upstream results that decided it."""
    run_if = run_if or "ALL_SUCCESS"
    shown = ", ".join(f"{k} {v}" for k, v in upstream.items())
    if state == EXCLUDED and all(s == EXCLUDED for s in upstream.values()):
        return f"every dependency was excluded ({shown}), so this task is excluded too"
    if state == DISABLED:
        return f"run_if {run_if} cannot be met because a dependency is disabled ({shown})"
    return f"run_if {run_if} not met ({shown})"


class ConditionError(ValueError):
    """A condition task cannot be evaluated (an operand that is not a number for a numeric op)."""


def _number(text: str, side: str, op: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ConditionError(f"`{side}` is {text!r}, which is not a number; {op} compares numbers.") from None
    if math.isnan(value):
        raise ConditionError(f"`{side}` is {text!r}, which is not a number; {op} compares numbers.")
    return value


def evaluate_condition(op: str, left: str, right: str) -> tuple[bool, str]:
    """(outcome, text shown to the learner); raises :class:`ConditionError` for unparsable numbers."""
    if op in TEXT_OPS:
        symbol, fn = TEXT_OPS[op]
        outcome = fn(left, right)
        return outcome, f"{left!r} {symbol} {right!r} is {str(outcome).lower()} ({op}, text comparison)"
    if op in NUMERIC_OPS:
        symbol, fn = NUMERIC_OPS[op]
        outcome = fn(_number(left, "left", op), _number(right, "right", op))
        return outcome, f"{left} {symbol} {right} is {str(outcome).lower()} ({op}, numeric comparison)"
    raise ConditionError(f"unknown condition op {op!r}; use one of {', '.join([*TEXT_OPS, *NUMERIC_OPS])}.")


def job_result(states: dict[str, str | None], leaves: Iterable[str]) -> str:
    """SUCCESS, SUCCESS_WITH_FAILURES or FAILED from the task results and the leaf tasks."""
    if any(states.get(leaf) in UNSUCCESSFUL or states.get(leaf) is None for leaf in leaves):
        return FAILED
    if any(s in UNSUCCESSFUL for s in states.values()):
        return SUCCESS_WITH_FAILURES
    return SUCCESS


# --------------------------------------------------------------------------------------------- events


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


# --------------------------------------------------------------------------------------------- the graph

_SPARK_RE = re.compile(r"\bspark\b|^\s*%sql\b", re.MULTILINE)


@dataclass
class _Plan:
    """The job as a graph: tasks in job order, their dependencies both ways."""

    order: list[str]
    tasks: dict[str, jobs.Task]
    upstream: dict[str, list[jobs.TaskDependency]]
    downstream: dict[str, set[str]]

    @property
    def leaves(self) -> list[str]:
        """Tasks nothing depends on: they decide the job's result."""
        return [k for k in self.order if not self.downstream[k]]

    def ancestors(self, key: str) -> set[str]:
        seen: set[str] = set()
        todo = [d.task_key for d in self.upstream[key]]
        while todo:
            k = todo.pop()
            if k not in seen:
                seen.add(k)
                todo.extend(d.task_key for d in self.upstream[k])
        return seen

    def descendants(self, keys: Iterable[str]) -> set[str]:
        seen: set[str] = set()
        todo = [d for k in keys for d in self.downstream[k]]
        while todo:
            k = todo.pop()
            if k not in seen:
                seen.add(k)
                todo.extend(self.downstream[k])
        return seen


def _plan(job: LoadedJob) -> _Plan:
    """Order and link the tasks; a job that cannot run at all (cycle, unknown dependency) raises."""
    tasks: dict[str, jobs.Task] = {}
    for task in job.settings.tasks or []:
        if task.task_key in tasks:
            raise JobRunError(f"{job.path}: task key `{task.task_key}` is used twice, so the job cannot run.",
                              hint="Give every task its own task_key.")
        tasks[task.task_key] = task
    if not tasks:
        raise JobRunError(f"{job.path}: the job has no tasks to run.", hint="Add a `tasks:` list.")
    upstream = {k: list(t.depends_on or []) for k, t in tasks.items()}
    downstream: dict[str, set[str]] = {k: set() for k in tasks}
    for key, deps in upstream.items():
        for dep in deps:
            if dep.task_key not in tasks:
                raise JobRunError(f"{job.path}: task `{key}` depends on `{dep.task_key}`, which the job does not "
                                  "have.", hint="Run `day07 job validate` on the file for details.")
            downstream[dep.task_key].add(key)
    # Kahn's algorithm: whatever never becomes ready sits on a cycle
    waiting = {k: len({d.task_key for d in deps}) for k, deps in upstream.items()}
    ready = [k for k, n in waiting.items() if n == 0]
    while ready:
        k = ready.pop()
        for child in downstream[k]:
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    stuck = [k for k, n in waiting.items() if n > 0]
    if stuck:
        raise JobRunError(f"{job.path}: tasks {', '.join(stuck)} depend on each other in a cycle, so none of "
                          "them can start.", hint="Run `day07 job validate` on the file to see the cycle.")
    return _Plan(order=list(tasks), tasks=tasks, upstream=upstream, downstream=downstream)


def _task_type(task: jobs.Task) -> str:
    if task.notebook_task is not None:
        return "notebook"
    if task.condition_task is not None:
        return "condition"
    for name in ("spark_python_task", "python_wheel_task", "sql_task", "run_job_task", "for_each_task",
                 "pipeline_task", "dbt_task", "spark_jar_task", "spark_submit_task"):
        if getattr(task, name, None) is not None:
            return name
    return "unknown"


def _task_run(task: jobs.Task, job: LoadedJob) -> TaskRun:
    file = job.notebooks.get(task.task_key)
    return TaskRun(
        task_key=task.task_key, type=_task_type(task),
        depends_on=[{"task_key": d.task_key, **({"outcome": d.outcome} if d.outcome else {})}
                    for d in task.depends_on or []],
        run_if=task.run_if.value if task.run_if else "ALL_SUCCESS",
        notebook_path=task.notebook_task.notebook_path if task.notebook_task else None,
        notebook_file=str(file) if file else None)


def _job_id(job: LoadedJob) -> int:
    """The ``jobs get`` id when there is one, else a stable number derived from the job file's path."""
    if job.job_id is not None:
        return job.job_id
    return zlib.crc32(str(job.path.resolve()).encode("utf-8")) % 1_000_000_000


def _merge_parameters(job: LoadedJob, given: dict[str, str]) -> dict[str, str]:
    """Job parameter defaults overridden by the values given for the run; an unknown name is an error."""
    defaults = {p.name: p.default or "" for p in job.settings.parameters or [] if p.name}
    unknown = [k for k in given if k not in defaults]
    if unknown:
        known = ", ".join(defaults) or "none"
        raise JobRunError(f"{job.path}: the job has no parameter {', '.join(f'`{k}`' for k in unknown)} "
                          f"(its parameters: {known}).",
                          hint="Run parameters override job parameters; add it under the job's `parameters:` "
                               "with a default, or fix the name.")
    return {**defaults, **given}


def _resolve_parameters(merged: dict[str, str], record: RunRecord) -> dict[str, str]:
    """Job parameter values with their references resolved once, at the start of the (repair) run."""
    context = RefContext(job_id=record.job_id, job_name=record.job_name, run_id=record.run_id,
                         repair_count=record.repair_count, start_time=record.start_time or now_utc(),
                         job_parameters=merged)
    out = {}
    for name, value in merged.items():
        try:
            out[name] = resolve(value, context=context)
        except RefError as exc:
            raise JobRunError(f"job parameter `{name}`: {exc.message}", hint=exc.hint) from None
    return out


def _uses_spark(path: Path) -> bool:
    from checkers.notebooks.formats import read_notebook

    try:
        nb = read_notebook(path)
    except CheckersError:
        return False  # the task reports the broken notebook itself
    return any(c.cell_type == "code" and _SPARK_RE.search(c.source) for c in nb.cells)


def needs_spark(job: LoadedJob, *, task_keys: Iterable[str] | None = None) -> bool:
    """True when a notebook the job would run mentions ``spark`` or ``%sql`` (so the run starts the server)."""
    tasks = job.tasks
    keys = list(tasks) if task_keys is None else list(task_keys)
    return any(_uses_spark(job.notebooks[k]) for k in keys
               if k in job.notebooks and k in tasks and tasks[k].notebook_task and not tasks[k].disabled)


def _kernel_env(job: LoadedJob, keys: Iterable[str], *, spark: bool | None,
                env: dict[str, str] | None) -> dict[str, str]:
    """Environment for every kernel of the run: the kit's shared Spark server, started once, if needed, unless the
    caller chose a server (``SPARK_REMOTE`` in ``env``: a grading worker's own)."""
    out = dict(env or {})
    if "SPARK_REMOTE" in out:
        return out
    if spark is None:
        spark = needs_spark(job, task_keys=keys)
    if spark:
        from checkers.spark.client import kernel_env
        from checkers.spark.server import ensure_server

        out.update(kernel_env(ensure_server()))
    return out


# --------------------------------------------------------------------------------------------- running

class _Runner:
    """Runs a set of tasks of one record to completion; shared by the first run and repairs."""

    def __init__(self, *, job: LoadedJob, plan: _Plan, record: RunRecord, max_parallel: int,
                 cell_timeout: float | None, on_event: EventHandler | None, env: dict[str, str],
                 skip_kit_checks: bool = False, max_retry_interval: float | None = None) -> None:
        self.job = job
        self.skip_kit_checks = skip_kit_checks
        self.max_retry_interval = max_retry_interval
        self.plan = plan
        self.record = record
        self.max_parallel = max_parallel
        self.cell_timeout = cell_timeout
        self.on_event = on_event
        self.env = env
        self.lock = threading.RLock()
        self.stop = threading.Event()
        self.deadline: float | None = None
        self.timed_out = False
        self.by_key = {t.task_key: t for t in record.tasks}
        self.run_dir = Path(record.run_dir)

    # -- bookkeeping (callers hold the lock)
    def emit(self, kind: str, task_key: str | None = None, attempt: Attempt | None = None) -> None:
        self.record.save()
        if self.on_event is None:
            return
        try:
            self.on_event(RunEvent(kind=kind, record=self.record, task_key=task_key, attempt=attempt))
        except Exception as exc:  # a broken display must not break the run
            self.on_event = None
            self.record.notes.append(f"the event handler raised {type(exc).__name__}: {exc}; updates stopped")

    def progress(self, key: str, update: QueryProgress) -> None:
        """A long Spark query of task ``key`` moved on: tell the handler (the record is not saved for it)."""
        handler = self.on_event
        if handler is None:
            return
        with self.lock:
            try:
                handler(RunEvent(kind="task_progress", record=self.record, task_key=key, progress=update))
            except Exception:  # noqa: BLE001 - a broken display must not break the run
                pass

    def finish(self, key: str, state: str, message: str, *, skipped: bool) -> None:
        task = self.by_key[key]
        task.result_state = state
        task.message = message
        task.life_cycle_state = SKIPPED if skipped else TERMINATED
        task.end_time = now_utc()
        self.emit("task_finished", key)

    def context(self, key: str, *, execution_count: int) -> RefContext:
        task = self.by_key[key]
        upstream = self.plan.ancestors(key)
        done = [t for t in self.record.tasks if t.result_state is not None]
        return RefContext(
            job_id=self.record.job_id, job_name=self.record.job_name, run_id=self.record.run_id,
            repair_count=self.record.repair_count, start_time=self.record.start_time or now_utc(),
            job_parameters=dict(self.record.parameters), task_name=key, task_run_id=task.task_run_id,
            execution_count=execution_count, notebook_path=task.notebook_path,
            task_values={k: dict(self.by_key[k].task_values) for k in upstream if self.by_key[k].task_values},
            task_result_states={t.task_key: t.result_state or "" for t in done},
            task_run_ids={t.task_key: t.task_run_id for t in done},
            task_execution_counts={t.task_key: len(t.attempts_in_repair) for t in done})

    def upstream_view(self, key: str) -> list[tuple[str, str]]:
        """Each dependency's result as this task sees it (a branch not taken is EXCLUDED)."""
        view = []
        for dep in self.plan.upstream[key]:
            up = self.by_key[dep.task_key]
            state = dependency_state(up.result_state or "", outcome_wanted=dep.outcome, outcome=up.outcome)
            label = dep.task_key
            if dep.outcome and up.outcome is not None and up.outcome != dep.outcome:
                label = f"{dep.task_key} [outcome {up.outcome}: branch {dep.outcome} not taken]"
            view.append((label, state))
        return view

    # -- the scheduling loop
    def execute(self, keys: Sequence[str]) -> None:
        wanted = set(keys)
        position = {k: i + 1 for i, k in enumerate(self.plan.order)}
        with self.lock:
            for key in keys:
                task = self.by_key[key]
                task.result_state = None
                task.life_cycle_state = PENDING
                task.message = ""
                task.start_time = task.end_time = None
                task.parameters, task.task_values, task.exit_value, task.condition = {}, {}, None, None
                task.repair_count = self.record.repair_count
                task.task_run_id = self.record.run_id * 1_000_000 + self.record.repair_count * 10_000 + position[key]
            self.emit("run_started")
        timeout = self.job.settings.timeout_seconds or 0
        self.deadline = time.monotonic() + timeout if timeout > 0 else None
        pending = [k for k in self.plan.order if k in wanted]
        running: dict[Future[None], str] = {}
        pool = ThreadPoolExecutor(max_workers=self.max_parallel, thread_name_prefix="day07-task")
        try:
            while True:
                if self.deadline is not None and not self.timed_out and time.monotonic() >= self.deadline:
                    self.time_out(pending)
                    pending = []
                if not self.timed_out:
                    pending = self.start_ready(pending, running, pool)
                if not running:
                    if pending:  # cannot happen for a checked graph; never hang if it does
                        with self.lock:
                            for key in pending:
                                self.finish(key, CANCELED, "never became ready (its dependencies did not run)",
                                            skipped=True)
                    break
                limit = None
                if self.deadline is not None and not self.timed_out:
                    limit = max(0.0, self.deadline - time.monotonic())
                done, _ = wait(list(running), timeout=limit, return_when=FIRST_COMPLETED)
                for future in done:
                    running.pop(future)
                    future.result()
        except KeyboardInterrupt:
            self.stop.set()
            with self.lock:
                for key in [*pending, *running.values()]:
                    self.finish(key, CANCELED, "canceled: the run was interrupted (Ctrl-C)", skipped=key in pending)
                self.record.result_state, self.record.life_cycle_state = CANCELED, TERMINATED
                self.record.message, self.record.end_time, self.record.pid = "interrupted (Ctrl-C)", now_utc(), None
                self.record.save()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)

    def start_ready(self, pending: list[str], running: dict[Future[None], str],
                    pool: ThreadPoolExecutor) -> list[str]:
        """Start (or skip) every task whose dependencies are done, as slots allow; returns what still waits."""
        progressed = True
        while progressed:
            progressed = False
            for key in list(pending):
                if any(self.by_key[d.task_key].result_state is None for d in self.plan.upstream[key]):
                    continue
                task = self.plan.tasks[key]
                run = self.by_key[key]
                if task.disabled:
                    with self.lock:
                        self.finish(key, DISABLED, "the task is disabled (`disabled: true`)", skipped=True)
                elif (decision := run_if_decision(run.run_if, [s for _, s in self.upstream_view(key)])):
                    with self.lock:
                        reason = unmet_reason(run.run_if, dict(self.upstream_view(key)), decision)
                        self.finish(key, decision, reason, skipped=True)
                elif run.type == "condition":
                    self.run_condition(key)
                elif run.type == "notebook":
                    if len(running) >= self.max_parallel:
                        continue
                    with self.lock:
                        run.life_cycle_state = RUNNING
                        run.start_time = now_utc()
                    running[pool.submit(self.run_notebook_task, key)] = key
                else:
                    with self.lock:
                        self.finish(key, FAILED, f"`{run.type}` tasks cannot run locally; only notebook_task and "
                                    "condition_task tasks do.", skipped=False)
                pending.remove(key)
                progressed = True
        return pending

    def time_out(self, pending: list[str]) -> None:
        """The job's timeout_seconds is reached: stop waiting tasks; running ones stop at the same deadline."""
        with self.lock:
            self.timed_out = True
            self.stop.set()
            for key in pending:
                self.finish(key, CANCELED, f"not started: the job run reached its timeout_seconds "
                            f"({self.job.settings.timeout_seconds} s)", skipped=True)

    # -- condition tasks
    def run_condition(self, key: str) -> None:
        cond = self.plan.tasks[key].condition_task
        assert cond is not None
        with self.lock:
            run = self.by_key[key]
            run.life_cycle_state = RUNNING
            run.start_time = now_utc()
            attempt = Attempt(number=len(run.attempts) + 1, execution_count=1,
                              repair_count=self.record.repair_count, start_time=run.start_time)
            run.attempts.append(attempt)
            self.emit("task_started", key, attempt)
            context = self.context(key, execution_count=1)
        op = cond.op.value if cond.op else ""
        try:
            left = resolve(cond.left or "", context=context)
            right = resolve(cond.right or "", context=context)
            run.condition = {"op": op, "left": left, "right": right}
            outcome, text = evaluate_condition(op, left, right)
        except (RefError, ConditionError) as exc:
            state, message = FAILED, f"condition cannot be evaluated: {exc}"
        else:
            run.condition = {"op": op, "left": left, "right": right, "outcome": "true" if outcome else "false"}
            state, message = SUCCESS, text
        with self.lock:
            attempt.state, attempt.message, attempt.end_time = state, message, now_utc()
            self.finish(key, state, message, skipped=False)

    # -- notebook tasks (in a worker thread)
    def run_notebook_task(self, key: str) -> None:
        try:
            self.run_attempts(key)
        except Exception as exc:  # a bug here must end the task, not leave the run waiting for it forever
            with self.lock:
                self.finish(key, FAILED, f"internal error in the local runner: {type(exc).__name__}: {exc}",
                            skipped=False)

    def run_attempts(self, key: str) -> None:
        task = self.plan.tasks[key]
        run = self.by_key[key]
        retries = task.max_retries or 0
        if retries < 0:
            retries = FOREVER_RETRIES_CAP
            with self.lock:
                note = (f"max_retries -1 (retry forever) is capped at {FOREVER_RETRIES_CAP} retries when running "
                        "locally")
                if note not in run.notes:
                    run.notes.append(note)
        interval = max(0, task.min_retry_interval_millis or 0) / 1000
        if self.max_retry_interval is not None and interval > self.max_retry_interval:
            interval = self.max_retry_interval
            with self.lock:
                note = (f"min_retry_interval_millis is capped at {self.max_retry_interval:g} s here "
                        "(the grader does not wait minutes between retries)")
                if note not in run.notes:
                    run.notes.append(note)
        execution = 0
        while True:
            execution += 1
            attempt, retriable = self.notebook_attempt(key, task, execution)
            state = attempt.state or FAILED
            if state == TIMEDOUT:
                retriable = retriable and bool(task.retry_on_timeout) and not self.timed_out
            if state == SUCCESS or not retriable or self.timed_out or execution > retries:
                final, message = state, attempt.message
                if state != SUCCESS and retriable and execution > retries and retries > 0:
                    message += f" (gave up after {execution} attempts)"
                break
            with self.lock:
                run.life_cycle_state = WAITING_FOR_RETRY
                run.message = (f"attempt {execution} {state}; retry {execution}/{retries} in {interval:g} s "
                               "(min_retry_interval_millis)")
                self.emit("task_retrying", key, attempt)
            if self.stop.wait(interval) or self.timed_out:
                final = TIMEDOUT
                message = "the job run reached its timeout_seconds while the task waited to retry"
                break
            with self.lock:
                run.life_cycle_state = RUNNING
        with self.lock:
            self.finish(key, final, message, skipped=False)

    def notebook_parameters(self, task: jobs.Task, context: RefContext) -> dict[str, str]:
        """Widget values: base_parameters, then every job parameter over them (run > job > base > widget)."""
        base = (task.notebook_task.base_parameters if task.notebook_task else None) or {}
        params = {name: resolve(str(value), context=context) for name, value in base.items()}
        params.update(self.record.parameters)
        return params

    def notebook_attempt(self, key: str, task: jobs.Task, execution: int) -> tuple[Attempt, bool]:
        """Run the notebook once; returns the attempt and whether a failure may be retried."""
        from checkers.notebooks.execute import execute_notebook

        run = self.by_key[key]
        with self.lock:
            number = len(run.attempts) + 1
            attempt = Attempt(number=number, execution_count=execution, repair_count=self.record.repair_count,
                              start_time=now_utc())
            run.attempts.append(attempt)
            self.emit("task_started", key, attempt)
            context = self.context(key, execution_count=execution)
        retriable = True
        try:
            attempt.parameters = self.notebook_parameters(task, context)
            if run.notebook_file is None:
                raise JobRunError(f"notebook `{run.notebook_path}` not found next to {self.job.path.name}.",
                                  hint="Run `day07 job validate` on the job file.")
            limit = float(task.timeout_seconds) if task.timeout_seconds else None
            job_bound = False
            if self.deadline is not None:
                remaining = self.deadline - time.monotonic()
                if limit is None or remaining < limit:
                    limit, job_bound = remaining, True
            if limit is not None and limit <= 0:
                state, message = TIMEDOUT, "the job run reached its timeout_seconds before the attempt started"
            else:
                output = self.run_dir / attempt_notebook(key, number)
                result = execute_notebook(
                    path=Path(run.notebook_file), parameters=attempt.parameters, output_path=output,
                    cell_timeout=self.cell_timeout, timeout=limit, in_job=True, task_key=key,
                    task_values={k: dict(v) for k, v in context.task_values.items()}, env=self.env,
                    work_dir=output.with_suffix(""), skip_kit_checks=self.skip_kit_checks,
                    job_ids=(self.record.job_id, self.record.run_id, run.task_run_id),
                    on_progress=lambda update: self.progress(key, update))
                attempt.notebook = attempt_notebook(key, number)
                attempt.exit_value = result.exit_value
                attempt.runtime = result.record
                if result.failure is not None:
                    attempt.error = {"cell": result.failure.cell_number, "ename": result.failure.ename,
                                     "evalue": result.failure.evalue}
                with self.lock:
                    run.task_values = dict(result.record.task_values)
                    run.exit_value = result.exit_value
                state, message = self.notebook_state(result.status, result.message, task, job_bound, result.duration)
        except RefError as exc:
            state, message, retriable = FAILED, f"cannot start: {exc.message}", False
        except CheckersError as exc:
            state, message, retriable = FAILED, exc.message, False
        except Exception as exc:  # anything else the executor raised: a failed attempt, not a crashed run
            state, message = FAILED, f"the notebook could not be run: {type(exc).__name__}: {exc}"
        with self.lock:
            attempt.state, attempt.message, attempt.end_time = state, message, now_utc()
            run.parameters = dict(attempt.parameters)
        return attempt, retriable

    def notebook_state(self, status: str, message: str, task: jobs.Task, job_bound: bool,
                       duration: float) -> tuple[str, str]:
        if status == "success":
            return SUCCESS, message
        if status != "timeout":
            return FAILED, message
        if self.timed_out or (job_bound and self.deadline is not None and time.monotonic() >= self.deadline - 1):
            return TIMEDOUT, (f"stopped: the job run reached its timeout_seconds "
                              f"({self.job.settings.timeout_seconds} s) — {message}")
        if task.timeout_seconds and duration >= task.timeout_seconds - 1:
            return TIMEDOUT, f"timed out after {task.timeout_seconds} s (the task's timeout_seconds) — {message}"
        return TIMEDOUT, message

    # -- the end
    def conclude(self) -> None:
        with self.lock:
            record = self.record
            states = {k: self.by_key[k].result_state for k in self.plan.order}
            if self.timed_out:
                record.result_state = TIMEDOUT
                record.message = (f"the job run reached its timeout_seconds ({self.job.settings.timeout_seconds} s):"
                                  " running tasks were stopped, the others canceled")
            else:
                record.result_state = job_result(states, self.plan.leaves)
                record.message = _summary(states, self.plan.leaves, record.result_state)
            record.life_cycle_state = TERMINATED
            record.end_time = now_utc()
            record.pid = None
            self.emit("run_finished")


def _summary(states: dict[str, str | None], leaves: list[str], result: str) -> str:
    bad = [f"{k} {s}" for k, s in states.items() if s in UNSUCCESSFUL]
    if result == SUCCESS:
        return f"all {len(states)} tasks succeeded (or were skipped as success)"
    failed_leaves = [k for k in leaves if states.get(k) in UNSUCCESSFUL]
    if result == SUCCESS_WITH_FAILURES:
        return f"every leaf task succeeded, but not every task: {', '.join(bad)}"
    return f"leaf task{'s' if len(failed_leaves) != 1 else ''} {', '.join(failed_leaves)} did not succeed " \
           f"({', '.join(bad)})"


# --------------------------------------------------------------------------------------------- public API


def _check_parallel(max_parallel: int) -> None:
    if not isinstance(max_parallel, int) or max_parallel < 1:
        raise JobRunError(f"max_parallel is {max_parallel!r}; it must be a whole number of at least 1.",
                          hint="Use --max-parallel 2 (two notebooks at a time) or more.")


def _validated(job: LoadedJob, validate: bool) -> LoadedJob:
    if validate:
        from checkers.jobs.validate import raise_for_errors, validate_job

        raise_for_errors(validate_job(job), path=job.path)
    return job


def run_job(*, job: LoadedJob, parameters: dict[str, str] | None = None, max_parallel: int = 2,
            runs_dir: Path | None = None, cell_timeout: float | None = None,
            on_event: EventHandler | None = None, validate: bool = True, spark: bool | None = None,
            env: dict[str, str] | None = None, skip_kit_checks: bool = False,
            max_retry_interval: float | None = None) -> RunRecord:
    """Run every task of ``job`` locally and return the finished record (also in ``<run folder>/run.json``).

    ``parameters`` are run-now job parameters (they override the job's defaults; unknown names raise).
    ``validate`` refuses a job with validation errors (:class:`JobDefinitionError`); the runner itself
    still refuses what cannot run at all (a cycle). ``spark``: start the shared Spark server before the
    first task (None: only when a notebook mentions ``spark`` or ``%sql``). A failing task is a result,
    not an exception: only a job that cannot start raises (:class:`CheckersError`).
    The grader's options: ``skip_kit_checks`` (see :func:`execute_notebook`) and ``max_retry_interval``
    (seconds; caps ``min_retry_interval_millis``, which a job may set to minutes, while retries still happen).
    """
    _check_parallel(max_parallel)
    _validated(job, validate)
    plan = _plan(job)
    given = {str(k): str(v) for k, v in (parameters or {}).items()}
    merged = _merge_parameters(job, given)
    kernel_env = _kernel_env(job, plan.order, spark=spark, env=env)
    run_id, run_dir = new_run_dir(runs_dir)
    record = RunRecord(run_id=run_id, job_name=job.name, job_path=str(job.path.resolve()), run_dir=str(run_dir),
                       job_key=job.job_key, job_shape=job.shape, job_id=_job_id(job), start_time=now_utc(),
                       parameters_given=given, max_parallel=max_parallel,
                       timeout_seconds=job.settings.timeout_seconds or 0, pid=os.getpid(),
                       tasks=[_task_run(plan.tasks[k], job) for k in plan.order])
    try:
        record.parameters = _resolve_parameters(merged, record)
    except JobRunError:
        import shutil

        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    runner = _Runner(job=job, plan=plan, record=record, max_parallel=max_parallel, cell_timeout=cell_timeout,
                     on_event=on_event, env=kernel_env, skip_kit_checks=skip_kit_checks,
                     max_retry_interval=max_retry_interval)
    runner.execute(plan.order)
    runner.conclude()
    return record


def _reload(record: RunRecord) -> LoadedJob:
    path = Path(record.job_path)
    if not path.is_file():
        raise JobRunError(f"Run {record.run_id} ran {path}, which no longer exists, so it cannot be repaired.",
                          hint="Pass the job file explicitly: day07 run FILE --repair RUN_ID.")
    return load_job(path=path, job_key=record.job_key if record.job_shape == "bundle" else None)


def _close_abandoned(record: RunRecord) -> None:
    """A run whose process died: its unfinished tasks were canceled, as Databricks shows a lost run."""
    for task in record.tasks:
        if task.result_state is None:
            task.result_state = CANCELED
            task.life_cycle_state = SKIPPED if task.life_cycle_state == PENDING else TERMINATED
            task.message = "canceled: the process running the job stopped before this task finished"
    record.result_state = CANCELED
    record.life_cycle_state = TERMINATED
    record.pid = None


def repair_run(*, run_id: int | str, job: LoadedJob | None = None, parameters: dict[str, str] | None = None,
               rerun_tasks: Sequence[str] | None = None, max_parallel: int = 2, runs_dir: Path | None = None,
               cell_timeout: float | None = None, on_event: EventHandler | None = None, validate: bool = True,
               spark: bool | None = None, env: dict[str, str] | None = None, record: RunRecord | None = None,
               skip_kit_checks: bool = False, max_retry_interval: float | None = None) -> RunRecord:
    """Re-run the unsuccessful tasks of run ``run_id`` and everything downstream of them, keeping the rest.

    The job file the run used is reloaded (Databricks repairs with the current settings) unless ``job``
    is given. ``rerun_tasks`` picks the tasks to re-run instead (their dependents always re-run too).
    ``parameters`` override the run's own job parameters for this repair. The repair is recorded in the
    same run folder: ``repair_count`` increases, attempts are appended, kept tasks keep their task values.
    ``record``: the run as the caller holds it (the grader repairs the run it made from memory, never from a
    ``run.json`` the graded notebooks could have rewritten); ``skip_kit_checks`` and ``max_retry_interval`` as in
    :func:`run_job`.
    """
    _check_parallel(max_parallel)
    record = record if record is not None else load_run(run_id=run_id, runs_dir=runs_dir)
    if record.result_state is None or record.life_cycle_state != TERMINATED:
        if pid_alive(record.pid):
            raise JobRunError(f"Run {record.run_id} is still in progress (process {record.pid}).",
                              hint="Wait for it to finish, then repair it.")
        _close_abandoned(record)
    job = _validated(job if job is not None else _reload(record), validate)
    plan = _plan(job)
    previous = {t.task_key: t for t in record.tasks}
    tasks: list[TaskRun] = []
    for key in plan.order:
        fresh = _task_run(plan.tasks[key], job)
        kept = previous.get(key)
        if kept is not None:  # settings as they are now, history as it was
            kept.type, kept.depends_on, kept.run_if = fresh.type, fresh.depends_on, fresh.run_if
            kept.notebook_path, kept.notebook_file = fresh.notebook_path, fresh.notebook_file
        tasks.append(kept or fresh)
    dropped = [k for k in previous if k not in plan.tasks]
    if rerun_tasks:
        unknown = [k for k in rerun_tasks if k not in plan.tasks]
        if unknown:
            raise JobRunError(f"Run {record.run_id} has no task {', '.join(f'`{k}`' for k in unknown)}.",
                              hint=f"Its tasks: {', '.join(plan.order)}.")
        chosen = set(rerun_tasks)
    else:
        chosen = {k for k in plan.order if k not in previous or previous[k].result_state in UNSUCCESSFUL}
    if not chosen:
        raise JobRunError(f"Run {record.run_id} has nothing to repair: no task failed, timed out or was canceled "
                          f"(result {record.result_state}).", hint="Start a new run instead: day07 run FILE.")
    rerun = [k for k in plan.order if k in chosen | plan.descendants(chosen)]
    given = {str(k): str(v) for k, v in (parameters or {}).items()}
    merged = _merge_parameters(job, {**record.parameters_given, **given})
    kernel_env = _kernel_env(job, rerun, spark=spark, env=env)

    repair = Repair(repair_count=record.repair_count + 1, start_time=now_utc(), rerun_tasks=rerun,
                    parameters_given=given, previous_result_state=record.result_state,
                    previous_task_states=record.states)
    record.repair_count = repair.repair_count
    record.repairs.append(repair)
    record.tasks = tasks
    record.notes += [f"repair {repair.repair_count}: task `{k}` is no longer in the job; dropped" for k in dropped]
    record.parameters = _resolve_parameters(merged, record)
    record.result_state, record.life_cycle_state, record.message = None, RUNNING, ""
    record.max_parallel, record.pid = max_parallel, os.getpid()
    record.timeout_seconds = job.settings.timeout_seconds or 0
    runner = _Runner(job=job, plan=plan, record=record, max_parallel=max_parallel, cell_timeout=cell_timeout,
                     on_event=on_event, env=kernel_env, skip_kit_checks=skip_kit_checks,
                     max_retry_interval=max_retry_interval)
    runner.execute(rerun)
    repair.end_time = now_utc()
    runner.conclude()
    repair.result_state = record.result_state
    record.save()
    return record
