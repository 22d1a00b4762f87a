"""The feedback's own behaviour, in process on the session's Spark server: big data, work not done yet, a Spark
error in the learner's DataFrame, Databricks (no runtime record), and a notebook copied without day07_checks."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from checkers.config import PROJECT_ROOT
from checkers.data import sample_path
from checkers.feedback import notebook, steps
from checkers.runtime.context import RunContext
from checkers.runtime.dbutils import DBUtils

pytestmark = pytest.mark.spark

SCHEMA = "feedback_unit"


@pytest.fixture(scope="module")
def bronze(spark: Any) -> str:
    """``feedback_unit.bronze_events`` loaded from the sample the way the solution loads it."""
    from pyspark.sql import functions as F

    spark.sql(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    raw = spark.read.option("header", True).csv(str(sample_path()))
    raw.select("*", F.current_timestamp().alias("ingestion_ts"), F.col("_metadata.file_path").alias("source_file")) \
        .write.mode("overwrite").saveAsTable(f"{SCHEMA}.bronze_events")
    return f"{SCHEMA}.bronze_events"


def _namespace(spark: Any, **values: Any) -> dict[str, Any]:
    db = DBUtils(context=RunContext())
    db.widgets.text("source_path", str(sample_path()))
    db.widgets.text("schema", SCHEMA)
    return {"spark": spark, "dbutils": db, "schema": SCHEMA, **values}


def test_big_raw_data_gets_only_the_checks_that_need_no_expected_values(
        spark: Any, bronze: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notebook, "MAX_ROWS", 1000)
    monkeypatch.setattr(notebook, "_DATA", {})
    result = steps.evaluate("bronze.table", _namespace(spark))
    assert isinstance(result, steps.StepResult)
    assert [r.id for r in result.shown] == ["bronze.table", "bronze.columns", "bronze.task_value"]
    assert set(r.id for r in result.shown) <= steps.LIGHT
    said = steps.lines(result)
    assert said[0] == ("ℹ️ bronze.table: The raw data has more than 1 000 rows: only the checks that need no expected "
                       "values ran.")
    assert "✅ bronze.table: feedback_unit.bronze_events exists (15 000 rows)" in said  # counted, not collected
    assert any(line.startswith("❌ bronze.task_value: 01_bronze set no task value bronze_rows") for line in said)


def test_on_small_data_every_check_of_the_step_runs(spark: Any, bronze: str) -> None:
    ns = _namespace(spark)
    ns["dbutils"].jobs.taskValues.set(key="bronze_rows", value=15_000)
    result = steps.evaluate("bronze.table", ns)
    assert isinstance(result, steps.StepResult) and result.notes == []
    assert [(r.id, r.status) for r in result.shown] == [(c, "passed") for c in steps.BRONZE_ALL]


def test_an_exercise_not_done_yet_says_so(spark: Any) -> None:
    assert steps.evaluate("silver.price", _namespace(spark)) == (
        "⏳ silver.price: not done yet: there is no `priced` yet. Run the exercise cell above first.")
    assert steps.evaluate("silver.price", _namespace(spark, priced=None)) == (
        "⏳ silver.price: not done yet: `priced` is not a DataFrame.")
    assert steps.evaluate("silver.nothing", {}).startswith("⚠️ silver.nothing: no feedback is known for this step")


def test_a_dataframe_spark_cannot_compute_is_the_learners_to_fix(spark: Any, bronze: str,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from pyspark.sql import functions as F

    if str(spark.conf.get("spark.sql.ansi.enabled")).lower() != "true":
        pytest.skip("needs ANSI mode (Spark 4's default)")
    wrong = spark.table(bronze).withColumn("event_time", F.to_timestamp("event_time", "yyyy-MM-dd"))
    steps.run_step("silver.parse_time", _namespace(spark, parsed=wrong))
    out = capsys.readouterr().out
    assert out.startswith("❌ silver.parse_time: Spark cannot compute your DataFrame: ")
    assert "Run the exercise cell again and read its error" in out


class _DatabricksWidgets:
    """``dbutils.widgets`` as Databricks has it: values only, no record of what was declared."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def get(self, name: str) -> str:
        return self.values[name]


@pytest.mark.parametrize(("layer", "verdict"), [
    ('dbutils.widgets.dropdown("layer", "bronze", ["bronze", "silver", "gold"], "Layer")', "✅ widgets.declared: "),
    ('dbutils.widgets.text("layer", "bronze", "Layer")', "❌ widgets.declared: 00_widgets: layer is a text widget"),
], ids=["dropdown", "text"])
def test_on_databricks_the_declarations_come_from_the_cells_run(layer: str, verdict: str) -> None:
    """Databricks keeps no record to read: the cells run so far (the notebook's input history) tell instead."""
    history = ["", 'DEFAULT_SOURCE = "/Volumes/w/e/d/2019-Oct.csv"',
               'dbutils.widgets.text("source_path", DEFAULT_SOURCE, "Source CSV")\n' + layer,
               'rows = 42\ndbutils.jobs.taskValues.set(key="bronze_rows", value=rows)']
    ns = {"In": history, "DEFAULT_SOURCE": "/Volumes/w/e/d/2019-Oct.csv", "rows": 42,
          "dbutils": type("DBUtils", (), {"widgets": _DatabricksWidgets({"layer": "bronze"})})()}
    record = notebook.Session(ns).record()
    assert [(w.name, w.kind, w.default) for w in record.widgets][0] == ("source_path", "text",
                                                                         "/Volumes/w/e/d/2019-Oct.csv")
    assert record.task_values == {"bronze_rows": 42}
    said = steps.lines(steps.evaluate("widgets.declare", ns))
    assert said[0].startswith(verdict), said


def test_without_record_or_history_the_recorded_checks_are_left_to_the_grader(spark: Any, bronze: str) -> None:
    ns = {"spark": spark, "schema": SCHEMA,
          "dbutils": type("DBUtils", (), {"widgets": _DatabricksWidgets({"source_path": str(sample_path()),
                                                                       "schema": SCHEMA})})()}
    assert steps.evaluate("widgets.declare", ns) == f"ℹ️ widgets.declare: {steps.NO_RECORD}."
    result = steps.evaluate("bronze.table", ns)
    assert isinstance(result, steps.StepResult) and result.notes == [steps.NO_RECORD]
    assert [r.id for r in result.shown] == [c for c in steps.BRONZE_ALL if c not in steps.RECORDED]


def test_a_notebook_copied_alone_prints_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Its setup cell's feedback() finds no day07_checks next to it: one line, no error."""
    setup = next(c for c in nbformat.read(str(PROJECT_ROOT / "solutions" / "02_silver.ipynb"), as_version=4).cells
                 if c.id == "setup")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(PROJECT_ROOT))])
    namespace: dict[str, Any] = {}
    exec(compile(setup.source, "setup", "exec"), namespace)  # noqa: S102 - the notebook's own cell
    namespace["feedback"]("silver.price")
    assert capsys.readouterr().out == ("ℹ️ silver.price: feedback needs the day07_checks folder next to this notebook "
                                       "(No module named 'day07_checks').\n")
