"""Delta behaviours found missing by running participants' notebooks, checked against Delta's documented rules.

Schema enforcement on path appends (Databricks "Schema enforcement"), appends that follow an existing table's
partitioning, table metadata that DML keeps, and INSERT's cast of string literals into DATE/TIMESTAMP columns.
Expected values are written out by hand from those rules.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from checkers.runtime.delta.importer import install_delta_module, uninstall_delta_module
from tests.helpers.client_patches import kernel_patches

pytestmark = pytest.mark.spark
SCHEMA = "delta_gaps"


@pytest.fixture(scope="module")
def patched(spark: Any) -> Iterator[None]:
    with kernel_patches(translate_paths=True, notice=lambda _text: None):
        install_delta_module()
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS workspace.{SCHEMA}")
        yield
        uninstall_delta_module()


@pytest.fixture()
def table(patched: None) -> str:
    return f"workspace.{SCHEMA}.t_{uuid.uuid4().hex[:8]}"


def test_a_path_append_with_other_columns_is_a_schema_mismatch_unless_merge_schema(spark: Any, patched: None) -> None:
    """The append by path is checked like saveAsTable's: a new column fails (the table keeps its rows), a missing
    column is null, mergeSchema adds the column (old rows null), a type that cannot be merged fails."""
    from pyspark.errors import AnalysisException

    path = f"/Volumes/workspace/{SCHEMA}/files/events_{uuid.uuid4().hex[:6]}"
    spark.createDataFrame([(1, "a")], "id BIGINT, name STRING").write.format("delta").mode("overwrite").save(path)
    with pytest.raises(AnalysisException, match=r"DELTA_METADATA_MISMATCH.*mergeSchema"):
        spark.createDataFrame([("x", "y", "z")], ["x", "y", "z"]).write.format("delta").mode("append").save(path)
    frame = spark.read.format("delta").load(path)
    assert frame.columns == ["id", "name"] and [tuple(r) for r in frame.collect()] == [(1, "a")]
    spark.createDataFrame([(2,)], "id INT").write.format("delta").mode("append").save(path)
    frame = spark.read.format("delta").load(path)
    assert frame.columns == ["id", "name"]
    assert sorted(tuple(r) for r in frame.collect()) == [(1, "a"), (2, None)]
    with pytest.raises(AnalysisException, match="DELTA_FAILED_TO_MERGE_FIELDS"):
        spark.createDataFrame([("four",)], "id STRING").write.format("delta").mode("append").save(path)
    assert spark.read.format("delta").load(path).count() == 2


def test_delta_table_calls_as_the_first_use_of_spark_connect_it(spark: Any, table: str) -> None:
    """In a kernel, ``spark`` is a stand-in until first used; DeltaTable.forName(spark, ...) and the builders get
    the real session from it, as on Databricks where ``spark`` is a session from the start."""
    from concurrent.futures import Future

    from checkers.runtime.delta.tables import DeltaTable
    from checkers.runtime.kernel import LazySpark

    def lazy() -> Any:
        ready: Future = Future()
        ready.set_result(spark)
        namespace: dict[str, Any] = {}
        namespace["spark"] = LazySpark(namespace, ready)
        return namespace["spark"]

    spark.range(3).write.saveAsTable(table)
    assert DeltaTable.forName(lazy(), table).toDF().count() == 3
    other = f"{table}_b"
    DeltaTable.createIfNotExists(lazy()).tableName(other).addColumn("id", "INT").execute()
    assert spark.table(other).columns == ["id"]


def test_appends_follow_the_partitioning_write_to_created(spark: Any, table: str) -> None:
    """writeTo(t).partitionedBy(c).createOrReplace(), then writeTo(t).append() and saveAsTable(mode="append")
    without partitionBy: Delta's appends follow the table's partitioning. Column order stays as written."""
    from pyspark.sql import functions as F

    frame = spark.createDataFrame([(1, "a", 10), (2, "b", 20)], "id INT, brand STRING, amount INT")
    frame.writeTo(table).using("delta").partitionedBy(F.col("brand")).createOrReplace()
    frame.limit(1).writeTo(table).append()
    frame.limit(1).write.mode("append").saveAsTable(table)
    assert spark.table(table).columns == ["id", "brand", "amount"] and spark.table(table).count() == 4
    assert spark.sql(f"DESCRIBE DETAIL {table}").first().partitionColumns == ["brand"]


def test_a_table_partitioned_in_the_catalog_takes_an_append_without_partition_by(spark: Any, table: str) -> None:
    spark.sql(f"CREATE TABLE {table} (id INT, brand STRING) USING parquet PARTITIONED BY (brand)")
    spark.createDataFrame([(1, "a")], "id INT, brand STRING").write.mode("append").saveAsTable(table)
    assert [tuple(r) for r in spark.table(table).collect()] == [(1, "a")]


def test_insert_casts_string_literals_to_date_and_timestamp_columns(spark: Any, table: str) -> None:
    """Delta casts each inserted value to its column's type (an ANSI cast): a date string works, a bad one fails."""
    from datetime import date, datetime

    spark.sql(f"CREATE OR REPLACE TABLE {table} (id INT, d DATE, ts TIMESTAMP, amount DECIMAL(10,2))")
    spark.sql(f"INSERT INTO {table} VALUES (1, '2024-01-01', '2024-01-01 10:00:00', 10.50), "
              "(2, '2024-02-29', '2024-02-29 23:59:59', 3)")
    spark.sql(f"INSERT INTO {table} (ts, id, d) VALUES ('2024-03-01 00:00:00', 3, '2024-03-01')")
    got = sorted((r.id, r.d, r.ts) for r in spark.table(table).collect())
    assert got == [(1, date(2024, 1, 1), datetime(2024, 1, 1, 10)),
                   (2, date(2024, 2, 29), datetime(2024, 2, 29, 23, 59, 59)),
                   (3, date(2024, 3, 1), datetime(2024, 3, 1))]
    with pytest.raises(Exception, match="CAST_INVALID_INPUT"):
        spark.sql(f"INSERT INTO {table} VALUES (4, 'not a date', NULL, NULL)")
    assert spark.table(table).count() == 3
    assert [r.operation for r in spark.sql(f"DESCRIBE HISTORY {table}").collect()][:2] == ["WRITE", "WRITE"]


