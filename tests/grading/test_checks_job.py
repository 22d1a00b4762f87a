"""Job and stretch checks on job files: the solution's, a ``jobs get`` export, and one mistake at a time.

Variants are made from ``solutions/job.yml`` in a temporary folder next to copies of the solution notebooks
(the validator matches notebook paths to files), so each test shows the one change it makes.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from checkers.config import PROJECT_ROOT
from checkers.grading.checks import Evidence, PipelineRun, TaskState, catalogue, run_checks
from checkers.grading.checks.run import TRIAL_CHECKS
from checkers.grading.job_evidence import load_job_evidence
from checkers.grading.report import CheckResult
from checkers.jobs.project import find_submission

SOLUTIONS = PROJECT_ROOT / "solutions"
LESSONS = PROJECT_ROOT / "lessons"
ALT = Path(__file__).resolve().parent.parent / "files" / "submissions" / "alt_sql"
SPECS = [s for s in catalogue() if s.group in ("job", "stretch") and s.id not in TRIAL_CHECKS]


def succeeded(job: Any) -> PipelineRun:
    """A run of ``job`` in which every task succeeded, each condition evaluated on counts a run would set."""
    from checkers.jobs.refs import RefContext, resolve
    from checkers.jobs.rules import evaluate_condition

    tasks = job.tasks if job is not None else {}
    context = RefContext(task_values={k: {"bronze_rows": 30000, "silver_rows": 29500, "bad_rows": 12} for k in tasks})

    def outcome(t: Any) -> str | None:
        c = t.condition_task
        if c is None:
            return None
        holds, _ = evaluate_condition(c.op.value, resolve(c.left or "", context=context),
                                      resolve(c.right or "", context=context))
        return "true" if holds else "false"

    tasks = [TaskState(task_key=key, kind="condition" if t.condition_task is not None else "notebook",
                       result_state="SUCCESS", depends_on=[d.task_key for d in t.depends_on or []],
                       outcome=outcome(t)) for key, t in tasks.items()]
    return PipelineRun(mode="job", result_state="SUCCESS", tasks=tasks)


def grade_job(folder: Path, *, ran: bool = True) -> dict[str, CheckResult]:
    """The job and stretch checks of the job file in ``folder``; ``ran``: as if the graded run succeeded."""
    submission = find_submission(folder=folder)
    job = load_job_evidence(submission)
    ev = Evidence(submission=submission, schema="t", source_path=folder / "x.csv", seed=1, job=job,
                  run=succeeded(job.loaded) if ran else PipelineRun(mode="none", note="the job did not run"))
    return {r.id: r for r in run_checks(ev, specs=SPECS)}


@pytest.fixture(scope="module")
def solution_job() -> dict[str, Any]:
    return yaml.safe_load((SOLUTIONS / "job.yml").read_text(encoding="utf-8"))


@pytest.fixture()
def variant(tmp_path: Path, solution_job: dict[str, Any]) -> Callable[..., dict[str, CheckResult]]:
    """Write solutions/job.yml changed by ``edit(job settings)`` next to the solution notebooks; grade it."""

    def make(edit: Callable[[dict[str, Any]], None], *, text: str | None = None) -> dict[str, CheckResult]:
        for nb in SOLUTIONS.glob("0*.ipynb"):
            shutil.copy(nb, tmp_path / nb.name)
        document = copy.deepcopy(solution_job)
        edit(document["resources"]["jobs"]["day07_pipeline"])
        (tmp_path / "job.yml").write_text(text if text is not None else yaml.safe_dump(document, sort_keys=False),
                                          encoding="utf-8")
        return grade_job(tmp_path)

    return make


def task(job: dict[str, Any], key: str) -> dict[str, Any]:
    return next(t for t in job["tasks"] if t["task_key"] == key)


def statuses(results: dict[str, CheckResult]) -> dict[str, str]:
    return {k: r.status for k, r in results.items()}


def only(results: dict[str, CheckResult], failed: str, *, skipped: tuple[str, ...] = ()) -> None:
    """Exactly ``failed`` failed, exactly ``skipped`` were skipped, everything else passed."""
    want = {k: "failed" if k == failed else "skipped" if k in skipped else "passed" for k in results}
    assert statuses(results) == want, {k: (r.status, r.message) for k, r in results.items() if want[k] != r.status}


def test_the_solution_job_passes_every_job_and_stretch_check() -> None:
    results = grade_job(SOLUTIONS)
    assert set(statuses(results).values()) == {"passed"}, statuses(results)
    assert "bronze → silver → gold" in results["job.tasks"].message
    assert "0 0 2 * * ?" in results["job.schedule"].message


def test_the_condition_task_counts_only_when_the_graded_run_evaluated_it() -> None:
    results = grade_job(SOLUTIONS, ran=False)
    assert results["stretch.condition"].status == "skipped"
    assert "did not evaluate it" in results["stretch.condition"].message
    assert results["stretch.retries"].status == "passed"  # read from the file: nothing to run


def test_a_jobs_get_export_with_workspace_paths_passes_too() -> None:
    results = grade_job(ALT)
    assert set(statuses(results).values()) == {"passed"}, {k: r.message for k, r in results.items()}
    assert "get shape" in results["job.valid"].message
    assert "ingest → clean → aggregate" in results["job.tasks"].message
    assert "has_rows" in results["stretch.condition"].message  # `>= 1` counts as `> 0`


def test_an_unknown_key_fails_job_valid_only(variant: Callable[..., dict[str, CheckResult]]) -> None:
    def edit(job: dict[str, Any]) -> None:
        job["max_concurent_runs"] = job.pop("max_concurrent_runs")

    results = variant(edit)
    only(results, "job.valid", skipped=("stretch.retries", "stretch.on_failure_email", "stretch.condition"))
    assert "max_concurent_runs" in results["job.valid"].message
    assert "max_concurrent_runs" in results["job.valid"].message  # the close match is suggested


def test_gold_after_bronze_instead_of_silver_fails_job_tasks(variant: Callable[..., dict[str, CheckResult]]) -> None:
    results = variant(lambda job: task(job, "gold").update(depends_on=[{"task_key": "bronze"},
                                                                       {"task_key": "quality"}]))
    only(results, "job.tasks")  # a wrong edge to gold costs job.tasks; the condition before silver still counts
    assert "task gold (03_gold) does not run after silver (02_silver): it depends on bronze" in \
        results["job.tasks"].message


def test_a_missing_notebook_task_fails_job_tasks(variant: Callable[..., dict[str, CheckResult]]) -> None:
    results = variant(lambda job: job.update(tasks=[t for t in job["tasks"] if t["task_key"] != "gold"]))
    only(results, "job.tasks")
    assert "no notebook task runs 03_gold" in results["job.tasks"].message


def test_a_job_without_a_silver_task_has_no_condition_to_count(variant: Callable[..., dict[str, CheckResult]]) -> None:
    def edit(job: dict[str, Any]) -> None:
        job["tasks"] = [t for t in job["tasks"] if t["task_key"] != "silver"]
        for t in job["tasks"]:  # what ran after silver now runs after bronze: the job stays valid
            for dep in t.get("depends_on", []):
                if dep["task_key"] == "silver":
                    dep["task_key"] = "bronze"

    results = variant(edit)
    assert results["job.valid"].status == "passed", results["job.valid"].message
    assert results["stretch.condition"].status == "failed"
    assert "no 02_silver notebook task" in results["stretch.condition"].message


# --------------------------------------------------------------------------------------------- the fan-out


def test_quality_after_silver_is_a_chain_not_a_fan_out(variant: Callable[..., dict[str, CheckResult]]) -> None:
    results = variant(lambda job: task(job, "quality").update(depends_on=[{"task_key": "silver"}]))
    only(results, "stretch.fan_out")
    assert "waits for silver (02_silver); it checks bronze, so it runs beside silver" in \
        results["stretch.fan_out"].message


def test_gold_that_does_not_wait_for_quality_fails_job_fan_out(variant: Callable[..., dict[str, CheckResult]]) -> None:
    results = variant(lambda job: task(job, "gold").update(depends_on=[{"task_key": "silver"}]))
    only(results, "stretch.fan_out")
    assert "gold (03_gold) does not depend on quality, so bad data would still reach gold" in \
        results["stretch.fan_out"].message


def test_a_quality_task_with_no_dependency_or_threshold_fails_job_fan_out(
        variant: Callable[..., dict[str, CheckResult]]) -> None:
    def edit(job: dict[str, Any]) -> None:
        task(job, "quality").pop("depends_on")
        job["parameters"] = [p for p in job["parameters"] if p["name"] != "max_bad_pct"]

    results = variant(edit)
    only(results, "stretch.fan_out")
    message = results["stretch.fan_out"].message
    assert "does not run after bronze (01_bronze): it depends on nothing" in message
    assert "no job parameter max_bad_pct" in message


def test_no_quality_task_fails_job_fan_out_only(variant: Callable[..., dict[str, CheckResult]]) -> None:
    def edit(job: dict[str, Any]) -> None:
        job["tasks"] = [t for t in job["tasks"] if t["task_key"] != "quality"]
        task(job, "gold").update(depends_on=[{"task_key": "silver"}])

    results = variant(edit)
    only(results, "stretch.fan_out")
    assert results["stretch.fan_out"].message == "no notebook task runs 04_quality"


def test_a_missing_parameter_fails_job_parameters(variant: Callable[..., dict[str, CheckResult]]) -> None:
    results = variant(lambda job: job.update(parameters=[p for p in job["parameters"] if p["name"] != "schema"]))
    only(results, "job.parameters")
    assert "no job parameter schema (it defines source_path, max_bad_pct)" in results["job.parameters"].message


def test_a_schedule_at_another_hour_fails_job_schedule(variant: Callable[..., dict[str, CheckResult]]) -> None:
    results = variant(lambda job: job["schedule"].update(quartz_cron_expression="0 0 3 * * ?"))
    only(results, "job.schedule")
    assert "03:00" in results["job.schedule"].message and "02:00" in results["job.schedule"].message


def test_a_unix_cron_is_invalid_for_the_validator_and_the_schedule_check(
        variant: Callable[..., dict[str, CheckResult]]) -> None:
    results = variant(lambda job: job["schedule"].update(quartz_cron_expression="0 2 * * *"))
    assert results["job.valid"].status == "failed" and results["job.schedule"].status == "failed"
    assert "Quartz" in results["job.schedule"].message and "0 0 2 * * ?" in results["job.schedule"].hint


def test_an_unknown_time_zone_names_the_close_one(variant: Callable[..., dict[str, CheckResult]]) -> None:
    results = variant(lambda job: job["schedule"].update(timezone_id="Europe/Berln"))
    assert results["job.schedule"].status == "failed"
    assert "Europe/Berlin" in results["job.schedule"].hint


def test_stretch_retries(variant: Callable[..., dict[str, CheckResult]]) -> None:
    results = variant(lambda job: task(job, "bronze").update(max_retries=0))
    only(results, "stretch.retries")
    assert "max_retries 0" in results["stretch.retries"].message


def test_stretch_failure_email(variant: Callable[..., dict[str, CheckResult]]) -> None:
    results = variant(lambda job: job.pop("email_notifications"))
    only(results, "stretch.on_failure_email")


def test_stretch_condition_must_follow_the_true_branch(variant: Callable[..., dict[str, CheckResult]]) -> None:
    results = variant(lambda job: task(job, "silver").update(
        depends_on=[{"task_key": "bronze_has_rows", "outcome": "false"}]))
    only(results, "stretch.condition")
    assert "outcome 'false'" in results["stretch.condition"].message


def test_stretch_condition_written_the_other_way_round_counts(variant: Callable[..., dict[str, CheckResult]]) -> None:
    results = variant(lambda job: task(job, "bronze_has_rows").update(
        condition_task={"op": "LESS_THAN", "left": "0", "right": "{{tasks.bronze.values.bronze_rows}}"}))
    assert set(statuses(results).values()) == {"passed"}


@pytest.mark.parametrize("condition", [
    {"op": "LESS_THAN_OR_EQUAL", "left": "{{tasks.bronze.values.bronze_rows}}", "right": "0"},
    {"op": "LESS_THAN", "left": "{{tasks.bronze.values.bronze_rows}}", "right": "1"},
    {"op": "EQUAL_TO", "left": "0", "right": "{{tasks.bronze.values.bronze_rows}}"},
])
def test_stretch_condition_testing_for_no_rows_counts_on_its_false_branch(
        variant: Callable[..., dict[str, CheckResult]], condition: dict[str, str]) -> None:
    """"bronze is empty" with silver on the false branch lets silver run exactly when bronze_rows > 0."""
    def edit(job: dict[str, Any]) -> None:
        task(job, "bronze_has_rows").update(condition_task=condition)
        task(job, "silver").update(depends_on=[{"task_key": "bronze_has_rows", "outcome": "false"}])

    results = variant(edit)
    assert set(statuses(results).values()) == {"passed"}, {k: r.message for k, r in results.items()}
    assert "was false in the run" in results["stretch.condition"].message
    wrong = variant(lambda job: task(job, "bronze_has_rows").update(condition_task=condition))  # silver on "true"
    only(wrong, "stretch.condition")
    assert 'must follow the "false" branch' in wrong["stretch.condition"].message


def test_stretch_condition_on_another_value_does_not_count(variant: Callable[..., dict[str, CheckResult]]) -> None:
    results = variant(lambda job: task(job, "bronze_has_rows").update(
        condition_task={"op": "GREATER_THAN", "left": "{{tasks.bronze.values.bronze_rows}}", "right": "10"}))
    only(results, "stretch.condition")


def test_the_untouched_lesson_job_is_not_done_yet() -> None:
    results = grade_job(LESSONS)
    for check_id, todo in (("job.tasks", "job.dependencies"), ("job.parameters", "job.parameters"),
                           ("job.schedule", "job.schedule"), ("stretch.fan_out", "job.fan_out")):
        assert results[check_id].status == "failed"
        assert results[check_id].message.startswith("not done yet:") and todo in results[check_id].message
    # Without its TODO parts the lesson job is a valid Databricks job, but none of it is the learner's work yet:
    # job.valid earns nothing for the file as shipped, and the stretch goals wait for it.
    valid = results["job.valid"]
    assert valid.status == "failed" and valid.message.startswith("not done yet: job.yml is the lesson's job")
    assert all(results[c].status == "skipped" for c in ("stretch.retries", "stretch.on_failure_email",
                                                         "stretch.condition"))


def test_a_todo_comment_left_above_finished_work_is_not_not_done_yet(tmp_path: Path) -> None:
    """The learner wrote a schedule (at the wrong hour) and left the lesson's TODO comment above it."""
    for nb in SOLUTIONS.glob("0*.ipynb"):
        shutil.copy(nb, tmp_path / nb.name)
    text = (LESSONS / "job.yml").read_text(encoding="utf-8")
    marker = "      # TODO job.schedule:"
    assert marker in text
    text = text.replace(marker, "      schedule:\n        quartz_cron_expression: \"0 0 3 * * ?\"\n"
                                "        timezone_id: UTC\n" + marker)
    (tmp_path / "job.yml").write_text(text, encoding="utf-8")
    results = grade_job(tmp_path)
    schedule = results["job.schedule"]
    assert schedule.status == "failed" and not schedule.message.startswith("not done yet")
    assert "02:00" in schedule.message
    assert results["job.parameters"].message.startswith("not done yet:")  # that one really is untouched


def test_no_job_file(tmp_path: Path) -> None:
    for nb in SOLUTIONS.glob("0*.ipynb"):
        shutil.copy(nb, tmp_path / nb.name)
    results = grade_job(tmp_path)
    assert results["job.valid"].status == "failed"
    assert "no job definition file" in results["job.valid"].message
    for check_id in ("job.tasks", "job.parameters", "job.schedule"):
        assert results[check_id].status == "skipped" and "could not be loaded" in results[check_id].message


def test_several_job_like_files_are_ambiguous(tmp_path: Path) -> None:
    for name in ("a.yml", "b.yml"):
        shutil.copy(SOLUTIONS / "job.yml", tmp_path / name)
    results = grade_job(tmp_path)
    assert "several files look like job definitions (a.yml, b.yml)" in results["job.valid"].message


def test_a_yaml_syntax_error_names_the_line(variant: Callable[..., dict[str, CheckResult]]) -> None:
    results = variant(lambda job: None, text="resources:\n  jobs:\n    x:\n      name: [unclosed\n")
    assert results["job.valid"].status == "failed" and "line" in results["job.valid"].message
