"""Whole gradings: real kernels, the real runner, the shared Spark server. Few, because each costs ~5 kernels.

- the solutions get full marks and every stretch point, through the CLI with all three report files;
- a correct solution written differently (Spark SQL, ``.py`` source notebooks, ``jobs get`` JSON) gets full marks;
- the untouched lessons get 0, every exercise reported as "not done yet", and nothing is an error;
- a broken submission (a notebook that is not JSON, missing ones, a job with a cycle) is graded, not crashed.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

from checkers.config import PROJECT_ROOT
from checkers.grading.grade import grade_submission
from checkers.grading.options import GradeOptions
from checkers.grading.report import Report
from checkers.sandbox import sandbox_status
from tests.helpers.layouts import bundle_layout, dbc_archive, write_volumes
from tests.helpers.rubric import points
from tests.helpers.system import in_ci

pytestmark = [pytest.mark.spark, pytest.mark.kernel]

SOLUTIONS = PROJECT_ROOT / "solutions"
LESSONS = PROJECT_ROOT / "lessons"
ALT = Path(__file__).resolve().parent.parent / "files" / "submissions" / "alt_sql"
ROWS = 6000


def not_passed(report: Report) -> dict[str, tuple[str, str]]:
    return {c.id: (c.status, c.message) for c in report.checks if c.status != "passed"}


@pytest.fixture(scope="module")
def solutions_cli(tmp_path_factory: pytest.TempPathFactory, spark_endpoint: Any) -> tuple[int, Path]:
    from checkers import cli

    out = tmp_path_factory.mktemp("reports")
    code = cli.main(["check", "--solutions", "--rows", str(ROWS), "--json", str(out / "report.json"),
                     "--junit", str(out / "junit.xml"), "--gradescope", str(out / "results.json")])
    return code, out


def test_solutions_get_full_marks_and_every_stretch_point(solutions_cli: tuple[int, Path]) -> None:
    code, out = solutions_cli
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    report = Report.from_dict(data)
    assert not_passed(report) == {}
    assert code == 0
    assert (data["score"], data["max_score"]) == (100, 100)
    assert data["stretch_score"] == data["stretch_max_score"] > 0
    assert data["run"]["result_state"] == "SUCCESS" and data["run"]["mode"] == "job"
    assert {t["task_key"] for t in data["run"]["tasks"]} == {"bronze", "bronze_has_rows", "silver", "quality", "gold"}
    assert {c["id"]: c["status"] for c in data["checks"] if c["id"] in ("stretch.quality_gate", "stretch.overrides",
                                                                         "stretch.repair")} == dict.fromkeys(
        ("stretch.quality_gate", "stretch.overrides", "stretch.repair"), "passed")
    assert data["seed"] != 20191001 and data["rows"] == ROWS


def test_solutions_reports_are_written_in_every_format(solutions_cli: tuple[int, Path]) -> None:
    _, out = solutions_cli
    root = ET.parse(out / "junit.xml").getroot()
    assert not list(root.iter("failure")) and not list(root.iter("error"))
    gradescope = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert gradescope["score"] == 100 and all(t["status"] == "passed" for t in gradescope["tests"])


def test_grading_leaves_the_run_folder_and_drops_its_schema(solutions_cli: tuple[int, Path], spark: Any) -> None:
    _, out = solutions_cli
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    folder = Path(data["run_folder"])
    assert json.loads((folder / "report.json").read_text(encoding="utf-8"))["score"] == 100
    # Two runs of the job: the graded one, and the grader's run on its failing file, repaired (once or twice: quality
    # ran two or three times, bronze and silver once, gold once, after the last repair).
    runs = sorted(p for p in (folder / "runs").iterdir() if p.is_dir())
    attempts = [{p.relative_to(run / "tasks").as_posix() for p in run.rglob("attempt_*.ipynb")} for run in runs]
    once = {"bronze/attempt_1.ipynb", "silver/attempt_1.ipynb", "quality/attempt_1.ipynb", "gold/attempt_1.ipynb"}
    assert len(attempts) == 2 and attempts[0] == once, attempts
    assert attempts[1] - once in ({"quality/attempt_2.ipynb"}, {"quality/attempt_2.ipynb", "quality/attempt_3.ipynb"})
    assert once <= attempts[1], attempts
    assert (folder / "widgets" / "00_widgets_passed.ipynb").is_file()
    # The kit's unchanged self-check cells were skipped, with a note where their output would be.
    silver = nbformat.read(str(next(folder.rglob("silver/attempt_1.ipynb"))), as_version=4)
    checks = [c for c in silver.cells if "check" in c.metadata.get("tags", [])]
    assert checks and all("Skipped by the grader" in "".join(o.get("text", "")) for c in checks for o in c.outputs)
    # A sandboxed kernel reads its own schema's table files, so each write is in the table's history, as outside a
    # grading (the rest of the warehouse stays hidden).
    printed = "".join(o.get("text", "") for c in silver.cells for o in c.get("outputs", []))
    assert "history of a table could not be written" not in printed
    status = sandbox_status()
    if status.available or in_ci():
        assert any("bubblewrap sandbox" in note for note in data["notes"]), data["notes"]
    else:  # a developer's machine without bubblewrap: the report says why nothing was sandboxed
        assert any(status.reason in note for note in data["notes"]), data["notes"]
    assert not (folder / "submission").exists() and not Path(data["data_file"]).exists()
    assert not list(Path(data["data_file"]).parent.glob("*.csv"))  # the failing file is gone too
    assert not spark.catalog.databaseExists(data["schema"])
    assert not spark.catalog.databaseExists(f"{data['schema']}_w")
    # The grader's run on its failing file had a schema of its own (named like any grading's): dropped too.
    assert not [d.name for d in spark.catalog.listDatabases() if d.name.startswith("grade_")]


def test_a_solution_in_spark_sql_source_notebooks_and_jobs_get_json_gets_full_marks(spark: Any) -> None:
    """Its 00_widgets really runs the layer it is given (dbutils.notebook.run): silver or gold finds no tables
    beside the job, so the grader runs it again after the job, with the job's tables under the default schema: the
    grading's own, never a day07 schema on the server."""
    made = not spark.catalog.databaseExists("day07")
    spark.sql("CREATE SCHEMA IF NOT EXISTS day07")
    spark.sql("DROP TABLE IF EXISTS day07.alt_sql_sentinel")
    spark.sql("CREATE TABLE day07.alt_sql_sentinel AS SELECT 'mine' AS owner")

    def server_day07() -> tuple[list[str], list[tuple[Any, ...]]]:
        tables = sorted(t.name for t in spark.catalog.listTables("day07"))
        return tables, [tuple(r) for r in spark.table("day07.alt_sql_sentinel").collect()]

    before = server_day07()
    try:
        report = grade_submission(folder=ALT, options=GradeOptions(rows=ROWS), name="alt_sql")
        after = server_day07()
    finally:
        spark.sql("DROP SCHEMA IF EXISTS day07 CASCADE" if made else "DROP TABLE IF EXISTS day07.alt_sql_sentinel")
    assert after == before, "the grading wrote into the server's own day07 schema"
    assert not_passed(report) == {}
    assert report.submission == "alt_sql"
    assert report.score == report.max_score == 100
    assert report.stretch_score == report.stretch_max_score
    again = [n for n in report.notes if n.startswith("00_widgets (with values passed) failed beside the job")]
    assert len(again) == 1 and again[0].endswith("it succeeded"), report.notes
    assert "SCHEMA_NOT_FOUND" in again[0] or "TABLE_OR_VIEW_NOT_FOUND" in again[0], again[0]
    assert not [n for n in report.notes if n.startswith("00_widgets (without values)")], report.notes


