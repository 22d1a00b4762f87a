"""Run: the submission's own job ran on the grader's unseen data, in dependency order, every task succeeding; and on
the grader's failing file, its quality gate stopped gold, took the grader's overrides, and a repair finished it.

Judged from the runner's records of the runs, which the grader process holds in memory; the learner's kernels never
write them (see :mod:`checkers.grading.quality_run` for the orchestration run).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from checkers.data import SAMPLE_SEED
from checkers.grading.checks.common import as_count, thousands
from checkers.grading.checks.evidence import Evidence
from checkers.grading.checks.registry import Outcome, check, failed, passed, skipped
from checkers.grading.checks.widgets import TASK_WIDGETS
from checkers.grading.quality_rule import QUALITY_STEM, TASK_VALUE, THRESHOLD

if TYPE_CHECKING:
    from checkers.grading.checks.evidence import QualityRun, TaskState

JOB_READY = ("job.valid", "job.parameters")
"""The job runs on the grader's data only when these pass; otherwise the notebooks were run directly. A job wired
differently from the contract (job.tasks) still runs: these checks judge what really ran."""


def _not_in_job(ev: Evidence) -> Outcome | None:
    if ev.run.mode != "job":
        return failed(f"the job did not run: {ev.run.note or ev.run.message}")
    return None


PIPELINE_TABLES = ("bronze_events", "silver_events", "gold_product_metrics", "gold_daily_sales")


def _hollow(ev: Evidence) -> str | None:
    """Why a run whose tasks all succeeded did not do its work: the tables it never wrote (a task that catches every
    error ends SUCCESS with nothing done). None when it wrote them all."""
    missing = [name for name in PIPELINE_TABLES if not ev.table(name).exists]
    if not missing or ev.run.result_state != "SUCCESS":
        return None
    return (f"every task ended SUCCESS, yet the run wrote no {', '.join(f'{ev.schema}.{m}' for m in missing)}: "
            "a task that catches its own errors ends SUCCESS without doing its work")


@check("run.unseen_data", points=6, title="the job ran on the grader's unseen data",
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
    size = f", {thousands(rows)} rows" if rows is not None else ""
    return passed(f"ran on {ev.source_path.name} (seed {ev.seed}, not the sample's {SAMPLE_SEED}{size}) into schema "
                  f"{ev.schema}")


@check("run.order", points=6, title="tasks ran in dependency order",
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
    hollow = _hollow(ev)
    if hollow:
        return skipped(f"the order cannot be shown by a run that did nothing: {hollow}")
    ran = [t for t in ev.run.tasks if t.start_time is not None]
    chain = " → ".join(t.task_key for t in sorted(ran, key=lambda t: (t.start_time, ev.run.tasks.index(t))))
    return passed(f"{len(ran)} tasks started after their dependencies: {chain}")


@check("run.success", points=8, title="every task and the job run ended SUCCESS",
       hint="Open the executed notebook of the failing task in the run folder: the failing cell is tagged "
            "`day07-failed`.", docs="job-workflow.md", requires=JOB_READY)
def success(ev: Evidence) -> Outcome:
    problem = _not_in_job(ev)
    if problem:
        return problem
    bad = [t for t in ev.run.tasks if t.result_state != "SUCCESS"]
    hollow = _hollow(ev) if not bad else None
    if hollow:
        return failed(f"job run SUCCESS, but {hollow}", hint="Let errors stop the task (no bare try/except): a failed "
                      "task is what makes Databricks retry it, skip what depends on it and e-mail you.")
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


# --------------------------------------------------------------------------------------------- orchestration

QUALITY_READY = (*JOB_READY, "stretch.fan_out")
"""The grader runs the job on its failing file only when the job can run and has the quality gate."""
TRIAL_CHECKS = ("stretch.quality_gate", "stretch.overrides", "stretch.repair")
"""The stretch checks judged on that run of the grader's own: nothing to judge without a run."""


