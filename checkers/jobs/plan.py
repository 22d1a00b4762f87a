"""What a run will do, decided before anything runs: task order and graph, task records, job parameters.

The first run and every repair plan the same way; keeping it apart from the runner keeps it pure (no
kernels, no threads) and lets tools such as the benchmarks read a job's task order without running it.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from databricks.sdk.service import jobs

from checkers.errors import JobRunError
from checkers.jobs.load import LoadedJob
from checkers.jobs.record import RunRecord, TaskRun, now_utc
from checkers.jobs.refs import RefContext, RefError, resolve


@dataclass
class Plan:
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
        """Every task ``key`` runs after (whose task values it may read)."""
        seen: set[str] = set()
        todo = [d.task_key for d in self.upstream[key]]
        while todo:
            k = todo.pop()
            if k not in seen:
                seen.add(k)
                todo.extend(d.task_key for d in self.upstream[k])
        return seen

    def descendants(self, keys: Iterable[str]) -> set[str]:
        """Every task that runs after one of ``keys`` (what a repair re-runs with them)."""
        seen: set[str] = set()
        todo = [d for k in keys for d in self.downstream[k]]
        while todo:
            k = todo.pop()
            if k not in seen:
                seen.add(k)
                todo.extend(self.downstream[k])
        return seen


def plan_job(job: LoadedJob) -> Plan:
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
    return Plan(order=list(tasks), tasks=tasks, upstream=upstream, downstream=downstream)


def task_type(task: jobs.Task) -> str:
    """``notebook``, ``condition``, ``for_each`` (over a notebook task), or the task type field it sets (which
    cannot run locally)."""
    if task.notebook_task is not None:
        return "notebook"
    if task.condition_task is not None:
        return "condition"
    if runs_notebook(task) is not None:  # a for_each_task over a notebook task
        return "for_each"
    for name in ("spark_python_task", "python_wheel_task", "sql_task", "run_job_task", "for_each_task",
                 "pipeline_task", "dbt_task", "spark_jar_task", "spark_submit_task"):
        if getattr(task, name, None) is not None:
            return name
    return "unknown"


def runs_notebook(task: jobs.Task) -> jobs.NotebookTask | None:
    """The notebook a task runs: its own, or its for_each_task's nested one (once per iteration)."""
    if task.notebook_task is not None:
        return task.notebook_task
    loop = task.for_each_task
    return loop.task.notebook_task if loop is not None and loop.task is not None else None


def new_task_run(task: jobs.Task, job: LoadedJob) -> TaskRun:
    """The record of a task that has not run yet."""
    file = job.notebooks.get(task.task_key)
    return TaskRun(
        task_key=task.task_key, type=task_type(task),
        depends_on=[{"task_key": d.task_key, **({"outcome": d.outcome} if d.outcome else {})}
                    for d in task.depends_on or []],
        run_if=task.run_if.value if task.run_if else "ALL_SUCCESS",
        notebook_path=notebook_task.notebook_path if (notebook_task := runs_notebook(task)) else None,
        notebook_file=str(file) if file else None)


def local_job_id(job: LoadedJob) -> int:
    """The ``jobs get`` id when there is one, else a stable number derived from the job file's path."""
    if job.job_id is not None:
        return job.job_id
    return zlib.crc32(str(job.path.resolve()).encode("utf-8")) % 1_000_000_000


def merge_parameters(job: LoadedJob, given: dict[str, str]) -> dict[str, str]:
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


def resolve_parameters(merged: dict[str, str], record: RunRecord) -> dict[str, str]:
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

