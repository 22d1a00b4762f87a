"""Run: the submission's own job ran on the grader's unseen data, in dependency order, every task succeeding.

Judged from the runner's record of the run (``run.json``), which the grader process reads; the learner's
kernels never write it.
"""

from __future__ import annotations

from checkers.data import SAMPLE_SEED
from checkers.grading.checks.common import n
from checkers.grading.checks.evidence import Evidence
from checkers.grading.checks.registry import Outcome, check, failed, passed, skipped
from checkers.grading.checks.widgets import TASK_WIDGETS

JOB_READY = ("job.valid", "job.parameters")
"""The job runs on the grader's data only when these pass; otherwise the notebooks were run directly. A job wired
differently from the contract (job.tasks) still runs: these checks judge what really ran."""


def _not_in_job(ev: Evidence) -> Outcome | None:
    if ev.run.mode != "job":
        return failed(f"the job did not run: {ev.run.note or ev.run.message}")
    return None


@check("run.unseen_data", points=2, title="the job ran on the grader's unseen data",
       hint="Nothing to change in the data: this passes once the job runs with its parameters pushed down to the "
            "widgets.", docs="job-workflow.md", requires=JOB_READY)
def unseen_data(ev: Evidence) -> Outcome:
    problem = _not_in_job(ev)
    if problem:
        return problem
    wrong = []
    given = {"source_path": str(ev.source_path), "schema": ev.schema}
    for name, value in given.items():
        if ev.run.parameters.get(name) != value:
            wrong.append(f"job parameter {name} resolved to {ev.run.parameters.get(name)!r}, not {value!r}")
    for task in ev.run.tasks:
        if task.notebook not in TASK_WIDGETS or not task.parameters:
            continue
        for name, _default in TASK_WIDGETS[task.notebook]:
            if name in given and task.parameters.get(name) != given[name]:
                wrong.append(f"task {task.task_key} got {name}={task.parameters.get(name)!r}, not {given[name]!r}")
    if wrong:
        return failed("; ".join(wrong),
                      hint="Do not override source_path or schema in a task's base_parameters; job parameters "
                           "reach every notebook task by themselves.")
    rows = ev.expectations.bronze.rows if ev.expectations is not None else None
    size = f", {n(rows)} rows" if rows is not None else ""
    return passed(f"ran on {ev.source_path.name} (seed {ev.seed}, not the sample's {SAMPLE_SEED}{size}) into schema "
                  f"{ev.schema}")


@check("run.order", points=2, title="tasks ran in dependency order",
       hint="Each task starts only after the tasks it depends_on finished: check depends_on in the job.",
       docs="dependencies.md", requires=JOB_READY)
def order(ev: Evidence) -> Outcome:
    problem = _not_in_job(ev)
    if problem:
        return problem
    by_key = {t.task_key: t for t in ev.run.tasks}
    wrong = []
    for task in ev.run.tasks:
        if task.start_time is None:
            continue
        for up in task.depends_on:
            upstream = by_key.get(up)
            if upstream is None:
                continue
            if upstream.end_time is None or upstream.end_time > task.start_time:
                wrong.append(f"{task.task_key} started before {up} had finished")
    if wrong:
        return failed("; ".join(wrong))
    never = [t for t in ev.run.tasks if t.notebook in TASK_WIDGETS and t.start_time is None]
    if never:
        # The order is shown only by tasks that ran: without them there is no evidence (and no points). The cause is
        # graded where it happened (run.success and the task's own checks), so this is skipped, not failed.
        first = never[0]
        return skipped(f"the order cannot be shown: task {first.task_key} ({first.notebook}) never started "
                       f"({first.result_state or 'not run'}"
                       + (f": {first.message}" if first.message else "") + ")")
    ran = [t for t in ev.run.tasks if t.start_time is not None]
    chain = " → ".join(t.task_key for t in sorted(ran, key=lambda t: (t.start_time, ev.run.tasks.index(t))))
    return passed(f"{len(ran)} tasks started after their dependencies: {chain}")


@check("run.success", points=4, title="every task and the job run ended SUCCESS",
       hint="Open the executed notebook of the failing task in the run folder: the failing cell is tagged "
            "`day07-failed`.", docs="job-workflow.md", requires=JOB_READY)
def success(ev: Evidence) -> Outcome:
    problem = _not_in_job(ev)
    if problem:
        return problem
    bad = [t for t in ev.run.tasks if t.result_state != "SUCCESS"]
    if not bad and ev.run.result_state == "SUCCESS":
        return passed(f"job run SUCCESS; {', '.join(t.task_key for t in ev.run.tasks)} all SUCCESS")
    parts = []
    for t in bad:
        why = t.message
        if t.notebook is not None and t.notebook in ev.notebooks and t.result_state in ("FAILED", "TIMEDOUT"):
            why = ev.notebooks[t.notebook].explain()
        parts.append(f"task {t.task_key} {t.result_state or 'did not run'}" + (f" ({why})" if why else ""))
    return failed(f"job run {ev.run.result_state}: " + "; ".join(parts or ["no task failed, yet the run did not "
                                                                             "succeed"]))
