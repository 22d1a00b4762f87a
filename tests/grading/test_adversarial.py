"""Hostile and broken submissions graded in one small cohort next to the solutions.

Each hostile submission is solutions/ with one notebook or the job file changed (built by
tests/helpers/adversarial.py). The cohort is graded once (module fixture); each test then checks that one
submission got a clear message and that the solutions, graded in the same cohort, still get full marks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from checkers.grading.cohort import CohortResult, grade_cohort
from checkers.grading.gradebook import Entry
from tests.helpers import adversarial

pytestmark = [pytest.mark.spark, pytest.mark.kernel]

CELL_TIMEOUT = 30.0
"""Short, so the infinite loop costs little; the solutions' slowest cell needs far less on 2 cores."""
VARIANTS = ("infinite_loop", "os_exit", "memory_hog", "flood_and_drop_schema", "bad_json",
            "missing_notebook_and_forge_event", "job_cycle", "fake_report", "forge_record", "copier", "escapes",
            "kit_code")
"""Two hostile acts share a submission where neither can touch what the other's test reads (one grading for both).
``forge_record`` stays alone: it overwrites every JSON file it reaches, the job's task contexts too."""
HOST_TMP_FILE = Path("/tmp/day07_udf_escape.txt")
"""Where the hostile UDF tries to write on the host (a grading server's /tmp is its own)."""
KERNEL_MEMORY_MB = 700
"""A kernel running the solutions needs about 250 MB (Spark's work runs in the server); the hog passes 700 fast."""


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory, spark: Any) -> CohortResult:
    root = tmp_path_factory.mktemp("adversarial")
    folder = root / "cohort"
    adversarial.build(folder / "solutions", None)
    for variant in VARIANTS:
        adversarial.build(folder / variant, variant)
    spark.sql("CREATE SCHEMA IF NOT EXISTS victim_schema")
    spark.sql("CREATE TABLE IF NOT EXISTS victim_schema.t AS SELECT 1 AS x")
    HOST_TMP_FILE.unlink(missing_ok=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAY07_KERNEL_MEMORY_MB", str(KERNEL_MEMORY_MB))
        return grade_cohort(cohort_dir=folder, out_dir=root / "out", workers=2, seed=99, rows=2000,
                            cell_timeout=CELL_TIMEOUT)


def report(result: CohortResult, sid: str) -> dict[str, Any]:
    entry = result.entry(sid)
    assert entry.report is not None, entry
    return json.loads((result.out_dir / entry.report).read_text())


def check(data: dict[str, Any], cid: str) -> dict[str, Any]:
    return next(c for c in data["checks"] if c["id"] == cid)


def failed_messages(data: dict[str, Any]) -> str:
    return "\n".join(c["message"] for c in data["checks"] if c["status"] in ("failed", "error"))


def test_the_solutions_keep_full_marks_next_to_hostile_submissions(cohort: CohortResult) -> None:
    entry = cohort.entry("solutions")
    assert (entry.status, entry.score, entry.max_score) == ("passed", 100, 100), entry.message
    assert {e.status for e in cohort.entries} <= {"passed", "failed"}  # no grader error, no infrastructure error
    assert sorted(cohort.graded) == sorted(["solutions", *VARIANTS])
    # Copies of the solutions wrote no code of their own; each hostile variant wrote something else.
    assert cohort.summary["shared_code"] == []
    # ... and they hold every line of the reference answers, which the summary lists for the instructor
    assert cohort.summary["solution_copies"][0]["share"] == 1.0
    assert "solutions" in {c["id"] for c in cohort.summary["solution_copies"]}
    assert json.loads((cohort.out_dir / "reports" / "solutions.json").read_text())["own_code"] == {}
    assert json.loads((cohort.out_dir / "reports" / "copier.json").read_text())["own_code"]["02_silver"]


def graded_failed(cohort: CohortResult, sid: str) -> tuple[Entry, dict[str, Any]]:
    entry = cohort.entry(sid)
    assert entry.status == "failed", entry
    data = report(cohort, sid)
    assert data["score"] < data["max_score"]
    return entry, data


def test_an_infinite_loop_is_a_timed_out_task(cohort: CohortResult) -> None:
    _, data = graded_failed(cohort, "infinite_loop")
    silver = next(t for t in data["run"]["tasks"] if t["task_key"] == "silver")
    assert silver["result_state"] in ("TIMEDOUT", "FAILED")
    assert "timed out" in silver["message"] or "longer than" in silver["message"], silver
    assert check(data, "bronze.table")["status"] == "passed"  # what ran before the loop is still graded


def test_os_exit_is_a_dead_kernel(cohort: CohortResult) -> None:
    _, data = graded_failed(cohort, "os_exit")
    gold = next(t for t in data["run"]["tasks"] if t["task_key"] == "gold")
    assert gold["result_state"] == "FAILED" and "kernel died" in gold["message"], gold
    assert check(data, "silver.table")["status"] == "passed"


def test_a_memory_hog_is_stopped_at_the_kernel_limit(cohort: CohortResult) -> None:
    _, data = graded_failed(cohort, "memory_hog")
    gold = next(t for t in data["run"]["tasks"] if t["task_key"] == "gold")
    assert gold["result_state"] == "FAILED", gold
    assert f"more than {KERNEL_MEMORY_MB} MB" in gold["message"] and "DAY07_KERNEL_MEMORY_MB" in gold["message"], gold
    assert check(data, "silver.table")["status"] == "passed"  # the tasks before it are graded as usual


def test_a_10_mb_print_is_capped_while_it_runs_and_costs_no_points(cohort: CohortResult) -> None:
    entry = cohort.entry("flood_and_drop_schema")
    assert (entry.status, entry.score) == ("passed", 100), entry.message
    data = report(cohort, "flood_and_drop_schema")
    gold = next(t for t in data["run"]["tasks"] if t["task_key"] == "gold")
    assert "printed 10,4" in gold["message"] and "output was capped" in gold["message"], gold
    run_folder = Path(data["run_folder"])
    assert max(p.stat().st_size for p in run_folder.rglob("*.ipynb")) < 2 * 1024 * 1024


def test_a_notebook_that_is_not_json_is_named(cohort: CohortResult) -> None:
    entry, data = graded_failed(cohort, "bad_json")
    assert "01_bronze" in entry.message and "not valid notebook JSON" in failed_messages(data)


def test_a_missing_notebook_is_named(cohort: CohortResult) -> None:
    _, data = graded_failed(cohort, "missing_notebook_and_forge_event")
    assert "02_silver" in failed_messages(data)
    assert check(data, "bronze.table")["status"] == "passed"


def test_a_job_with_a_cycle_fails_the_job_checks_and_the_notebooks_still_run(cohort: CohortResult) -> None:
    _, data = graded_failed(cohort, "job_cycle")
    assert "the dependencies form a cycle" in check(data, "job.valid")["message"]
    assert data["run"]["mode"] == "notebooks"  # the grader ran the notebooks in contract order instead
    table_checks = [c for c in data["checks"] if c["group"] in ("bronze", "silver", "gold")]
    assert table_checks and all(c["status"] == "passed" for c in table_checks)


def test_a_fake_report_and_a_patched_dbutils_change_nothing(cohort: CohortResult, bwrap: str) -> None:
    entry, data = graded_failed(cohort, "fake_report")
    assert check(data, "silver.table")["status"] == "failed"
    assert check(data, "silver.task_value")["status"] != "passed"
    out = cohort.out_dir
    # The notebook tried to write fake files into every folder above it; the grader's own files are the ones
    # that count.
    exported = json.loads((out / "reports" / "fake_report.json").read_text())
    assert exported["score"] == entry.score < 100 and exported["checks"]
    assert json.loads((Path(data["run_folder"]) / "report.json").read_text())["score"] == entry.score
    # The sandbox kept its writes inside its own grading folder.
    escaped = {p.relative_to(out) for p in out.rglob("escaped_by_fake_report.txt")}
    assert escaped and all(p.parts[:2] == ("submissions", "fake_report") for p in escaped), escaped
    assert not (out.parent / "escaped_by_fake_report.txt").exists()
    book = json.loads((out / "gradebook.json").read_text())
    assert {e["id"] for e in book["entries"]} == {"solutions", *VARIANTS}
    assert json.loads((out / "summary.json").read_text())["submissions"] == len(VARIANTS) + 1


def test_a_notebook_that_drops_another_schema_is_graded_and_the_cohort_is_not_hurt(cohort: CohortResult,
                                                                                   spark: Any) -> None:
    entry = cohort.entry("flood_and_drop_schema")
    assert entry.status == "passed"  # its own pipeline is right; dropping others' schemas earns nothing
    # Each grading runs on a server of its own worker: the schemas of this machine's shared server are not there.
    assert spark.catalog.databaseExists("victim_schema")
    assert cohort.entry("solutions").score == 100


def printed(data: dict[str, Any], task_dir: str, folder: Path | None = None) -> str:
    """Everything the executed notebook of one task printed, in the graded run (not the grader's own run on its
    failing file, made after the graded run's tables were read), or in ``folder``."""
    import nbformat

    graded = Path(data["run"]["run_dir"]) if data["run"].get("run_dir") else Path(data["run_folder"])
    notebooks = sorted((folder or graded).rglob(f"{task_dir}/attempt_*.ipynb"))
    assert notebooks, f"no executed notebook for {task_dir} in {graded}"
    nb = nbformat.read(str(notebooks[-1]), as_version=4)
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))


