"""Notebooks in the shapes course participants write run to the end through the kit's executor, unchanged.

The corpus (tests/files/participants/) was written for this test in those shapes: Databricks ``.ipynb`` exports
with their metadata and an earlier run's outputs, source ``.py`` files with ``# MAGIC`` and ``# DBTITLE``, widgets
removed and re-declared, ``%sql`` cells, ``DeltaTable`` merges, partitioned Delta writes, ``_metadata.file_path``,
volumes from Python and Spark, Python UDFs that open files. Its data is a small stand-in with the real file's nine
columns. Each notebook's tables are checked against expectations computed here with pandas, from the CSV.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest

from checkers.runtime.delta.state import NOTICES

pytestmark = [pytest.mark.spark, pytest.mark.kernel]
RAW = "/Volumes/workspace/participants/raw/2019-Oct.csv"


@pytest.fixture(scope="module")
def corpus(spark_endpoint: Any) -> Path:
    """The stand-in file in a volume, where the notebooks' ``source_path`` widget is pointed."""
    from checkers.runtime.volumes import copy_to_volume

    folder = Path(__file__).parents[1] / "files" / "participants"
    copy_to_volume(source=folder / "data" / "2019-Oct.csv", dest=RAW)
    return folder


@pytest.fixture(scope="module")
def raw(corpus: Path) -> pd.DataFrame:
    return pd.read_csv(corpus / "data" / "2019-Oct.csv", dtype=str, keep_default_na=False)


def run(path: Path, endpoint: Any, out: Path, **parameters: str) -> Any:
    from checkers.notebooks.execute import execute_notebook
    from checkers.spark.client import kernel_env

    return execute_notebook(path=path, parameters=parameters, output_path=out, env=kernel_env(endpoint),
                            work_dir=out.with_suffix(""))


def texts(path: Path) -> str:
    saved = nbformat.read(path, as_version=4)
    parts = []
    for cell in saved.cells:
        for output in cell.get("outputs", []):
            parts.append("".join(output.get("text", "")) + json.dumps(output.get("data", {})))
    return "\n".join(parts)


def fresh(spark: Any, *schemas: str) -> None:
    for schema in schemas:
        spark.sql(f"DROP SCHEMA IF EXISTS spark_catalog.{schema} CASCADE")


def valid(raw: pd.DataFrame) -> pd.DataFrame:
    """Rows whose event_time parses (``yyyy-MM-dd HH:mm:ss UTC``); the others have it empty."""
    rows = raw[raw.event_time != ""].copy()
    rows["event_ts"] = pd.to_datetime(rows.event_time.str.replace(" UTC", "", regex=False), format="%Y-%m-%d %H:%M:%S")
    rows["event_date"] = rows.event_ts.dt.date
    return rows


def spark_round(value: float, places: int) -> float:
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def test_bronze_silver_export_runs_and_shows_no_earlier_output(corpus: Path, raw: pd.DataFrame, spark: Any,
                                                                spark_endpoint: Any, tmp_path: Path) -> None:
    fresh(spark, "day6_alice")
    out = tmp_path / "bronze.ipynb"
    result = run(corpus / "day6_bronze_silver_export.ipynb", spark_endpoint, out, source_path=RAW)
    assert result.ok, (result.message, result.failure and result.failure.traceback[-8:])
    rows = valid(raw)
    rows = rows[rows.price.astype(float) > 0]
    silver = rows.drop_duplicates(["event_time", "event_type", "product_id", "user_id", "user_session"])
    assert result.exit_value == str(len(silver))
    assert spark.table("spark_catalog.day6_alice.bronze_events").count() == len(raw)
    table = spark.table("spark_catalog.day6_alice.silver_events").toPandas()
    assert sorted(zip(table.user_session, table.event_type, table.product_id.astype(str), strict=True)) == \
        sorted(zip(silver.user_session, silver.event_type, silver.product_id, strict=True))
    assert {str(d) for d in table.event_date} == {str(d) for d in silver.event_date}
    assert all(f.endswith("/participants/raw/2019-Oct.csv") for f in table.source_file)
    from checkers.runtime.delta import history, storage

    # As in Delta, the partition column is the table's metadata (its history), not a folder per day.
    logged = history.partition_columns(storage.info_from_name(spark, "spark_catalog.day6_alice.silver_events"))
    assert logged == ["event_date"]
    shown = texts(out)
    assert f"Bronze Layer Created: {len(raw):,} rows" in shown
    assert "42,448,764" not in shown and "40779399" not in shown and "42,351,862" not in shown


def test_silver_merge_history_time_travel_and_self_overwrite(corpus: Path, raw: pd.DataFrame, spark: Any,
                                                              spark_endpoint: Any, tmp_path: Path) -> None:
    from checkers.runtime.delta.log import DeltaLog

    fresh(spark, "day7_bob")
    out = tmp_path / "silver.ipynb"
    result = run(corpus / "day7_silver_merge.py", spark_endpoint, out, source_path=RAW)
    assert result.ok, (result.message, result.failure and result.failure.traceback[-8:])
    events = valid(raw).drop_duplicates(["user_session", "event_ts", "product_id", "event_type"])
    first_day = events[events.event_date.astype(str) == "2019-10-01"]
    assert result.record.task_values == {"silver_rows": len(events)}
    assert f"version 0: {len(first_day)} rows, now: {len(events)} rows" in texts(out)
    kept = events[events.event_type.isin(["purchase", "cart"])]
    table = spark.table("spark_catalog.day7_bob.silver_events").toPandas()
    assert sorted(zip(table.user_session, table.event_type, strict=True)) == \
        sorted(zip(kept.user_session, kept.event_type, strict=True))
    log = DeltaLog("table:spark_catalog.day7_bob.silver_events").entries()
    assert [e["operation"] for e in log] == ["CREATE TABLE AS SELECT", "MERGE", "CREATE OR REPLACE TABLE AS SELECT"]
    merge = log[1]["operationMetrics"]
    assert (int(merge["numTargetRowsInserted"]), int(merge["numTargetRowsUpdated"])) == \
        (len(events) - len(first_day), len(first_day))
    assert result.record.notices.count(NOTICES["maintenance"]) == 1


