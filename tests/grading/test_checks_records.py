"""Widget and run checks, judged from runtime records and run records built here (no kernel, no Spark)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from checkers.data import SAMPLE_SEED
from checkers.grading.checks import (
    CellError,
    NotebookRun,
    PipelineRun,
    TaskState,
)
from checkers.runtime.context import RuntimeRecord, WidgetDecl
from tests.grading.records import (
    DEFAULT_SOURCE,
    RUN_CHECKS,
    SOURCE,
    T0,
    WIDGET_CHECKS,
    evidence,
    grade,
    run_00,
    widgets_00,
)

# --------------------------------------------------------------------------------------------- widgets


def test_correct_widgets_pass() -> None:
    results = grade(evidence(), WIDGET_CHECKS)
    assert {r.status for r in results.values()} == {"passed"}, {k: r.message for k, r in results.items()}
    assert "layer='gold'" in results["widgets.echo_passed"].message


@pytest.mark.parametrize(("layer", "phrase"), [
    (WidgetDecl("layer", "text", "bronze"), "layer is a text widget, not a dropdown"),
    (WidgetDecl("layer", "dropdown", "silver", ["bronze", "silver", "gold"]), "layer's default is 'silver'"),
    (WidgetDecl("layer", "dropdown", "bronze", ["bronze", "silver"]), "layer's choices are 'bronze', 'silver'"),
])
def test_a_wrong_layer_widget_fails_declared_and_skips_the_echo_checks(layer: WidgetDecl, phrase: str) -> None:
    declared = widgets_00(layer=layer)
    given = {"layer": "gold", "source_path": str(SOURCE)}
    results = grade(evidence(passed=run_00(given, widgets=declared), defaults=run_00({}, widgets=declared)),
                    WIDGET_CHECKS)
    assert results["widgets.declared"].status == "failed" and phrase in results["widgets.declared"].message
    assert results["widgets.echo_passed"].status == results["widgets.echo_defaults"].status == "skipped"
    assert results["widgets.task_widgets"].status == "passed"


def test_the_untouched_widgets_lesson_is_not_done_yet() -> None:
    stop = CellError("NotImplementedError", "Exercise widgets.declare: Declare a text widget … See ../docs/widgets.md",
                     5)
    lesson = run_00({}, widgets=[], error=stop)
    results = grade(evidence(passed=lesson, defaults=lesson), WIDGET_CHECKS)
    declared = results["widgets.declared"]
    assert declared.status == "failed" and declared.score == 0
    assert "not done yet: exercise widgets.declare (00_widgets, cell 5)" in declared.message
    assert "widgets.declare" in declared.hint
    assert results["widgets.echo_passed"].status == "skipped"


def test_echoing_the_defaults_instead_of_the_passed_values_fails_echo_passed() -> None:
    given = {"layer": "gold", "source_path": str(SOURCE)}
    hard_coded = run_00(given, echo={"layer": "bronze", "source_path": DEFAULT_SOURCE})
    results = grade(evidence(passed=hard_coded), WIDGET_CHECKS)
    assert results["widgets.echo_passed"].status == "failed"
    assert "layer='bronze' (expected 'gold')" in results["widgets.echo_passed"].message
    assert results["widgets.echo_defaults"].status == "passed"


def test_echo_defaults_compares_with_the_declared_default() -> None:
    other = run_00({}, echo={"layer": "bronze", "source_path": "/tmp/mine.csv"})
    results = grade(evidence(defaults=other), WIDGET_CHECKS)
    assert results["widgets.echo_defaults"].status == "failed"
    assert f"source_path='/tmp/mine.csv' (expected '{DEFAULT_SOURCE}')" in results["widgets.echo_defaults"].message
    assert results["widgets.echo_passed"].status == "passed"


@pytest.mark.parametrize(("exit_value", "phrase"), [
    ("bronze", "is not JSON"),
    ("[1, 2]", "not an object"),
])
def test_an_exit_value_that_is_not_a_json_object(exit_value: str, phrase: str) -> None:
    results = grade(evidence(passed=run_00({}, exit_value=exit_value)), WIDGET_CHECKS)
    assert results["widgets.echo_passed"].status == "failed" and phrase in results["widgets.echo_passed"].message


def test_no_exit_call_is_named() -> None:
    quiet = NotebookRun(stem="00_widgets", status="success", record=RuntimeRecord(widgets=widgets_00()))
    results = grade(evidence(passed=quiet), WIDGET_CHECKS)
    assert "without calling dbutils.notebook.exit" in results["widgets.echo_passed"].message


def test_a_missing_00_widgets_notebook() -> None:
    missing = NotebookRun(stem="00_widgets", status="missing", message="not in the submission")
    results = grade(evidence(passed=missing, defaults=missing), WIDGET_CHECKS)
    assert results["widgets.declared"].status == "failed"
    assert "00_widgets.ipynb (or .py, .sql) is not in the submission" in results["widgets.declared"].message


def test_task_widgets_with_a_wrong_default() -> None:
    silver = NotebookRun(stem="02_silver", status="success",
                         record=RuntimeRecord(widgets=[WidgetDecl("schema", "text", "main")]))
    results = grade(evidence(notebooks={"02_silver": silver}), WIDGET_CHECKS)
    assert results["widgets.task_widgets"].status == "failed"
    assert "02_silver's schema default is 'main', not 'day07'" in results["widgets.task_widgets"].message


def test_task_widgets_judge_what_a_stopped_notebook_declared_before_it_stopped() -> None:
    """The runtime reports each declaration as it happens: a later exercise left undone costs nothing here."""
    stopped = NotebookRun(stem="02_silver", status="failed", error=CellError(
        "NotImplementedError", "Exercise silver.parse_time: parse it. See ../docs/silver.md", 10),
        record=RuntimeRecord(widgets=[WidgetDecl("schema", "text", "day07")]))
    results = grade(evidence(notebooks={"02_silver": stopped}), WIDGET_CHECKS)
    assert results["widgets.task_widgets"].status == "passed"


def test_task_widgets_wait_for_a_notebook_that_stopped_before_declaring() -> None:
    stopped = NotebookRun(stem="02_silver", status="failed", error=CellError(
        "NotImplementedError", "Exercise silver.parse_time: parse it. See ../docs/silver.md", 10),
        record=RuntimeRecord(widgets=[]))
    results = grade(evidence(notebooks={"02_silver": stopped}), WIDGET_CHECKS)
    assert results["widgets.task_widgets"].status == "skipped"
    assert "not done yet: exercise silver.parse_time" in results["widgets.task_widgets"].message


# --------------------------------------------------------------------------------------------- run


def job_run(*, states: dict[str, str] | None = None, gold_start: timedelta = timedelta(seconds=30),
            parameters: dict[str, str] | None = None) -> PipelineRun:
    states = {"bronze": "SUCCESS", "bronze_has_rows": "SUCCESS", "silver": "SUCCESS", "gold": "SUCCESS",
              **(states or {})}
    given = parameters or {"source_path": str(SOURCE), "schema": "grade_x"}
    plan = [("bronze", "notebook", [], "01_bronze", 0, 10), ("bronze_has_rows", "condition", ["bronze"], None, 10, 10),
            ("silver", "notebook", ["bronze_has_rows"], "02_silver", 10, 20),
            ("gold", "notebook", ["silver"], "03_gold", gold_start.total_seconds(), 40)]
    tasks = [TaskState(task_key=key, kind=kind, result_state=states[key], depends_on=deps, notebook=stem,
                       start_time=T0 + timedelta(seconds=start), end_time=T0 + timedelta(seconds=end),
                       parameters=dict(given) if stem else {})
             for key, kind, deps, stem, start, end in plan]
    ok = all(s == "SUCCESS" for s in states.values())
    return PipelineRun(mode="job", result_state="SUCCESS" if ok else "FAILED", tasks=tasks, parameters=given)


def test_a_successful_job_run_passes_the_run_checks() -> None:
    results = grade(evidence(run=job_run()), RUN_CHECKS)
    assert {r.status for r in results.values()} == {"passed"}, {k: r.message for k, r in results.items()}
    assert f"not the sample's {SAMPLE_SEED}" in results["run.unseen_data"].message
    assert "bronze → bronze_has_rows → silver → gold" in results["run.order"].message


def test_a_run_that_succeeded_without_writing_its_tables_earns_no_run_points() -> None:
    """Every task caught its own errors: the run ended SUCCESS, and did nothing."""
    results = grade(evidence(run=job_run(), tables=("bronze_events",)), RUN_CHECKS)
    assert results["run.success"].status == "failed"
    assert "wrote no grade_x.silver_events, grade_x.gold_product_metrics" in results["run.success"].message
    assert results["run.order"].status == "skipped" and results["run.order"].score == 0
    assert results["run.unseen_data"].status == "passed"  # the parameters did reach the tasks


def test_a_task_that_started_before_its_upstream_ended_fails_run_order() -> None:
    results = grade(evidence(run=job_run(gold_start=timedelta(seconds=15))), RUN_CHECKS)
    assert results["run.order"].status == "failed"
    assert "gold started before silver had finished" in results["run.order"].message
    assert results["run.success"].status == "passed"


def test_run_order_earns_nothing_when_a_downstream_task_never_started() -> None:
    run = job_run(states={"silver": "FAILED", "gold": "UPSTREAM_FAILED"})
    gold = run.task("gold")
    assert gold is not None
    gold.start_time = gold.end_time = None
    results = grade(evidence(run=run), RUN_CHECKS)
    assert results["run.order"].status == "skipped" and results["run.order"].score == 0
    assert "gold (03_gold) never started" in results["run.order"].message
    assert results["run.success"].status == "failed"  # the cause, marked down where it happened


def test_a_failed_task_fails_run_success_with_the_reason() -> None:
    stopped = NotebookRun(stem="02_silver", status="failed", error=CellError(
        "NotImplementedError", "Exercise silver.dedup: keep one row. See ../docs/silver.md", 22))
    run = job_run(states={"silver": "FAILED", "gold": "UPSTREAM_FAILED"})
    results = grade(evidence(run=run, notebooks={"02_silver": stopped}), RUN_CHECKS)
    message = results["run.success"].message
    assert results["run.success"].status == "failed"
    assert "task silver FAILED (not done yet: exercise silver.dedup" in message
    assert "task gold UPSTREAM_FAILED" in message
    assert results["run.order"].status == "passed"


def test_values_that_did_not_reach_the_tasks_fail_run_unseen_data() -> None:
    run = job_run()
    run.tasks[2].parameters = {"source_path": str(SOURCE), "schema": "day07"}
    results = grade(evidence(run=run), RUN_CHECKS)
    assert results["run.unseen_data"].status == "failed"
    assert "task silver got schema='day07', not 'grade_x'" in results["run.unseen_data"].message


def test_run_checks_fail_when_the_job_did_not_run() -> None:
    run = PipelineRun(mode="notebooks", note="the job has validation errors (see job.valid), so the grader ran …")
    results = grade(evidence(run=run), RUN_CHECKS)
    assert all(r.status == "failed" and "the job did not run" in r.message for r in results.values())