def test_rewriting_the_widget_record_lowers_the_score(cohort: CohortResult) -> None:
    """The record file rewritten and the record object mutated: the executor kept what was reported as it happened."""
    _, data = graded_failed(cohort, "forge_record")
    declared = check(data, "widgets.declared")
    assert declared["status"] == "failed" and "layer is a text widget, not a dropdown" in declared["message"]
    assert declared["score"] == 0 < declared["max_score"]  # the forgery costs the declaration its points


def test_a_forged_dbutils_event_is_caught_by_the_source(cohort: CohortResult) -> None:
    _, data = graded_failed(cohort, "missing_notebook_and_forge_event")
    declared = check(data, "widgets.declared")
    assert declared["status"] == "failed"
    assert "recorded and written declarations differ" in declared["message"], declared["message"]
    assert declared["score"] == 0 < declared["max_score"]  # the forgery costs the declaration its points


def test_a_copier_finds_no_peer_and_earns_nothing_for_silver(cohort: CohortResult) -> None:
    entry, data = graded_failed(cohort, "copier")
    assert "copied from None" in printed(data, "silver")  # no other grading's schema is visible from its server
    silver = [c for c in data["checks"] if c["group"] == "silver"]
    assert silver and not [c for c in silver if c["status"] == "passed"]
    others = {e.id for e in cohort.entries if e.id != "copier"}
    assert all(e.seed != entry.seed for e in cohort.entries if e.id in others)  # and its data was its own anyway


