"""Stretch (docs/contract.md, The job): a retry on bronze, a failure e-mail, and a condition task on bronze_rows.

Reported with points of their own, outside score / max_score: full marks never need them. The orchestration
exercise of the lessons (a ``04_quality`` gate beside silver, its overrides and a repair) is stretch too; its checks
live beside the job and run checks they build on (``stretch.fan_out`` in :mod:`.job`, the run's in :mod:`.run`).
"""

from __future__ import annotations

from checkers.grading.checks.evidence import Evidence
from checkers.grading.checks.job import not_done, on_loaded_job, structure
from checkers.grading.checks.registry import Outcome, check, failed, passed, skipped
from checkers.jobs import refs
from checkers.jobs.load import LoadedJob

_NUMERIC = {"GREATER_THAN": ">", "GREATER_THAN_OR_EQUAL": ">=", "LESS_THAN": "<", "LESS_THAN_OR_EQUAL": "<="}
_MIRROR = {"GREATER_THAN": "LESS_THAN", "GREATER_THAN_OR_EQUAL": "LESS_THAN_OR_EQUAL",
           "LESS_THAN": "GREATER_THAN", "LESS_THAN_OR_EQUAL": "GREATER_THAN_OR_EQUAL"}


@check("stretch.retries", points=2, title="the bronze task retries at least once",
       hint="On the bronze task: max_retries: 1 and min_retry_interval_millis: 60000 (bronze overwrites its table, "
            "so a retry is safe).", docs="job-workflow.md", requires=("job.valid",))
@on_loaded_job
def retries(ev: Evidence, job: LoadedJob) -> Outcome:
    key = structure(job).key("01_bronze")
    if key is None:
        return failed("no single notebook task runs 01_bronze")
    count = job.tasks[key].max_retries
    if count is None or (count < 1 and count != -1):
        return failed(not_done(ev, "job.retries")
                      + f"task {key} has max_retries {count if count is not None else 'unset (0)'}")
    if count == -1:
        return passed(f"task {key} retries until it succeeds (max_retries: -1)")
    return passed(f"task {key} retries {count} time{'s' if count != 1 else ''}")


@check("stretch.on_failure_email", points=2, title="an e-mail is sent when a run fails",
       hint="email_notifications: {on_failure: [you@example.com]} on the job.", docs="job-workflow.md",
       requires=("job.valid",))
@on_loaded_job
def on_failure_email(ev: Evidence, job: LoadedJob) -> Outcome:
    notes = job.settings.email_notifications
    addresses = list(notes.on_failure or []) if notes is not None else []
    where = "the job"
    if not addresses:
        for key, task in job.tasks.items():
            if task.email_notifications is not None and task.email_notifications.on_failure:
                addresses, where = list(task.email_notifications.on_failure), f"task {key}"
                break
    if not addresses:
        return failed(not_done(ev, "job.email") + "no email_notifications.on_failure address on the job or a task")
    return passed(f"{where} e-mails {', '.join(addresses)} on failure")


def _is_rows_ref(text: str | None, bronze: str) -> bool:
    found = refs.find_refs(text or "")
    return len(found) == 1 and found[0].text == (text or "").strip() and found[0].path == (
        "tasks", bronze, "values", "bronze_rows")


def _number(text: str | None) -> float | None:
    try:
        return float((text or "").strip())
    except ValueError:
        return None


def rows_test(op: str, left: str | None, right: str | None, bronze: str) -> bool | None:
    """What the condition tests of the row count (a whole number, never negative): True for "bronze_rows > 0" in any
    of its spellings, False for "bronze_rows <= 0" (``<= 0``, ``< 1``, ``== 0``: silver then follows the "false"
    branch), None for anything else."""
    if _is_rows_ref(right, bronze) and (op in _MIRROR or op in ("EQUAL_TO", "NOT_EQUAL")):
        op, left, right = _MIRROR.get(op, op), right, left
    if not _is_rows_ref(left, bronze):
        return None
    bound = _number(right)
    if op in ("NOT_EQUAL", "EQUAL_TO"):
        return (op == "NOT_EQUAL") if (right or "").strip() == "0" else None
    if bound is None:
        return None
    if (op == "GREATER_THAN" and bound == 0) or (op == "GREATER_THAN_OR_EQUAL" and bound == 1):
        return True
    if (op == "LESS_THAN_OR_EQUAL" and bound == 0) or (op == "LESS_THAN" and bound == 1):
        return False
    return None


@check("stretch.condition", points=3, title="silver runs only when bronze_rows > 0 (a condition task)",
       hint="A condition_task after bronze: {op: GREATER_THAN, left: \"{{tasks.<bronze key>.values.bronze_rows}}\", "
            "right: \"0\"}, and silver depends_on it with outcome: \"true\".", docs="dependencies.md",
       requires=("job.valid",))
@on_loaded_job
def condition(ev: Evidence, job: LoadedJob) -> Outcome:
    s = structure(job)
    bronze, silver = s.key("01_bronze"), s.key("02_silver")
    if bronze is None or silver is None:  # the gate needs both; a wrong edge elsewhere (gold's) does not matter here
        return failed("the job has no " + ("01_bronze" if bronze is None else "02_silver") + " notebook task to put "
                      "a condition between")
    gates = []
    for dep in job.tasks[silver].depends_on or []:
        task = job.tasks.get(dep.task_key)
        if task is None or task.condition_task is None:
            continue
        c = task.condition_task
        op = c.op.value if c.op is not None else ""
        test = rows_test(op, c.left, c.right, bronze)
        if test is None:
            continue
        branch = "true" if test else "false"  # "bronze_rows <= 0" lets silver run on its false branch
        if dep.outcome != branch:
            return failed(f"silver depends on condition task {dep.task_key} with outcome {dep.outcome!r}; it must "
                          f"follow the \"{branch}\" branch")
        if bronze not in {d.task_key for d in task.depends_on or []}:
            return failed(f"condition task {dep.task_key} does not depend on {bronze}, so bronze_rows is not set "
                          "when it runs")
        gates.append((dep.task_key, branch))
    if not gates:
        return failed(not_done(ev, "job.condition") + f"silver ({silver}) does not depend on a condition task testing "
                      f"{{{{tasks.{bronze}.values.bronze_rows}}}} > 0")
    gate, branch = gates[0]
    ran = ev.run.task(gate) if ev.run.mode == "job" else None
    if ran is None or ran.result_state is None or ran.outcome is None:
        why = ev.run.note or ev.run.message if ev.run.mode != "job" else (
            f"it ended {ran.result_state}" + (f" ({ran.message})" if ran.message else "") if ran is not None
            and ran.result_state else "the run never reached it")
        return skipped(f"condition task {gate} is written right, but the graded run did not evaluate it: {why}")
    if ran.result_state != "SUCCESS" or ran.outcome != branch:
        return failed(f"condition task {gate} is right, but in the run it ended {ran.result_state} with outcome "
                      f"{ran.outcome!r} ({ran.message})")
    return passed(f"condition task {gate} lets silver run only when bronze_rows > 0, and was {branch} in the run")
