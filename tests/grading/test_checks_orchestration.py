"""The orchestration checks (stretch.quality_gate, .overrides, .repair), judged from run records built here.

Each case is a way a quality task can be wrong, or right, as the grader's own run on its failing file and its
repair would show it; none needs a kernel. tests/grading/test_orchestration_run.py makes the real runs.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from checkers.grading.checks import PipelineRun, TaskState
from checkers.grading.checks.common import thousands
from checkers.grading.checks.evidence import QualityRun
from tests.grading.records import QUALITY_CHECKS, SOURCE, T0, evidence, grade

FAIL_AT, PASS_AT = "6.5", "31.0"
GIVEN = {"source_path": str(SOURCE), "schema": "grade_q"}
ORDER = [("bronze", []), ("silver", ["bronze"]), ("quality", ["bronze"]), ("gold", ["silver", "quality"])]
STEMS = {"bronze": "01_bronze", "silver": "02_silver", "quality": "04_quality", "gold": "03_gold"}


def run(states: dict[str, str | None], *, threshold: str, started: set[str] | None = None) -> PipelineRun:
    """A run of the fan-out job; a task starts unless it ended UPSTREAM_FAILED (or is left out of ``started``)."""
    tasks = []
    for i, (key, deps) in enumerate(ORDER):
        state = states.get(key, "SUCCESS")
        ran = (started is None and state != "UPSTREAM_FAILED") or (started is not None and key in started)
        tasks.append(TaskState(task_key=key, kind="notebook", result_state=state, depends_on=deps,
                               notebook=STEMS[key], start_time=T0 + timedelta(seconds=10 * i) if ran else None,
                               end_time=T0 + timedelta(seconds=10 * i + 5) if ran else None,
                               parameters={**GIVEN, "max_bad_pct": threshold}))
    ok = all(t.result_state == "SUCCESS" for t in tasks)
    return PipelineRun(mode="job", result_state="SUCCESS" if ok else "FAILED", tasks=tasks)


def trial(**changes: Any) -> QualityRun:
    """The grader's run of a correct job: quality failed (after setting bad_rows), gold did not run; then repaired."""
    q = QualityRun(status="ran", quality_key="quality", gold_key="gold", seed=99, rows=2000, bad_rows=400,
                   bronze_rows=2000, bronze_bad_rows=400, fail_at=FAIL_AT, pass_at=PASS_AT,
                   first=run({"quality": "FAILED", "gold": "UPSTREAM_FAILED"}, threshold=FAIL_AT),
                   first_values={"bad_rows": 400}, repair=run({}, threshold=PASS_AT), rerun=["quality", "gold"],
                   gold_rows=2)
    return replace(q, **changes)


def judge(q: QualityRun | None, main: PipelineRun | None = None) -> dict[str, Any]:
    ev = evidence(run=main or run({}, threshold="5"))
    ev.quality = q
    return grade(ev, QUALITY_CHECKS)


def summary(results: dict[str, Any]) -> dict[str, str]:
    return {k: r.status for k, r in results.items()}


def test_a_correct_quality_gate_passes_all_three() -> None:
    results = judge(trial())
    assert summary(results) == dict.fromkeys(results, "passed"), {k: r.message for k, r in results.items()}
    assert f"400 of {thousands(2000)} rows bad (20.0 %)" in results["stretch.quality_gate"].message
    assert "failed with max_bad_pct=6.5 and passed with 31.0" in results["stretch.overrides"].message
    assert "quality, gold ran again, bronze, silver kept" in results["stretch.repair"].message


def test_a_gate_that_never_fails_lets_gold_run_on_bad_data() -> None:
    results = judge(trial(first=run({}, threshold=FAIL_AT), repair=None, rerun=[],
                          note="the run with max_bad_pct=6.5 succeeded, so there was nothing to repair"))
    assert results["stretch.quality_gate"].status == "failed"
    assert "task quality succeeded; it must fail" in results["stretch.quality_gate"].message
    assert results["stretch.overrides"].status == "failed"
    assert results["stretch.repair"].status == "skipped"


def test_a_gate_that_always_fails_earns_nothing_from_failing() -> None:
    main = run({"quality": "FAILED", "gold": "UPSTREAM_FAILED"}, threshold="5")
    results = judge(trial(repair=run({"quality": "FAILED", "gold": "UPSTREAM_FAILED"}, threshold=PASS_AT)),
                    main=main)
    assert results["stretch.quality_gate"].status == "failed"
    assert "failed on the grader's good data too" in results["stretch.quality_gate"].message
    assert results["stretch.overrides"].status == "failed"
    assert "still ended FAILED" in results["stretch.overrides"].message