def test_tables_built_with_the_kits_solution_code_earn_nothing_and_its_edited_copy_never_runs(
        cohort: CohortResult) -> None:
    _, data = graded_failed(cohort, "kit_code")
    silver = [c for c in data["checks"] if c["group"] == "silver"]
    assert silver and all(c["status"] == "failed" and c["score"] == 0 for c in silver)
    assert all("02_silver.ipynb, cell" in c["message"] and "kit's solution code" in c["message"] for c in silver)
    assert "day07_checks.reference" in silver[0]["message"]
    # While grading the kit's steps are not there to import: the cell that asks for them stops the silver task.
    tasks = {t["task_key"]: t for t in data["run"]["tasks"]}
    assert tasks["silver"]["result_state"] == "FAILED" and "ModuleNotFoundError" in tasks["silver"]["message"]
    assert tasks["gold"]["result_state"] == "UPSTREAM_FAILED"
    bronze = [c for c in data["checks"] if c["group"] == "bronze"]
    assert bronze and all(c["status"] == "passed" for c in bronze)
    bronze_output = printed(data, "bronze")
    assert "skipped while grading" in bronze_output and "TAMPERED" not in bronze_output  # neither copy ran
    assert any("day07_checks/ differed from the kit's" in note for note in data["notes"])


def test_every_way_out_through_spark_and_the_kernel_is_contained(cohort: CohortResult) -> None:
    entry = cohort.entry("escapes")
    data = report(cohort, "escapes")
    assert (entry.status, entry.score) == ("passed", 100), entry.message  # contained, and its pipeline is right
    bronze = printed(data, "bronze")
    assert "data write from the kernel: refused" in bronze and "data write through Spark: refused" in bronze
    assert "UDF: wrote its /tmp; token hidden; 0 gradings visible" in bronze, bronze[-2000:]
    assert not HOST_TMP_FILE.exists()  # the UDF's /tmp was the sandbox's own
    silver = printed(data, "silver")
    assert "refused:" in silver and "read outside:" not in silver, silver[-2000:]
    gold = printed(data, "gold")
    assert "dropping grade_" not in gold  # no other grading's schema was there to drop
    assert cohort.entry("solutions").score == 100


def test_the_graders_own_run_on_its_failing_file_cannot_change_what_was_graded(cohort: CohortResult) -> None:
    """That run sees the grading's own schema on the server: its tables were read before, so dropping them is futile."""
    entry = cohort.entry("escapes")
    data = report(cohort, "escapes")
    graded = Path(data["run"]["run_dir"])
    others = [p for p in (Path(data["run_folder"]) / "runs").iterdir() if p.is_dir() and p != graded]
    assert len(others) == 1, others
    assert f"dropping {data['schema']}" in printed(data, "gold", others[0])  # gold ran there, after the repair
    assert (entry.status, entry.score) == ("passed", 100), entry.message
