"""The grader's own orchestration run, for real: its failing file, its thresholds, its repairs, on real kernels.

- A quality gate with a fixed threshold (the widget never read) fails on the bad file, as it should, but not again
  with the repair's higher threshold: only stretch.overrides is lost (stretch.repair, which needs it, is skipped).
- A gate that counts its runs in a file (to pass the graded run, fail the grader's second one, and pass after)
  is caught by the extra failing repair the grader draws for half its gradings.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from checkers.config import PROJECT_ROOT
from checkers.grading.grade import grade_submission
from checkers.grading.options import GradeOptions
from checkers.grading.quality_run import thresholds
from checkers.grading.report import Report
from tests.helpers.rubric import points

pytestmark = [pytest.mark.spark, pytest.mark.kernel]

SOLUTIONS = PROJECT_ROOT / "solutions"
ROWS = 3000


def lost(report: Report) -> dict[str, str]:
    return {c.id: c.status for c in report.checks if c.status != "passed"}


def with_quality(tmp_path: Path, source: str) -> Path:
    """solutions/ with 04_quality replaced by a Databricks source notebook."""
    folder = tmp_path / "submission"
    shutil.copytree(SOLUTIONS, folder, ignore=shutil.ignore_patterns("04_quality.ipynb", "day07_checks"))
    (folder / "04_quality.py").write_text(source, encoding="utf-8")
    return folder


COUNT_BAD_ROWS = '''# Databricks notebook source
import os
from pyspark.sql import functions as F

dbutils.widgets.text("schema", "day07")
dbutils.widgets.text("max_bad_pct", "5")
schema = dbutils.widgets.get("schema")
bronze = spark.table(f"{schema}.bronze_events")
missing = F.lit(False)
for column in ["event_time", "event_type", "product_id", "user_id", "user_session"]:
    missing = missing | F.col(column).isNull()
bad_rows = bronze.filter(missing).count()
total_rows = bronze.count()
dbutils.jobs.taskValues.set("bad_rows", bad_rows)

# COMMAND ----------
'''


def seed_with_extra_repair(extra: bool) -> int:
    """A grading seed for which the grader does (or does not) draw the extra failing repair."""
    return next(s for s in range(1, 500) if bool(thresholds(seed=s, share=15.0)[1]) is extra)


def test_a_fixed_threshold_loses_run_overrides_only(tmp_path: Path) -> None:
    fixed = COUNT_BAD_ROWS + '''if total_rows == 0 or 100 * bad_rows / total_rows > 5:  # 5, whatever the job says
    raise ValueError(f"{bad_rows} of {total_rows} rows are bad")
'''
    report = grade_submission(folder=with_quality(tmp_path, fixed),
                              options=GradeOptions(rows=ROWS, seed=seed_with_extra_repair(False)))
    assert lost(report) == {"stretch.overrides": "failed", "stretch.repair": "skipped"}, {
        c.id: c.message for c in report.checks if c.status != "passed"}
    overrides = next(c for c in report.checks if c.id == "stretch.overrides")
    assert "task quality still ended FAILED" in overrides.message
    assert overrides.message.endswith("compare with the widget's value, not a fixed number")
    assert report.score == 100  # the quality gate is a stretch exercise: full marks never need it
    assert report.stretch_score == report.stretch_max_score - points("stretch.overrides", "stretch.repair")


def test_a_gate_that_counts_its_runs_is_caught_by_the_extra_repair(tmp_path: Path) -> None:
    counting = COUNT_BAD_ROWS + '''marker = os.path.join(os.getcwd(), ".quality_runs")
runs = int(open(marker).read()) + 1 if os.path.exists(marker) else 1
open(marker, "w").write(str(runs))
if runs == 2:  # the grader's second run is its failing file: fail there, pass everywhere else
    raise ValueError("too many bad rows")
'''
    report = grade_submission(folder=with_quality(tmp_path, counting),
                              options=GradeOptions(rows=ROWS, seed=seed_with_extra_repair(True)))
    by_id = {c.id: c for c in report.checks}
    # Its premise held: state survived between the grader's runs, so it passed the graded run and failed the next.
    assert by_id["stretch.quality_gate"].status == "passed", by_id["stretch.quality_gate"].message
    assert by_id["stretch.overrides"].status == "failed", by_id["stretch.overrides"].message
    assert "still below the file's" in by_id["stretch.overrides"].message
    assert by_id["stretch.repair"].status == "skipped"
    assert report.stretch_score <= report.stretch_max_score - points("stretch.overrides", "stretch.repair")