def test_a_fixed_threshold_in_the_notebook_fails_run_overrides_only() -> None:
    """It fails on the bad file (right), and again with the repair's higher threshold (wrong)."""
    results = judge(trial(repair=run({"quality": "FAILED", "gold": "UPSTREAM_FAILED"}, threshold=PASS_AT)))
    assert summary(results) == {"stretch.quality_gate": "passed", "stretch.overrides": "failed",
                                "stretch.repair": "skipped"}
    assert "compare with the widget's value, not a fixed number" in results["stretch.overrides"].message


def test_an_extra_failing_repair_catches_a_gate_that_counts_its_runs() -> None:
    """Half the gradings repair once more below the share first: a gate timed by its run count passes too early."""
    again = run({"quality": "FAILED", "gold": "UPSTREAM_FAILED"}, threshold="3.0")
    right = judge(trial(again_at="3.0", again=again))
    assert right["stretch.overrides"].status == "passed", right["stretch.overrides"].message
    assert "failed with max_bad_pct=6.5 and 3.0 and passed with 31.0" in right["stretch.overrides"].message
    counted = judge(trial(again_at="3.0", again=run({}, threshold="3.0"), repair=None, rerun=[],
                          note="the repair with max_bad_pct=3.0 succeeded, so there was nothing left to repair"))
    assert counted["stretch.overrides"].status == "failed"
    assert "max_bad_pct=3.0, still below the file's 20.0 % bad rows, and task quality succeeded" in \
        counted["stretch.overrides"].message
    assert counted["stretch.repair"].status == "skipped"


def test_the_task_value_must_be_set_before_the_gate_fails_and_be_right() -> None:
    missing = judge(trial(first_values={}))["stretch.quality_gate"]
    assert missing.status == "failed" and "without setting the task value bad_rows" in missing.message
    wrong = judge(trial(first_values={"bad_rows": 17}))["stretch.quality_gate"]
    assert wrong.status == "failed" and "bad_rows was 17, but bronze has 400 rows missing one of" in wrong.message
    assert judge(trial(first_values={"bad_rows": "400"}))["stretch.quality_gate"].status == "passed"  # JSON text
    assert judge(trial(first_values={"bad_rows": "four hundred"}))["stretch.quality_gate"].status == "failed"


def test_bad_rows_are_counted_in_the_learners_own_bronze() -> None:
    """A bronze that lost rows changes the count: the gate is judged on what the learner's bronze holds."""
    results = judge(trial(bronze_rows=1990, bronze_bad_rows=398, first_values={"bad_rows": 398}))
    assert results["stretch.quality_gate"].status == "passed"


def test_gold_that_runs_after_a_failed_gate_fails_the_gate_check() -> None:
    first = run({"quality": "FAILED", "gold": "SUCCESS"}, threshold=FAIL_AT)
    results = judge(trial(first=first))
    assert results["stretch.quality_gate"].status == "failed"
    assert "gold (gold) ran anyway" in results["stretch.quality_gate"].message


def test_a_threshold_fixed_in_base_parameters_never_reaches_the_task() -> None:
    first = run({"quality": "FAILED", "gold": "UPSTREAM_FAILED"}, threshold="50")
    results = judge(trial(first=first))
    assert results["stretch.overrides"].status == "failed"
    assert "the run was given max_bad_pct=6.5, but task quality got '50'" in results["stretch.overrides"].message


def test_a_repair_in_which_gold_fails_fails_run_repair() -> None:
    results = judge(trial(repair=run({"gold": "FAILED"}, threshold=PASS_AT)))
    assert results["stretch.repair"].status == "failed"
    assert "task gold FAILED" in results["stretch.repair"].message


def test_a_repair_blocked_by_a_silver_already_failing_in_the_graded_run_is_not_marked_twice() -> None:
    main = run({"silver": "FAILED", "gold": "UPSTREAM_FAILED"}, threshold="5")
    repaired = run({"silver": "FAILED", "gold": "UPSTREAM_FAILED"}, threshold=PASS_AT)
    first = run({"silver": "FAILED", "quality": "FAILED", "gold": "UPSTREAM_FAILED"}, threshold=FAIL_AT)
    results = judge(trial(first=first, repair=repaired, rerun=["silver", "quality", "gold"]), main=main)
    assert results["stretch.quality_gate"].status == "passed"
    repair = results["stretch.repair"]
    assert repair.status == "skipped" and "run.success marks that down" in repair.message


def test_a_repair_that_writes_no_gold_fails() -> None:
    results = judge(trial(gold_rows=None))
    repair = results["stretch.repair"]
    assert repair.status == "failed" and "gold_daily_sales has 0 rows" in repair.message


def test_no_orchestration_run_skips_all_three_with_the_reason() -> None:
    main = PipelineRun(mode="notebooks", note="the job cannot receive the grader's data: no job parameter schema")
    results = judge(None, main=main)
    assert summary(results) == dict.fromkeys(results, "skipped")
    assert "no job parameter schema" in results["stretch.quality_gate"].message