def test_volumes_day0_parquet_and_udfs_that_open_files(corpus: Path, raw: pd.DataFrame, spark: Any,
                                                       spark_endpoint: Any, tmp_path: Path) -> None:
    from checkers.runtime.volumes import copy_to_volume, local_path

    volume = "/Volumes/workspace/day6_dave/files"
    fresh(spark, "day6_dave")
    spark.sql("CREATE SCHEMA spark_catalog.day6_dave")
    segments = {"samsung": "mass", "apple": "premium", "huawei": "mass"}
    lookup = tmp_path / "brand_segments.json"
    lookup.write_text(json.dumps(segments))
    copy_to_volume(source=lookup, dest=f"{volume}/")
    copy_to_volume(source=corpus / "data" / "2019-Oct.csv", dest=f"{volume}/")
    day0 = local_path(f"{volume}/day0_events")
    day0.mkdir(parents=True, exist_ok=True)
    raw.replace("", None).to_parquet(day0 / "part-00000.parquet", index=False)  # Day 0's Spark wrote nulls
    result = run(corpus / "day6_volumes_udf.py", spark_endpoint, tmp_path / "udf.ipynb")
    assert result.ok, (result.message, result.failure and result.failure.traceback[-8:])
    written = spark.read.parquet(str(local_path(f"{volume}/delta/segmented_events"))).toPandas()
    assert len(written) == len(raw)
    expected = [segments.get(b, "other") for b in written.brand.fillna("")]
    assert list(written.segment_udf) == expected
    assert list(written.segment_pandas) == expected and list(written.segment_map) == expected
    assert f"{len(raw)} rows written as Delta" in texts(tmp_path / "udf.ipynb")


def test_gold_in_sql_replaces_a_table_left_by_an_earlier_run(corpus: Path, raw: pd.DataFrame, spark: Any,
                                                              spark_endpoint: Any, tmp_path: Path) -> None:
    fresh(spark, "day7_carol")
    spark.sql("CREATE SCHEMA spark_catalog.day7_carol")
    spark.sql("CREATE TABLE spark_catalog.day7_carol.daily_sales (day DATE, purchases BIGINT, revenue DOUBLE) "
              "USING parquet")
    spark.sql("INSERT INTO spark_catalog.day7_carol.daily_sales VALUES (DATE'2019-09-30', 99, 1.5)")
    result = run(corpus / "day7_gold_sql_export.ipynb", spark_endpoint, tmp_path / "gold.ipynb", source_path=RAW)
    assert result.ok, (result.message, result.failure and result.failure.traceback[-8:])
    purchases = valid(raw)
    purchases = purchases[purchases.event_type == "purchase"]
    expected = {}
    for day, group in purchases.groupby("event_date"):
        revenue = spark_round(sum(float(p) for p in group.price), 2)
        expected[str(day)] = (len(group), spark_round(revenue, 0) if revenue > 500 else revenue)
    expected = {d: v for d, v in expected.items() if v[1] > 0}
    gold = spark.table("spark_catalog.day7_carol.daily_sales").collect()
    table = {str(r.day): (r.purchases, r.revenue) for r in gold}
    assert table.keys() == expected.keys()
    for day, (count, revenue) in expected.items():
        assert table[day][0] == count and table[day][1] == pytest.approx(revenue, abs=0.011)
    operations = result.record.task_values["operations"]
    assert operations[0] == "WRITE" and operations[-1] == "CREATE OR REPLACE TABLE AS SELECT"
    assert "MERGE" in operations
    later_days = {d for d in expected if d >= "2019-10-02"}
    assert result.record.task_values["first_version_days"] == len(later_days)


def test_a_failing_cell_shows_the_databricks_error_and_no_stale_outputs(corpus: Path, spark: Any,
                                                                      spark_endpoint: Any, tmp_path: Path) -> None:
    fresh(spark, "day7_erin")
    out = tmp_path / "report.ipynb"
    result = run(corpus / "day7_report_fails_export.ipynb", spark_endpoint, out)
    assert result.status == "failed" and result.failure is not None
    assert (result.failure.cell_number, result.failure.ename) == (3, "AnalysisException")
    assert result.failure.evalue.startswith("[TABLE_OR_VIEW_NOT_FOUND] The table or view "
                                            "`workspace`.`day7_erin`.`gold_daily_report` cannot be found.")
    shown = "\n".join(result.failure.traceback)
    for noise in ("JVM stacktrace", "\tat org.apache", "spark_catalog", '"ts":', "site-packages/pyspark"):
        assert noise not in shown and noise not in result.failure.evalue, noise
    assert "SQLSTATE: 42P01" in shown and '----> 2 print(f"{report.count():,} report rows")' in shown
    log = out.with_suffix("") / "errors.log"
    assert str(log) in shown and "org.apache.spark" in log.read_text()
    saved = nbformat.read(out, as_version=4)
    cells = [c for c in saved.cells if c.cell_type == "code"]
    assert "starting the report" in "".join(o.get("text", "") for o in cells[0].outputs)
    assert [(c.outputs, c.execution_count) for c in cells[2:]] == [([], None), ([], None)]
    assert "31 report rows" not in texts(out) and "Report done" not in texts(out)
