"""Run a Databricks job locally, task by task, the way Databricks runs it; repair a run that failed.

Notebook tasks run in their own Jupyter kernels (so threads are enough for parallelism), condition tasks
are evaluated in place. Everything a learner can see on Databricks is reproduced and recorded in the run
folder (:mod:`checkers.jobs.record`): task order, parallel branches, parameters and references, task
values, run_if, condition branches, retries, timeouts, disabled tasks, the job result and repairs.

This module sets a run (or a repair) up and hands it to :class:`~checkers.jobs.runner.TaskRunner`; the plan
comes from :mod:`checkers.jobs.plan`, and the Databricks rules the runner follows, with their sources, are in
:mod:`checkers.jobs.rules`.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

from checkers.errors import CheckersError, JobRunError
from checkers.jobs.events import EventHandler
from checkers.jobs.load import LoadedJob, load_job
from checkers.jobs.plan import (
    local_job_id,
    merge_parameters,
    new_task_run,
    plan_job,
    resolve_parameters,
    runs_notebook,
)
from checkers.jobs.record import (
    CANCELED,
    PENDING,
    RUNNING,
    SKIPPED,
    TERMINATED,
    Repair,
    RunRecord,
    TaskRun,
    load_run,
    new_run_dir,
    now_utc,
    pid_alive,
)
from checkers.jobs.rules import UNSUCCESSFUL
from checkers.jobs.runner import TaskRunner
from checkers.jobs.validate import raise_for_errors, validate_job

_SPARK_RE = re.compile(r"\bspark\b|^\s*%sql\b", re.MULTILINE)


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
               if k in job.notebooks and k in tasks and runs_notebook(tasks[k]) and not tasks[k].disabled)


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


# --------------------------------------------------------------------------------------------- public API


def _check_parallel(max_parallel: int) -> None:
    if not isinstance(max_parallel, int) or max_parallel < 1:
        raise JobRunError(f"max_parallel is {max_parallel!r}; it must be a whole number of at least 1.",
                          hint="Use --max-parallel 2 (two notebooks at a time) or more.")


def _validated(job: LoadedJob, validate: bool) -> LoadedJob:
    if validate:
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
    plan = plan_job(job)
    given = {str(k): str(v) for k, v in (parameters or {}).items()}
    merged = merge_parameters(job, given)
    kernel_env = _kernel_env(job, plan.order, spark=spark, env=env)
    run_id, run_dir = new_run_dir(runs_dir)
    record = RunRecord(run_id=run_id, job_name=job.name, job_path=str(job.path.resolve()), run_dir=str(run_dir),
                       job_key=job.job_key, job_shape=job.shape, job_id=local_job_id(job), start_time=now_utc(),
                       parameters_given=given, max_parallel=max_parallel,
                       timeout_seconds=job.settings.timeout_seconds or 0, pid=os.getpid(),
                       tasks=[new_task_run(plan.tasks[k], job) for k in plan.order])
    try:
        record.parameters = resolve_parameters(merged, record)
    except JobRunError:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    runner = TaskRunner(job=job, plan=plan, record=record, max_parallel=max_parallel, cell_timeout=cell_timeout,
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
    plan = plan_job(job)
    previous = {t.task_key: t for t in record.tasks}
    tasks: list[TaskRun] = []
    for key in plan.order:
        fresh = new_task_run(plan.tasks[key], job)
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
    merged = merge_parameters(job, {**record.parameters_given, **given})
    kernel_env = _kernel_env(job, rerun, spark=spark, env=env)

    repair = Repair(repair_count=record.repair_count + 1, start_time=now_utc(), rerun_tasks=rerun,
                    parameters_given=given, previous_result_state=record.result_state,
                    previous_task_states=record.states)
    record.repair_count = repair.repair_count
    record.repairs.append(repair)
    record.tasks = tasks
    record.notes += [f"repair {repair.repair_count}: task `{k}` is no longer in the job; dropped" for k in dropped]
    record.parameters = resolve_parameters(merged, record)
    record.result_state, record.life_cycle_state, record.message = None, RUNNING, ""
    record.max_parallel, record.pid = max_parallel, os.getpid()
    record.timeout_seconds = job.settings.timeout_seconds or 0
    runner = TaskRunner(job=job, plan=plan, record=record, max_parallel=max_parallel, cell_timeout=cell_timeout,
                     on_event=on_event, env=kernel_env, skip_kit_checks=skip_kit_checks,
                     max_retry_interval=max_retry_interval)
    runner.execute(rerun)
    repair.end_time = now_utc()
    runner.conclude()
    repair.result_state = record.result_state
    record.save()
    return record