def test_untouched_lessons_get_zero_with_not_done_yet_messages() -> None:
    report = grade_submission(folder=LESSONS, options=GradeOptions(rows=ROWS))
    assert report.submission == str(LESSONS.resolve())
    assert report.score == 0 and report.max_score == 100
    assert not [c.id for c in report.checks if c.status in ("passed", "error") and c.required]
    by_id = {c.id: c for c in report.checks}
    for check_id in ("widgets.declared", "bronze.table", "job.valid", "job.tasks", "job.parameters", "job.schedule",
                     "stretch.fan_out"):
        assert by_id[check_id].status == "failed", (check_id, by_id[check_id].message, report.run.note)
        assert "not done yet" in by_id[check_id].message, by_id[check_id].message
    assert report.run.mode == "notebooks" and "cannot receive the grader's data" in report.run.note
    for check_id in ("stretch.quality_gate", "stretch.overrides", "stretch.repair"):  # no job run, no trial run
        assert by_id[check_id].status == "skipped", (check_id, by_id[check_id].message)


@pytest.fixture()
def broken(tmp_path: Path) -> Path:
    """01_bronze fine, 02_silver not valid JSON, 03_gold and 00_widgets missing, a job with a cycle: one kernel."""
    shutil.copy(SOLUTIONS / "01_bronze.ipynb", tmp_path / "01_bronze.ipynb")
    (tmp_path / "02_silver.ipynb").write_text('{"cells": [', encoding="utf-8")
    document = yaml.safe_load((SOLUTIONS / "job.yml").read_text(encoding="utf-8"))
    tasks = document["resources"]["jobs"]["day07_pipeline"]["tasks"]
    tasks[0]["depends_on"] = [{"task_key": "gold"}]  # bronze after gold after silver after bronze: a cycle
    (tmp_path / "job.yml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return tmp_path


def test_a_broken_submission_is_graded_with_reasons_not_crashed(broken: Path) -> None:
    report = grade_submission(folder=broken, options=GradeOptions(rows=ROWS))
    by_id = {c.id: c for c in report.checks}
    assert by_id["job.valid"].status == "failed" and "cycle" in by_id["job.valid"].message
    assert by_id["widgets.declared"].status == "failed"
    assert "00_widgets.ipynb (or .py, .sql) is not in the submission" in by_id["widgets.declared"].message
    assert by_id["silver.table"].status == "failed" and "not a valid notebook" in by_id["silver.table"].message
    assert by_id["gold.product_metrics.table"].status == "skipped"
    assert "02_silver did not succeed" in by_id["gold.product_metrics.table"].message
    # the notebook that can run was run directly, so bronze is still graded
    assert all(c.status == "passed" for c in report.checks if c.group == "bronze"), not_passed(report)
    assert report.run.mode == "notebooks" and "validation errors" in report.run.note
    assert all(by_id[c].status == "skipped" for c in ("run.unseen_data", "run.order", "run.success"))
    assert not [c.id for c in report.checks if c.status == "error"]
    assert 0 < report.score < 100


def test_a_schema_that_already_exists_is_refused_left_alone_and_no_kernel_is_left_running(
        spark: Any, tmp_path: Path, bwrap: str) -> None:
    import threading

    import psutil

    from checkers.errors import GradingError

    work = tmp_path / "grading"
    seen: list[int] = []
    done = threading.Event()

    def sandboxed_kernels() -> list[int]:
        """The grading's kernels: bubblewrap processes whose only writable folder is this grading's."""
        out = []
        for proc in psutil.process_iter(["pid", "cmdline"]):
            if str(work) in " ".join(proc.info["cmdline"] or []):
                out.append(proc.info["pid"])
        return out

    def watch() -> None:
        while not done.is_set():
            seen.extend(sandboxed_kernels())
            done.wait(0.02)

    spark.sql("CREATE SCHEMA someone_elses")
    watcher = threading.Thread(target=watch, daemon=True)
    try:
        spark.sql("CREATE TABLE someone_elses.work AS SELECT 1 AS x")
        watcher.start()
        with pytest.raises(GradingError, match="someone_elses already exists"):
            grade_submission(folder=SOLUTIONS, options=GradeOptions(rows=ROWS, schema="someone_elses"), work_dir=work)
        assert spark.table("someone_elses.work").count() == 1
        # Kernels had started ahead (while the schema was checked); every one of them is stopped.
        assert _eventually(lambda: bool(seen))
        assert _eventually(lambda: sandboxed_kernels() == []), sandboxed_kernels()
    finally:
        done.set()
        spark.sql("DROP SCHEMA IF EXISTS someone_elses CASCADE")


def _eventually(condition: Any, timeout: float = 30) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


# --------------------------------------------------------------------------------------------- fair grading


def _solutions_with(tmp_path: Path, stem: str | None = None, edit: Any = None, job_edit: Any = None) -> Path:
    """solutions/ with one notebook's cells changed by ``edit(cells)`` and/or the job by ``job_edit(job)``."""
    folder = tmp_path / "submission"
    shutil.copytree(SOLUTIONS, folder)
    if stem is not None:
        path = folder / f"{stem}.ipynb"
        nb = nbformat.read(str(path), as_version=4)
        edit(nb.cells)
        nbformat.write(nb, str(path))
    if job_edit is not None:
        document = yaml.safe_load((folder / "job.yml").read_text(encoding="utf-8"))
        job_edit(document["resources"]["jobs"]["day07_pipeline"])
        (folder / "job.yml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return folder


def _replace_in_cells(cells: list[Any], old: str, new: str) -> None:
    hits = [c for c in cells if old in c.source]
    assert len(hits) == 1, f"{old!r} is in {len(hits)} cells"
    hits[0].source = hits[0].source.replace(old, new)


def test_to_timestamp_after_stripping_utc_as_participants_write_it_gets_full_marks(tmp_path: Path) -> None:
    """How course participants parse the real file on Databricks (ANSI on): it must work on the kit's data."""
    folder = _solutions_with(tmp_path, "02_silver", lambda cells: _replace_in_cells(
        cells, 'F.to_timestamp("event_time", "yyyy-MM-dd HH:mm:ss \'UTC\'")',
        'F.to_timestamp(F.regexp_replace("event_time", " UTC", ""), "yyyy-MM-dd HH:mm:ss")'))
    report = grade_submission(folder=folder, options=GradeOptions(rows=ROWS))
    assert not_passed(report) == {} and report.score == 100


def test_forgetting_the_bronze_task_value_costs_its_own_checks_only(tmp_path: Path) -> None:
    """The condition task cannot run, so the job never reaches silver and gold: the grader runs them directly."""
    folder = _solutions_with(tmp_path, "01_bronze", lambda cells: _replace_in_cells(
        cells, 'dbutils.jobs.taskValues.set(key="bronze_rows", value=bronze_rows)', 'pass  # forgot the task value'))
    report = grade_submission(folder=folder, options=GradeOptions(rows=ROWS))
    lost = not_passed(report)
    assert set(lost) == {"bronze.task_value", "run.success", "run.order", "stretch.repair", "stretch.condition"}, lost
    assert lost["run.order"][0] == "skipped"  # no evidence of the order: no points, counted apart from failures
    # The grader's own run shows the quality gate working; its repair cannot reach gold past the same condition.
    assert lost["stretch.repair"][0] == "skipped" and "run.success marks that down" in lost["stretch.repair"][1]
    assert all(c.status == "passed" for c in report.checks if c.group in ("silver", "gold"))
    assert "ran them directly to grade their tables" in report.run.note
    assert report.score == 100 - points("bronze.task_value", "run.success", "run.order")


def test_a_silver_that_fails_costs_silver_and_the_run_but_not_gold(tmp_path: Path) -> None:
    """Silver hard-codes the schema, so it stops; the job never runs gold. The grader runs gold on its own silver."""
    folder = _solutions_with(tmp_path, "02_silver", lambda cells: _replace_in_cells(
        cells, 'bronze_table = f"{schema}.bronze_events"', 'bronze_table = "day07_no_such_schema.bronze_events"'))
    report = grade_submission(folder=folder, options=GradeOptions(rows=ROWS))
    lost = not_passed(report)
    assert {c for c in lost if not c.startswith("silver.")} <= {"run.success", "run.order", "stretch.repair"}, lost
    assert all(c.status == "passed" for c in report.checks if c.group == "gold"), not_passed(report)
    assert any("the grader ran it on its own expected silver" in note for note in report.notes), report.notes


def test_a_bronze_that_fails_costs_bronze_and_the_run_but_not_silver_or_gold(tmp_path: Path) -> None:
    """Bronze selects a column that does not exist, so it stops before writing; the job never runs silver and gold.
    The grader runs silver on its own expected bronze, then gold on the silver that run wrote."""
    folder = _solutions_with(tmp_path, "01_bronze", lambda cells: _replace_in_cells(
        cells, 'F.col("_metadata.file_path").alias("source_file")', 'F.col("no_such_column").alias("source_file")'))
    report = grade_submission(folder=folder, options=GradeOptions(rows=ROWS))
    lost = not_passed(report)
    assert lost["bronze.table"][0] == "failed" and "no_such_column" in lost["bronze.table"][1], lost
    assert {c for c in lost if not c.startswith(("bronze.", "stretch."))} <= {
        "widgets.parameters_used", "run.success", "run.order"}, lost
    assert all(c.status == "passed" for c in report.checks if c.group in ("silver", "gold")), lost
    assert any("the grader ran it on its own expected bronze" in note for note in report.notes), report.notes
    assert any("03_gold: the grader ran it on a copy of the silver_events" in note for note in report.notes)
    assert report.score >= 100 - points("bronze.table", "bronze.columns", "bronze.rows", "bronze.values",
                                        "bronze.metadata", "bronze.task_value", "widgets.parameters_used",
                                        "run.success", "run.order")


def test_a_wrong_depends_on_costs_job_tasks_only(tmp_path: Path) -> None:
    def gold_after_bronze(job: dict[str, Any]) -> None:  # (and after quality, as the fan-in asks)
        gold = next(t for t in job["tasks"] if t["task_key"] == "gold")
        gold["depends_on"] = [{"task_key": "bronze"}, {"task_key": "quality"}]

    report = grade_submission(folder=_solutions_with(tmp_path, job_edit=gold_after_bronze),
                              options=GradeOptions(rows=ROWS))
    required = {c.id for c in report.checks if c.required and c.status != "passed"}
    assert required == {"job.tasks"}, not_passed(report)
    assert report.score == 100 - points("job.tasks") and "one task at a time" in report.run.note


def test_the_contracts_four_notebooks_without_the_quality_task_get_full_marks(tmp_path: Path) -> None:
    """The quality gate is the lessons' stretch exercise: a job of bronze, silver and gold alone is the contract's job.
    Without a quality task the grader makes no run of its own, and the quality checks cost stretch points only."""
    def no_quality(job: dict[str, Any]) -> None:
        job["tasks"] = [t for t in job["tasks"] if t["task_key"] != "quality"]
        gold = next(t for t in job["tasks"] if t["task_key"] == "gold")
        gold["depends_on"] = [{"task_key": "silver"}]
        job["parameters"] = [p for p in job["parameters"] if p["name"] != "max_bad_pct"]

    folder = _solutions_with(tmp_path, job_edit=no_quality)
    (folder / "04_quality.ipynb").unlink()
    report = grade_submission(folder=folder, options=GradeOptions(rows=ROWS))
    assert report.score == report.max_score == 100, not_passed(report)
    lost = not_passed(report)
    assert set(lost) == {"stretch.fan_out", "stretch.quality_gate", "stretch.overrides", "stretch.repair"}, lost
    assert lost["stretch.fan_out"][0] == "failed" and "no notebook task runs 04_quality" in lost["stretch.fan_out"][1]
    assert report.stretch_score == report.stretch_max_score - points(*lost)


def test_a_bundle_project_with_notebooks_in_src_that_writes_a_volume_gets_full_marks(tmp_path: Path) -> None:
    """`databricks bundle init`'s layout: the job in resources/, its schema from the root's variables, notebooks
    in src/. Where the files sit is not part of the exercise. Its bronze also writes a volume of its schema, as
    notebooks do on Databricks: the grading's own /Volumes takes it, and goes with the grading."""
    from checkers.config import settings
    from checkers.runtime.volumes import ensure_sample_volume

    ensure_sample_volume()  # the grading makes the sample volume when there is none: the kit's own, not the learner's
    kit_volumes = sorted(p.relative_to(settings().volumes_dir) for p in settings().volumes_dir.rglob("*"))
    folder = write_volumes(bundle_layout(tmp_path / "project"))
    report = grade_submission(folder=folder, options=GradeOptions(rows=ROWS))
    assert not_passed(report) == {} and report.score == 100
    assert sorted(p.relative_to(settings().volumes_dir) for p in settings().volumes_dir.rglob("*")) == kit_volumes
    assert not (Path(report.run_folder) / "volumes").exists()


def test_a_zip_of_databricks_dbc_export_and_the_job_file_gets_full_marks(tmp_path: Path) -> None:
    """How a Databricks user hands in a workspace folder: Export → DBC Archive, with the job's YAML beside it (its
    notebook paths as Databricks writes them, without a suffix), zipped; graded with `day07 check FILE.zip`."""
    import zipfile

    from checkers import cli

    folder = tmp_path / "alice"
    folder.mkdir()
    dbc_archive(folder / "day07.dbc")
    job = (SOLUTIONS / "job.yml").read_text(encoding="utf-8").replace(".ipynb", "")
    (folder / "job.yml").write_text(job, encoding="utf-8")
    with zipfile.ZipFile(tmp_path / "alice.zip", "w") as zf:
        for path in folder.iterdir():
            zf.write(path, f"alice/{path.name}")
    code = cli.main(["check", str(tmp_path / "alice.zip"), "--rows", str(ROWS), "--json", str(tmp_path / "r.json")])
    report = Report.from_dict(json.loads((tmp_path / "r.json").read_text(encoding="utf-8")))
    assert not_passed(report) == {} and report.score == 100 and code == 0
    assert report.submission == str(tmp_path / "alice.zip")
    assert "day07.dbc (a Databricks archive) was unpacked into the folder it was in" in report.notes