def _trial(ev: Evidence) -> QualityRun | Outcome:
    """The grader's orchestration run, or the Outcome saying why there is none to judge."""
    q = ev.quality
    if q is None:
        why = ev.run.note or ev.run.message or "the job did not run"
        return skipped(f"the grader made no run of its own on a failing file: {why}")
    if q.first is None:
        return failed(q.note or "the grader's run on its failing file did not start")
    return q


def _state(task: TaskState | None) -> str:
    if task is None:
        return "it is not in the run"
    return (task.result_state or "not run") + (f" ({task.message})" if task.message else "")


@check("stretch.quality_gate", points=4, title="on bad data, 04_quality sets bad_rows and fails, and gold does not run",
       hint="In 04_quality: count the bronze rows missing a required value, set the task value bad_rows, then raise "
            "when they are more than max_bad_pct percent of all rows. Gold depends_on the quality task.",
       docs="orchestration.md", requires=QUALITY_READY)
def quality_gate(ev: Evidence) -> Outcome:
    q = _trial(ev)
    if isinstance(q, Outcome):
        return q
    main = ev.run.task(q.quality_key or "")
    if main is None or main.start_time is None:
        return skipped(f"{QUALITY_STEM} did not run in the graded run ({_state(main)}), so a failure on bad data "
                       "would show nothing")
    if main.result_state != "SUCCESS":
        return failed(f"{QUALITY_STEM} failed on the grader's good data too ({_state(main)}): a gate that always "
                      "fails stops nothing in particular")
    first = q.task("first", q.quality_key)
    where = (f"on the grader's file with {thousands(q.bad_rows)} of {thousands(q.rows)} rows bad ({q.share:.1f} %) and "
             f"{THRESHOLD}={q.fail_at}")
    if first is None or first.start_time is None:
        return skipped(f"{where}, task {q.quality_key} did not run: {_state(first)}")
    if first.result_state == "SUCCESS":
        return failed(f"{where}, task {q.quality_key} succeeded; it must fail when more than {THRESHOLD} percent "
                      "of the rows are bad")
    expected = q.bronze_bad_rows if q.bronze_bad_rows is not None else q.bad_rows
    value = q.first_values.get(TASK_VALUE)
    if value is None:
        return failed(f"{where}, task {q.quality_key} failed without setting the task value {TASK_VALUE}: set it "
                      "before the check raises")
    if as_count(value) is None or as_count(value) != expected:
        return failed(f"{where}, {TASK_VALUE} was {value!r}, but bronze has {thousands(expected)} rows missing one of "
                      "event_time, event_type, product_id, user_id, user_session")
    gold = q.task("first", q.gold_key)
    if gold is not None and gold.start_time is not None:
        return failed(f"{where}, {q.quality_key} failed but gold ({q.gold_key}) ran anyway ({_state(gold)}): gold "
                      "must depend on the quality task, with the default run_if (ALL_SUCCESS)")
    return passed(f"{where}: {q.quality_key} set {TASK_VALUE}={thousands(int(as_count(value) or 0))} and failed; gold "
                  f"({q.gold_key}) did not run ({gold.result_state if gold is not None else 'not run'})")


@check("stretch.overrides", points=3,
       title="the grader's max_bad_pct overrides reach 04_quality and decide its outcome",
       hint="Declare the widget max_bad_pct in 04_quality and compare with "
            "float(dbutils.widgets.get(\"max_bad_pct\")); a job parameter of the same name pushes the run's value "
            "down to it.", docs="orchestration.md",
       requires=QUALITY_READY)