def test_dml_keeps_the_table_properties_comment_and_constraints(spark: Any, table: str) -> None:
    """MERGE, UPDATE, DELETE and RESTORE change rows only: TBLPROPERTIES, COMMENT and CHECK constraints stay."""
    spark.sql(f"CREATE OR REPLACE TABLE {table} COMMENT 'keep me' TBLPROPERTIES ('team'='course') AS "
              "SELECT 1 AS id, 10 AS amount UNION ALL SELECT 2, 20")
    spark.sql(f"ALTER TABLE {table} ADD CONSTRAINT pos CHECK (amount > 0)")

    def metadata() -> tuple[dict[str, str], str]:
        props = {r.key: r.value for r in spark.sql(f"SHOW TBLPROPERTIES {table}").collect()}
        comment = next(r.data_type for r in spark.sql(f"DESCRIBE TABLE EXTENDED {table}").collect()
                       if r.col_name == "Comment")
        return {k: props[k] for k in ("team", "delta.constraints.pos") if k in props}, comment

    expected = ({"team": "course", "delta.constraints.pos": "amount > 0"}, "keep me")
    assert metadata() == expected
    spark.sql(f"MERGE INTO {table} t USING (SELECT 1 AS id, 11 AS amount) s ON t.id = s.id "
              "WHEN MATCHED THEN UPDATE SET amount = s.amount")
    assert metadata() == expected
    spark.sql(f"UPDATE {table} SET amount = 21 WHERE id = 2")
    spark.sql(f"DELETE FROM {table} WHERE id = 1")
    assert metadata() == expected
    spark.sql(f"RESTORE TABLE {table} TO VERSION AS OF 0")
    assert metadata() == expected and spark.table(table).count() == 2
