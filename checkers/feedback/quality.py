"""Feedback for ``04_quality``: the data-quality gate judged with the rule the grader judges it with.

The grader judges the gate by running the learner's job on a file of its own that must fail it, then repairing the
run (stretch.quality_gate, stretch.overrides, stretch.repair). A notebook cannot do that, so its check cells test
the same thing on the notebook's own data with the same functions (:mod:`checkers.grading.quality_rule`): the bad rows
the learner counted against ``count_bad_rows`` of their bronze table, the task value ``bad_rows`` the runtime
recorded, and the learner's ``check_quality`` function against ``gate_fails`` on cases on both sides of the line.
"""

from __future__ import annotations

from typing import Any

from checkers.grading.checks.common import as_count
from checkers.grading.quality_rule import TASK_VALUE, THRESHOLD, count_bad_rows, gate_fails, verdict

GATE_CASES = ((0, 0, 5.0), (10, 100, 5.0), (5, 100, 5.0), (1, 100, 5.0), (30, 100, 50.0), (51, 100, 50.0),
              (0, 2_000, 0.0), (1, 2_000, 0.0))
"""(bad rows, rows, max_bad_pct): no rows, above, exactly at, below the line, and a threshold of 0."""


def feedback(step: str, namespace: dict[str, Any]) -> None:
    """Print ✅ / ❌ for a ``quality.*`` step of ``04_quality``; never raises (a check cell must not stop a job)."""
    from checkers.feedback import JOB_RUN_NOTE, in_job_run

    try:
        if in_job_run(namespace.get("dbutils")):
            print(f"ℹ️ {step}: {JOB_RUN_NOTE}")
            return
        judge = STEPS.get(step)
        if judge is None:
            print(f"⚠️ {step}: no feedback is known for this step (known: {', '.join(STEPS)})")
            return
        for icon, message in judge(namespace):
            print(f"{icon} {step}: {message}")
    except Exception as exc:  # noqa: BLE001 - feedback must never stop the notebook
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        print(f"⚠️ {step}: the feedback could not run: {type(exc).__name__}: {first}")


GOOD, BAD, WAIT, NOTE = "✅", "❌", "⏳", "ℹ️"
Finding = tuple[str, str]
"""(icon, message): ✅ right, ❌ still wrong, ⏳ not done yet, ℹ️ for information."""


def _verdict(ok: bool) -> str:
    return GOOD if ok else BAD


def _not_done(namespace: dict[str, Any], *names: str) -> list[Finding] | None:
    missing = [n for n in names if n not in namespace]
    if missing:
        return [(WAIT, f"not done yet: there is no `{missing[0]}` yet. Run the exercise cell above first.")]
    return None


def judge_count(namespace: dict[str, Any]) -> list[Finding]:
    """``bad_rows`` / ``total_rows`` against the rule on the bronze table, and the task value the runtime recorded."""
    waiting = _not_done(namespace, "bad_rows", "total_rows", "bronze_table")
    if waiting:
        return waiting
    spark = namespace["spark"]
    expected_bad, expected_rows = count_bad_rows(spark.table(namespace["bronze_table"]))
    bad, rows = namespace["bad_rows"], namespace["total_rows"]
    found: list[Finding] = []
    if rows == expected_rows and not isinstance(rows, bool):
        found.append((GOOD, f"total_rows is {rows:,}, the rows of {namespace['bronze_table']}"))
    else:
        found.append((BAD, f"total_rows is {rows!r}, but {namespace['bronze_table']} has {expected_rows:,} rows"))
    if bad == expected_bad and not isinstance(bad, bool):
        found.append((GOOD, f"bad_rows is {bad:,}: the rows missing event_time, event_type, product_id, user_id or "
                            "user_session"))
    else:
        found.append((BAD, f"bad_rows is {bad!r}, but {expected_bad:,} rows miss one of event_time, event_type, "
                           "product_id, user_id, user_session (a null in any of them)"))
    found.append(_task_value(namespace, expected_bad))
    return found


def _task_value(namespace: dict[str, Any], expected: int) -> Finding:
    from checkers.feedback.notebook import Session

    record = Session(namespace).record()
    values = record.task_values if record is not None else {}
    if TASK_VALUE not in values:
        return (BAD, f"no task value {TASK_VALUE} yet: dbutils.jobs.taskValues.set(key=\"{TASK_VALUE}\", "
                       "value=bad_rows)")
    value = values[TASK_VALUE]
    if as_count(value) == expected:
        return (GOOD, f"the task value {TASK_VALUE} is {as_count(value):,}")
    return (BAD, f"the task value {TASK_VALUE} is {value!r}; set it to bad_rows ({expected:,})")


def judge_gate(namespace: dict[str, Any]) -> list[Finding]:
    """The learner's ``check_quality`` must raise exactly when the rule says the task fails."""
    waiting = _not_done(namespace, "check_quality")
    if waiting:
        return waiting
    check = namespace["check_quality"]
    wrong = []
    for bad, rows, limit in GATE_CASES:
        try:
            check(bad, rows, limit)
            raised = False
        except NotImplementedError:
            return [(WAIT, "not done yet: check_quality still raises NotImplementedError")]
        except Exception:  # noqa: BLE001 - any exception is how the gate fails the task
            raised = True
        if raised != gate_fails(bad, rows, limit):
            should = "raise" if gate_fails(bad, rows, limit) else "return without raising"
            wrong.append(f"check_quality({bad}, {rows}, {limit:g}) must {should} ({verdict(bad, rows, limit)})")
    found: list[Finding] = [(_verdict(not wrong), "; ".join(wrong) if wrong else
                             f"check_quality fails the task exactly when the rule does ({len(GATE_CASES)} cases)")]
    if "bad_rows" in namespace and "total_rows" in namespace:
        try:
            limit = float(namespace["dbutils"].widgets.get(THRESHOLD))
        except Exception:  # noqa: BLE001 - the widget is not declared yet
            return found
        here = verdict(namespace["bad_rows"], namespace["total_rows"], limit)
        found.append((NOTE, f"here, with {THRESHOLD}={limit:g}: {here}"))
    return found


STEPS = {"quality.count": judge_count, "quality.gate": judge_gate}
"""Each check cell's judge."""
