"""Finding a submission's own code that reaches for the kit's solution code, and what that costs (no Spark)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from checkers.grading.kit_code import KitCodeUse, discount, find_uses, scan_submission, task_stems
from checkers.grading.result import CheckResult
from checkers.jobs.project import find_submission
from checkers.notebooks.selfcheck import kit_check_sources
from tests.helpers.adversarial import SOLUTIONS


@pytest.mark.parametrize("source", [
    "from day07_checks.reference import finish_silver",
    "from day07_checks import reference as ref",
    "from day07_checks import (\n    feedback,\n    reference,\n)",
    "import day07_checks.reference",
    "import day07_checks\nsilver = day07_checks.reference.finish_silver(df, after='silver.parse_time')",
    "import day07_checks as kit\nsilver = kit.reference.finish_silver(df, after='silver.parse_time')",
    "from day07_checks._grader.grading.expect import expected_tables",
    "mod = importlib.import_module('day07_checks.reference')",
    "exec(open('day07_checks/reference.py').read())",
    "from checkers.grading.expect import compute_expectations",
    "import checkers.feedback.reference as r",
    "from checkers import grading",
    "%run ./day07_checks/reference",
])
def test_every_way_to_reach_the_solution_code_is_found(source: str) -> None:
    assert find_uses(source) is not None


@pytest.mark.parametrize("source", [
    "import day07_checks\nday07_checks.feedback(step, globals())",
    "import day07_checks.quality\nday07_checks.quality.feedback(step, globals())",
    "# I read day07_checks/reference.py to understand the rule\nsilver = my_clean(bronze)",
    "df = spark.table('reference_products')  # not the kit",
    "from pyspark.sql import functions as F",
    "my_checkers.grading_scale = 3",
])
def test_the_check_cells_and_ordinary_code_are_not_uses(source: str) -> None:
    assert find_uses(source) is None


def test_the_kits_own_cells_in_the_solutions_use_nothing() -> None:
    assert kit_check_sources()  # the solutions' check cells were found
    assert scan_submission(SOLUTIONS) == []  # setup and check cells call day07_checks.feedback only


def _result(cid: str, group: str, status: str = "passed", *, required: bool = True) -> CheckResult:
    return CheckResult(id=cid, group=group, title=cid, status=status, score=5 if status == "passed" else 0,
                       max_score=5, message="seen", hint="", required=required)


def _solutions(tmp_path: Path) -> Path:
    folder = tmp_path / "sub"
    shutil.copytree(SOLUTIONS, folder)
    return folder


def _append(path: Path, source: str) -> None:
    nb = nbformat.read(str(path), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(source))
    nbformat.write(nb, str(path))


def test_a_notebook_that_uses_it_loses_its_own_layer_only(tmp_path: Path) -> None:
    folder = _solutions(tmp_path)
    _append(folder / "03_gold.ipynb", "from day07_checks import reference\nreference.daily_sales(silver)")
    uses = scan_submission(folder)
    assert [(u.file, u.line) for u in uses] == [("03_gold.ipynb", "from day07_checks import reference")]
    cell_count = sum(1 for c in nbformat.read(str(folder / "03_gold.ipynb"), 4).cells if c.cell_type == "code")
    assert uses[0].cell == cell_count  # the last code cell, counted from 1
    results = [_result("gold.daily_sales", "gold"), _result("gold.funnel", "gold", "failed"),
               _result("silver.table", "silver"), _result("stretch.retries", "stretch", required=False)]
    out = discount(results, uses, folder=folder, notebooks=find_submission(folder=folder).notebooks,
                   task_stems=set())
    assert [(r.id, r.status, r.score) for r in out] == [
        ("gold.daily_sales", "failed", 0), ("gold.funnel", "failed", 0), ("silver.table", "passed", 5),
        ("stretch.retries", "passed", 5)]
    assert out[0].message.startswith("not counted: 03_gold.ipynb, cell ") and out[0].message.endswith("seen")
    assert "docs/contract.md#your-own-code" in out[0].hint


def test_a_helper_counts_for_the_notebooks_that_use_it_and_for_the_quality_task(tmp_path: Path) -> None:
    folder = _solutions(tmp_path)
    (folder / "helpers.py").write_text("from day07_checks.reference import *\n", encoding="utf-8")
    _append(folder / "01_bronze.ipynb", "from helpers import parse_time")
    (folder / "dq.py").write_text("# Databricks notebook source\nprint(1)\n\n# COMMAND ----------\n\n"
                                  "from day07_checks._grader.grading.quality_rule import gate_fails\n",
                                  encoding="utf-8")
    uses = scan_submission(folder)
    assert {(u.file, u.cell) for u in uses} == {("helpers.py", None), ("dq.py", 2)}
    results = [_result("bronze.table", "bronze"), _result("silver.table", "silver"),
               _result("stretch.quality_gate", "stretch", required=False), _result("run.success", "run")]
    out = discount(results, uses, folder=folder, notebooks=find_submission(folder=folder).notebooks,
                   task_stems={"01_bronze", "dq"})
    assert [(r.id, r.status) for r in out] == [("bronze.table", "failed"), ("silver.table", "passed"),
                                               ("stretch.quality_gate", "failed"), ("run.success", "passed")]


def test_no_use_changes_nothing(tmp_path: Path) -> None:
    results = [_result("silver.table", "silver")]
    assert discount(results, [], folder=tmp_path, notebooks={}, task_stems=set()) is results


def test_the_job_names_its_tasks_notebooks() -> None:
    from checkers.jobs.load import load_job

    assert task_stems(load_job(path=SOLUTIONS / "job.yml")) >= {"01_bronze", "02_silver", "03_gold"}
    assert task_stems(None) == set()


def test_a_use_says_where_it_is() -> None:
    assert KitCodeUse(file="src/02_silver.py", cell=3, line="x").where() == "src/02_silver.py, cell 3"
    assert KitCodeUse(file="helpers.py", cell=None, line="x").where() == "helpers.py"
    assert json.dumps(KitCodeUse(file="a", cell=1, line="b").__dict__)


@pytest.mark.parametrize("source", [
    '"""Silver, with the rules of day07_checks/reference.py in mind."""\nsilver = clean(bronze)',
    'print("no day07_checks.reference here")',
    'display(spark.createDataFrame([("checkers.grading",)]))',
])
def test_text_only_shown_or_documented_is_not_a_use(source: str) -> None:
    assert find_uses(source) is None


def test_a_path_kept_in_a_variable_is_a_use_and_the_line_is_named() -> None:
    source = "x = 1\nhelper = 'day07_checks/reference.py'\nexec(open(helper).read())"
    assert find_uses(source) == "helper = 'day07_checks/reference.py'"


def test_decoy_files_do_not_push_the_graded_notebooks_out_of_the_scan(tmp_path: Path) -> None:
    from checkers.grading import kit_code

    folder = _solutions(tmp_path)
    src = folder / "src"
    src.mkdir()
    shutil.move(folder / "02_silver.ipynb", src / "02_silver.ipynb")
    _append(src / "02_silver.ipynb", "from day07_checks import reference")
    for i in range(kit_code.MAX_SCANNED_FILES + 5):
        (folder / f"a{i:04d}.py").write_text("x = 1\n", encoding="utf-8")
    notebooks = find_submission(folder=folder).notebooks
    assert notebooks["02_silver"] == src / "02_silver.ipynb"
    assert scan_submission(folder) == []  # only the first thousand files: the decoys
    found = scan_submission(folder, first=notebooks.values())
    assert [u.file for u in found] == ["src/02_silver.ipynb"]


def test_a_file_the_reader_chokes_on_is_searched_as_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from checkers.grading import kit_code

    (tmp_path / "helpers.py").write_text("import day07_checks.reference as r\n", encoding="utf-8")

    def choke(source: str) -> str | None:
        raise RecursionError("too deep")

    monkeypatch.setattr(kit_code, "find_uses", choke)
    assert [(u.file, u.cell, u.line) for u in scan_submission(tmp_path)] == [
        ("helpers.py", None, "day07_checks.reference")]


def test_a_renamed_copy_of_the_grader_is_found_by_its_lines_and_costs_the_layers_that_import_it(
        tmp_path: Path) -> None:
    """The lessons ship the grader (``day07_checks/_grader``) for their check cells; a copy under another name,
    its imports rewritten, holds no kit name at all. Its lines give it away."""
    folder = _solutions(tmp_path)
    vendored = folder / "mylib"
    shutil.copytree(SOLUTIONS / "day07_checks" / "_grader", vendored)
    for path in vendored.rglob("*.py"):
        path.write_text(path.read_text(encoding="utf-8").replace("day07_checks._grader.", "mylib."),
                        encoding="utf-8")
    _append(folder / "02_silver.ipynb", "import mylib\nsilver = mylib.grading.expect.compute_expectations(path=p)")
    uses = scan_submission(folder)
    assert uses and all(u.file.startswith("mylib/") and u.line.startswith("a copy of the kit's grader code")
                        for u in uses), uses
    results = [_result("silver.table", "silver"), _result("gold.daily_sales", "gold")]
    out = discount(results, uses, folder=folder, notebooks=find_submission(folder=folder).notebooks,
                   task_stems=set())
    assert [(r.id, r.status) for r in out] == [("silver.table", "failed"), ("gold.daily_sales", "passed")]


def test_code_that_shares_a_few_lines_with_the_grader_is_not_a_copy(tmp_path: Path) -> None:
    """The solutions, and submissions written for the tests, share at most a couple of lines with the grader."""
    from checkers.grading.kit_code import COPIED_LINES, grader_lines

    assert scan_submission(_solutions(tmp_path)) == []
    some = sorted(grader_lines())[:COPIED_LINES - 1]
    (tmp_path / "sub" / "helpers.py").write_text("\n".join(some) + "\n" + "\n".join(
        f"value_{i} = compute_something_long({i})" for i in range(30)), encoding="utf-8")
    assert scan_submission(tmp_path / "sub") == []
