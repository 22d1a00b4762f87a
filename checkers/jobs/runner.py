"""Run a planned job's tasks: notebooks in their own kernels on worker threads, condition tasks in place.

This is the process handling of the local runner: the scheduling loop, worker threads, the job's deadline,
Ctrl-C, the run record kept up to date (and saved) at every step, and events for displays. What to decide
at each step comes from :mod:`checkers.jobs.rules`; :mod:`checkers.jobs.run` sets runs and repairs up.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from pathlib import Path
from typing import Any

from databricks.sdk.service import jobs

from checkers.errors import CheckersError, JobRunError
from checkers.jobs.events import EventHandler, RunEvent
from checkers.jobs.load import LoadedJob
from checkers.jobs.plan import Plan
from checkers.jobs.record import (
    CANCELED,
    DISABLED,
    FAILED,
    PENDING,
    RUNNING,
    SKIPPED,
    SUCCESS,
    TERMINATED,
    TIMEDOUT,
    WAITING_FOR_RETRY,
    Attempt,
    RunRecord,
    attempt_notebook,
    now_utc,
)
from checkers.jobs.refs import NO_INPUT, RefContext, RefError, resolve, value_text
from checkers.jobs.rules import (
    ConditionError,
    after_attempt,
    attempt_result,
    attempt_time_limit,
    dependency_state,
    evaluate_condition,
    job_result,
    result_message,
    retry_policy,
    run_if_decision,
    unmet_reason,
)
from checkers.runtime.progress import QueryProgress


class TaskRunner:
    """Runs a set of tasks of one record to completion; shared by the first run and repairs."""

    def __init__(self, *, job: LoadedJob, plan: Plan, record: RunRecord, max_parallel: int,
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
                elif run.type in ("notebook", "for_each"):
                    if len(running) >= self.max_parallel:
                        continue
                    with self.lock:
                        run.life_cycle_state = RUNNING
                        run.start_time = now_utc()
                    running[pool.submit(self.run_notebook_task, key)] = key
                else:
                    with self.lock:
                        self.finish(key, FAILED, f"`{run.type}` tasks cannot run locally; only notebook_task and "
                                    "condition_task tasks do (also inside a for_each_task).", skipped=False)
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

    # -- notebook tasks and for_each loops over one (in a worker thread)
    def run_notebook_task(self, key: str) -> None:
        try:
            if self.by_key[key].type == "for_each":
                final, message = self.run_loop(key)
            else:
                final, message = self.run_attempts(key, self.plan.tasks[key])
        except Exception as exc:  # a bug here must end the task, not leave the run waiting for it forever
            final, message = FAILED, f"internal error in the local runner: {type(exc).__name__}: {exc}"
        with self.lock:
            self.finish(key, final, message, skipped=False)

    def run_attempts(self, key: str, task: jobs.Task, *, iteration: int | None = None,
                     item: Any = NO_INPUT) -> tuple[str, str]:
        """Run ``task`` (the task itself, or a for_each's nested task for one element) with its retries."""
        run = self.by_key[key]
        policy = retry_policy(task, max_retry_interval=self.max_retry_interval)
        with self.lock:
            run.notes += [note for note in policy.notes if note not in run.notes]
        execution = 0
        while True:
            if self.stop.is_set():
                return CANCELED, "not started: the run was stopped"
            execution += 1
            attempt, retriable = self.notebook_attempt(key, task, execution, iteration=iteration, item=item)
            state = attempt.state or FAILED
            ended = after_attempt(state=state, message=attempt.message, retriable=retriable, execution=execution,
                                  retries=policy.retries, retry_on_timeout=bool(task.retry_on_timeout),
                                  timed_out=self.timed_out)
            if ended is not None:
                return ended
            with self.lock:
                run.life_cycle_state = WAITING_FOR_RETRY
                run.message = (f"attempt {execution} {state}; retry {execution}/{policy.retries} in "
                               f"{policy.interval:g} s (min_retry_interval_millis)")
                self.emit("task_retrying", key, attempt)
            if self.stop.wait(policy.interval) or self.timed_out:
                return TIMEDOUT, "the job run reached its timeout_seconds while the task waited to retry"
            with self.lock:
                run.life_cycle_state = RUNNING

    def run_loop(self, key: str) -> tuple[str, str]:
        """A for_each_task: its nested notebook task once per element of ``inputs``, ``concurrency`` at a time.

        As on Databricks every iteration runs (with its own retries) and the loop fails when any of them failed.
        """
        loop = self.plan.tasks[key].for_each_task
        assert loop is not None and loop.task is not None
        with self.lock:
            context = self.context(key, execution_count=1)
        try:
            text = resolve(loop.inputs or "", context=context)
        except RefError as exc:
            return FAILED, f"cannot start: `inputs`: {exc.message}"
        try:
            items = json.loads(text)
        except ValueError:
            items = None
        if not isinstance(items, list):
            return FAILED, f"cannot start: `inputs` is not a JSON array: {text[:80]!r}"
        if not items:
            return SUCCESS, "no iterations: `inputs` is an empty array"
        width = max(1, min(loop.concurrency or 1, self.max_parallel, len(items)))
        with ThreadPoolExecutor(max_workers=width, thread_name_prefix=f"day07-{key}") as pool:
            results = list(pool.map(lambda i: self.run_attempts(key, loop.task, iteration=i, item=items[i]),
                                    range(len(items))))
        failed = [(i, state, message) for i, (state, message) in enumerate(results) if state != SUCCESS]
        if not failed:
            return SUCCESS, f"{len(items)} iteration{'s' if len(items) != 1 else ''} succeeded"
        i, state, message = failed[0]
        final = TIMEDOUT if all(s == TIMEDOUT for _, s, _ in failed) else FAILED
        return final, (f"{len(failed)} of {len(items)} iterations did not succeed; the first, iteration {i + 1} "
                       f"({value_text(items[i])[:40]}): {state}: {message}")

    def notebook_parameters(self, task: jobs.Task, context: RefContext) -> dict[str, str]:
        """Widget values: base_parameters, then every job parameter over them (run > job > base > widget)."""
        base = (task.notebook_task.base_parameters if task.notebook_task else None) or {}
        params = {name: resolve(str(value), context=context) for name, value in base.items()}
        params.update(self.record.parameters)
        return params

    def notebook_attempt(self, key: str, task: jobs.Task, execution: int, *, iteration: int | None = None,
                         item: Any = NO_INPUT) -> tuple[Attempt, bool]:
        """Run the notebook once; returns the attempt and whether a failure may be retried."""
        from checkers.notebooks.execute import execute_notebook

        run = self.by_key[key]
        with self.lock:
            number = len(run.attempts) + 1
            attempt = Attempt(number=number, execution_count=execution, repair_count=self.record.repair_count,
                              start_time=now_utc(), iteration=iteration)
            run.attempts.append(attempt)
            self.emit("task_started", key, attempt)
            context = replace(self.context(key, execution_count=execution), iteration_input=item)
        retriable = True
        try:
            attempt.parameters = self.notebook_parameters(task, context)
            if run.notebook_file is None:
                raise JobRunError(f"notebook `{run.notebook_path}` not found next to {self.job.path.name}.",
                                  hint="Run `day07 job validate` on the job file.")
            remaining = self.deadline - time.monotonic() if self.deadline is not None else None
            limit, job_bound = attempt_time_limit(task_timeout=task.timeout_seconds, job_remaining=remaining)
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
                if iteration is None:  # an iteration's values are its own, never the loop task's
                    with self.lock:
                        run.task_values = dict(result.record.task_values)
                        run.exit_value = result.exit_value
                job_stopped = self.timed_out or (job_bound and self.deadline is not None
                                                 and time.monotonic() >= self.deadline - 1)
                state, message = attempt_result(status=result.status, message=result.message,
                                                duration=result.duration, task_timeout=task.timeout_seconds,
                                                job_stopped=job_stopped,
                                                job_timeout=self.job.settings.timeout_seconds)
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
                record.message = result_message(states, self.plan.leaves, record.result_state)
            record.life_cycle_state = TERMINATED
            record.end_time = now_utc()
            record.pid = None
            self.emit("run_finished")