def overrides(ev: Evidence) -> Outcome:
    q = _trial(ev)
    if isinstance(q, Outcome):
        return q
    first = q.task("first", q.quality_key)
    if first is None or first.start_time is None:
        return skipped(f"task {q.quality_key} did not run on the grader's file: {_state(first)}")
    got = first.parameters.get(THRESHOLD)
    if got != q.fail_at:
        return failed(f"the run was given {THRESHOLD}={q.fail_at}, but task {q.quality_key} got {got!r}: do not set "
                      f"{THRESHOLD} in the task's base_parameters")
    if first.result_state == "SUCCESS":
        return failed(f"with {THRESHOLD}={q.fail_at}, below the file's {q.share:.1f} % bad rows, task "
                      f"{q.quality_key} succeeded: read the threshold from the widget")
    if q.again_at:  # an extra repair, also below the share, was drawn for this grading: it must fail again
        again = q.task("again", q.quality_key)
        if again is None or again.parameters.get(THRESHOLD) != q.again_at:
            return failed(f"the grader's first repair was given {THRESHOLD}={q.again_at}, but task {q.quality_key} "
                          f"got {(again.parameters.get(THRESHOLD) if again is not None else None)!r}")
        if again.result_state == "SUCCESS":
            return failed(f"the grader repaired the run with {THRESHOLD}={q.again_at}, still below the file's "
                          f"{q.share:.1f} % bad rows, and task {q.quality_key} succeeded: the gate must compare the "
                          "share with the widget's value every time it runs")
    if q.repair is None:
        return failed(q.note or "the grader's repair did not run")
    final = q.task("repair", q.quality_key)
    if final is None or final.parameters.get(THRESHOLD) != q.pass_at:
        return failed(f"the repair was given {THRESHOLD}={q.pass_at}, but task {q.quality_key} got "
                      f"{(final.parameters.get(THRESHOLD) if final is not None else None)!r}")
    if final.result_state != "SUCCESS":
        return failed(f"on the same bronze, with {THRESHOLD}={q.pass_at} (above the file's {q.share:.1f} %), task "
                      f"{q.quality_key} still ended {_state(final)}: compare with the widget's value, not a fixed "
                      "number")
    tries = f"{q.fail_at} and {q.again_at}" if q.again_at else q.fail_at
    return passed(f"task {q.quality_key} failed with {THRESHOLD}={tries} and passed with {q.pass_at} on the same "
                  f"bronze ({q.share:.1f} % bad rows)")


@check("stretch.repair", points=3, title="a repair of the failed run reruns only what failed and ends SUCCESS",
       hint="Repair reruns the failed and upstream-failed tasks with the current settings: every task must be safe "
            "to rerun (write with mode(\"overwrite\")), and gold must run once its upstream tasks succeed.",
       docs="orchestration.md", requires=("stretch.quality_gate", "stretch.overrides"))
def repair(ev: Evidence) -> Outcome:
    q = _trial(ev)
    if isinstance(q, Outcome):
        return q
    if q.repair is None:
        return failed(q.note or "the grader's repair did not run")
    kept = [t.task_key for t in q.repair.tasks if t.task_key not in q.rerun]
    if q.repair.result_state == "SUCCESS":
        if not q.gold_rows:
            return failed(f"the repair ended SUCCESS, but gold_daily_sales has {q.gold_rows or 0} rows in that run's "
                          "schema: gold must write its tables when it runs")
        return passed(f"the grader repaired its failed run with {THRESHOLD}={q.pass_at}: {', '.join(q.rerun)} ran "
                      f"again, {', '.join(kept) or 'nothing'} kept; the run ended SUCCESS and gold wrote "
                      f"{thousands(q.gold_rows)} days")
    bad = [t for t in q.repair.tasks if t.result_state not in ("SUCCESS", "EXCLUDED")]
    for task in bad:
        graded = ev.run.task(task.task_key)
        if task.task_key != q.gold_key and graded is not None and graded.result_state != "SUCCESS":
            return skipped(f"after the repair, task {task.task_key} ended {_state(task)}, as in the graded run: "
                           "run.success marks that down")
    listed = "; ".join(f"task {t.task_key} {_state(t)}" for t in bad)
    return failed(f"the repair with {THRESHOLD}={q.pass_at} ended {q.repair.result_state}: {listed}")
