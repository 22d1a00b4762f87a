"""The Delta Lake Python API and SQL on the kit's Delta stand-in, checked against Delta's documented semantics.

The examples follow the Delta Lake docs ("Table deletes, updates, and merges"): the people upsert, a conditional
delete, an insert-only dedup merge, clause order, ``whenNotMatchedBySource``, and the error on several source rows
matching one target row. Expected rows are written out by hand from those semantics, never computed by the kit.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from checkers.runtime.catalog_names import DELTA_NOTICE
from checkers.runtime.delta.importer import install_delta_module, uninstall_delta_module
from checkers.runtime.delta.state import NOTICES
from tests.helpers.client_patches import kernel_patches

pytestmark = pytest.mark.spark
SCHEMA = "delta_api"


@pytest.fixture(scope="module")
def notices(spark: Any) -> Iterator[list[str]]:
    """The kernel's patches, in the test process: compat (names, Delta → parquet) and the Delta emulation."""
    shown: list[str] = []
    with kernel_patches(translate_paths=True, notice=shown.append):
        install_delta_module()
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS workspace.{SCHEMA}")
        yield shown
        uninstall_delta_module()


@pytest.fixture()
def table(notices: list[str]) -> str:
    return f"workspace.{SCHEMA}.t_{uuid.uuid4().hex[:8]}"


def rows(spark: Any, name: str, *cols: str) -> list[tuple]:
    frame = spark.table(name)
    return sorted(tuple(r) for r in frame.select(*(cols or frame.columns)).collect())


def staging_tables(spark: Any) -> list[str]:
    """Tables the emulation made on the way (a staging table, the old table of a swap) and left behind."""
    return [r.tableName for r in spark.sql(f"SHOW TABLES IN workspace.{SCHEMA}").collect()
            if r.tableName.startswith("__day07") and not r.isTemporary]


PEOPLE = "id INT, firstName STRING, lastName STRING, gender STRING, birthDate DATE, salary INT"


def people(spark: Any, name: str) -> None:
    spark.createDataFrame([
        (1, "Angela", "Vasquez", "F", date(1980, 5, 12), 72000),
        (2, "Brian", "Lee", "M", date(1950, 3, 2), 65000),
        (3, "Carla", "Diaz", "F", date(1954, 12, 31), 80000),
    ], PEOPLE).write.saveAsTable(name)


# --- the Python API ---------------------------------------------------------------------------------------------

def test_the_documented_upsert_updates_matches_and_inserts_the_rest(spark: Any, table: str) -> None:
    from delta.tables import DeltaTable

    people(spark, table)
    updates = spark.createDataFrame([(2, "Brian", "Lee", "M", date(1950, 3, 2), 70000),
                                     (4, "Dana", "Kim", "F", date(1990, 1, 1), 50000)], PEOPLE)
    cols = ["id", "firstName", "lastName", "gender", "birthDate", "salary"]
    result = (DeltaTable.forName(spark, table).alias("people")
              .merge(updates.alias("updates"), "people.id = updates.id")
              .whenMatchedUpdate(set={c: f"updates.{c}" for c in cols})
              .whenNotMatchedInsert(values={c: f"updates.{c}" for c in cols})
              .execute())
    assert result.first().asDict() == {"num_affected_rows": 2, "num_updated_rows": 1, "num_deleted_rows": 0,
                                       "num_inserted_rows": 1}
    assert rows(spark, table, "id", "salary") == [(1, 72000), (2, 70000), (3, 80000), (4, 50000)]


def test_the_first_matching_clause_wins_and_unassigned_columns_keep_or_null(spark: Any, table: str) -> None:
    from delta.tables import DeltaTable

    spark.createDataFrame([(1, "a", 1), (2, "b", 2), (3, "c", 3), (4, "d", 4)], "id INT, v STRING, n INT") \
        .write.saveAsTable(table)
    source = spark.createDataFrame([(1, "x", True), (2, "y", False), (3, "z", None), (5, "new", False),
                                    (6, "skip", True)], "id INT, v STRING, gone BOOLEAN")
    (DeltaTable.forName(spark, table).alias("t").merge(source.alias("s"), "t.id = s.id")
     .whenMatchedDelete(condition="s.gone")                    # 1: deleted
     .whenMatchedUpdate(condition="s.v = 'y'", set={"v": "'first'"})   # 2: only this one applies
     .whenMatchedUpdate(set={"t.v": "upper(s.v)", "n": "t.n * 10"})     # 2 also meets it; 3 (gone NULL) lands here
     .whenNotMatchedInsert(condition="NOT s.gone", values={"id": "s.id", "v": "s.v"})  # 5 in, 6 not
     .execute())
    # 4 is not in the source: kept as it was; 5's unassigned n is NULL.
    assert rows(spark, table) == [(2, "first", 2), (3, "Z", 30), (4, "d", 4), (5, "new", None)]


def test_insert_only_merge_dedups_against_the_table_but_not_within_the_new_data(spark: Any, table: str) -> None:
    from delta.tables import DeltaTable

    spark.createDataFrame([("a", 1), ("b", 1)], "uniqueId STRING, day INT").write.saveAsTable(table)
    logs = spark.createDataFrame([("b", 2), ("c", 2), ("c", 3)], "uniqueId STRING, day INT")
    (DeltaTable.forName(spark, table).alias("logs")
     .merge(logs.alias("newDedupedLogs"), "logs.uniqueId = newDedupedLogs.uniqueId")
     .whenNotMatchedInsertAll().execute())
    assert rows(spark, table) == [("a", 1), ("b", 1), ("c", 2), ("c", 3)]
    history = spark.sql(f"DESCRIBE HISTORY {table}").select("version", "operation", "isBlindAppend").collect()
    assert [(r.version, r.operation) for r in history] == [(1, "MERGE"), (0, "CREATE TABLE AS SELECT")]


def test_two_source_rows_that_would_change_one_target_row_are_an_error(spark: Any, table: str) -> None:
    from delta.tables import DeltaTable
    from pyspark.errors import UnsupportedOperationException

    spark.createDataFrame([(1, "a"), (2, "b")], "id INT, v STRING").write.saveAsTable(table)
    twice = spark.createDataFrame([(1, "x"), (1, "y")], "id INT, v STRING")
    target = DeltaTable.forName(spark, table).alias("t")
    with pytest.raises(UnsupportedOperationException) as info:
        target.merge(twice.alias("s"), "t.id = s.id").whenMatchedUpdateAll().execute()
    assert info.value.getCondition() == "DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE"
    assert info.value.getSqlState() == "21506"
    assert rows(spark, table) == [(1, "a"), (2, "b")]  # nothing written
    # Allowed: only one of the pairs meets the clause, or every matched clause is an unconditional delete.
    target.merge(twice.alias("s"), "t.id = s.id").whenMatchedUpdate("s.v = 'y'", {"v": "s.v"}).execute()
    assert rows(spark, table) == [(1, "y"), (2, "b")]
    target.merge(twice.alias("s"), "t.id = s.id").whenMatchedDelete().execute()
    assert rows(spark, table) == [(2, "b")]


def test_not_matched_by_source_updates_or_deletes_target_rows_the_source_lacks(spark: Any, table: str) -> None:
    from delta.tables import DeltaTable

    spark.createDataFrame([("k1", 5, "active"), ("k2", 1, "active"), ("k3", 9, "active")],
                          "key STRING, lastSeen INT, status STRING").write.saveAsTable(table)
    source = spark.createDataFrame([("k1", 10), ("k4", 11)], "key STRING, timestamp INT")
    (DeltaTable.forName(spark, table).alias("target").merge(source.alias("source"), "source.key = target.key")
     .whenMatchedUpdate(set={"target.lastSeen": "source.timestamp"})
     .whenNotMatchedInsert(values={"target.key": "source.key", "target.lastSeen": "source.timestamp",
                                   "target.status": "'active'"})
     .whenNotMatchedBySourceUpdate(condition="target.lastSeen >= 5", set={"target.status": "'inactive'"})
     .whenNotMatchedBySourceDelete()
     .execute())
    assert rows(spark, table) == [("k1", 10, "active"), ("k3", 9, "inactive"), ("k4", 11, "active")]


def test_clause_rules_and_unknown_columns_are_delta_errors(spark: Any, table: str) -> None:
    from delta.tables import DeltaTable
    from pyspark.errors import AnalysisException

    spark.createDataFrame([(1, "a")], "id INT, v STRING").write.saveAsTable(table)
    builder = DeltaTable.forName(spark, table).alias("t").merge(
        spark.createDataFrame([(1, "b")], "id INT, v STRING").alias("s"), "t.id = s.id")
    cases = [(builder, "DELTA_MERGE_MISSING_WHEN"),
             (builder.whenMatchedUpdateAll().whenMatchedDelete(), "DELTA_NON_LAST_MATCHED_CLAUSE_OMIT_CONDITION"),
             (builder.whenMatchedUpdate(set={"nope": "s.v"}), "DELTA_MERGE_UNRESOLVED_EXPRESSION")]
    for merge, condition in cases:
        with pytest.raises(AnalysisException) as info:
            merge.execute()
        assert info.value.getCondition() == condition


def test_conditional_delete_and_update_keep_null_rows_like_sql(spark: Any, table: str) -> None:
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    people(spark, table)
    spark.sql(f"INSERT INTO {table} VALUES (5, 'Eve', 'Null', 'F', NULL, 1)")
    dt = DeltaTable.forName(spark, table)
    dt.delete("birthDate < '1955-01-01'")  # NULL birthDate: not deleted
    assert rows(spark, table, "id") == [(1,), (5,)]
    dt.update(condition=F.col("gender") == "F", set={"gender": F.lit("Female"), "salary": "salary + 1"})
    assert rows(spark, table, "id", "gender", "salary") == [(1, "Female", 72001), (5, "Female", 2)]
    ops = [(r.version, r.operation, r.operationParameters.get("predicate")) for r in dt.history().collect()]
    assert ops[1] == (2, "DELETE", json.dumps(["birthDate < '1955-01-01'"]))
    assert ops[0][:2] == (3, "UPDATE") and "gender" in json.loads(ops[0][2])[0]
    assert ops[2][1] == "WRITE" and ops[3][1] == "CREATE TABLE AS SELECT"


# --- history, detail, time travel ---------------------------------------------------------------------------

def test_history_detail_and_every_way_to_read_an_old_version(spark: Any, table: str) -> None:
    from delta.tables import DeltaTable

    spark.range(3).write.saveAsTable(table)                                        # v0
    spark.range(3, 5).write.mode("append").saveAsTable(table)                      # v1
    spark.range(10, 12).write.mode("overwrite").saveAsTable(table)                 # v2
    dt = DeltaTable.forName(spark, table)
    history = dt.history().collect()
    assert [(r.version, r.operation, r.readVersion) for r in history] == [
        (2, "CREATE OR REPLACE TABLE AS SELECT", 1), (1, "WRITE", 0), (0, "CREATE TABLE AS SELECT", None)]
    assert history[1].operationParameters["mode"] == "Append" and history[1].isBlindAppend
    # rows each version wrote, as audit cells read them: operationMetrics['numOutputRows']
    assert [r.operationMetrics.get("numOutputRows") for r in history] == ["2", "2", "3"]
    assert [r.version for r in dt.history(1).collect()] == [2]
    ids = lambda frame: sorted(r.id for r in frame.collect())  # noqa: E731
    assert ids(spark.sql(f"SELECT * FROM {table} VERSION AS OF 0")) == [0, 1, 2]
    assert ids(spark.read.option("versionAsOf", 1).table(table)) == [0, 1, 2, 3, 4]
    when = dt.history().where("version = 1").selectExpr("date_format(timestamp, 'yyyy-MM-dd HH:mm:ss.SSS')").first()[0]
    assert ids(spark.sql(f"SELECT * FROM {table} TIMESTAMP AS OF '{when}'")) == [0, 1, 2, 3, 4]
    assert ids(spark.sql(f"SELECT * FROM {table}@v0")) == [0, 1, 2]  # Delta's short form
    stamp = when.replace("-", "").replace(" ", "").replace(":", "").replace(".", "")
    assert ids(spark.sql(f"SELECT * FROM {table}@{stamp} WHERE id < 4")) == [0, 1, 2, 3]
    assert ids(spark.table(table)) == [10, 11]
    detail = dt.detail().first()
    assert (detail.format, detail.name, detail.partitionColumns) == ("delta", table, [])
    assert detail.numFiles >= 1 and detail.sizeInBytes > 0 and detail.location.endswith(table.split(".")[-1])
    assert spark.sql(f"DESCRIBE DETAIL {table}").first().id == detail.id
    from pyspark.errors import AnalysisException

    with pytest.raises(AnalysisException, match=r"(?s)DELTA_VERSION_NOT_FOUND.*version 7.*emulation.md#time-travel"):
        spark.sql(f"SELECT * FROM {table} VERSION AS OF 7").collect()


def test_path_tables_partitions_and_restore(spark: Any, tmp_path: Any, notices: list[str]) -> None:
    from delta.tables import DeltaTable

    path = f"/Volumes/workspace/{SCHEMA}/files/events_{uuid.uuid4().hex[:6]}"
    assert not DeltaTable.isDeltaTable(spark, path)
    frame = spark.createDataFrame([(1, "2019-10-01"), (2, "2019-10-02")], "id INT, day STRING")
    frame.write.format("delta").partitionBy("day").save(path)
    assert DeltaTable.isDeltaTable(spark, path)
    dt = DeltaTable.forPath(spark, path)
    new = spark.createDataFrame([(2, "2019-10-02"), (3, "2019-10-03")], "id INT, day STRING")
    dt.alias("t").merge(new.alias("s"), "t.id = s.id").whenNotMatchedInsertAll().execute()
    assert sorted(r.id for r in spark.read.format("delta").load(path).collect()) == [1, 2, 3]
    assert dt.detail().first().partitionColumns == ["day"]
    from checkers.runtime.volumes import local_path

    assert sorted(p.name for p in local_path(path).iterdir() if p.is_dir()) == [
        "day=2019-10-01", "day=2019-10-02", "day=2019-10-03"]
    old = spark.read.format("delta").option("versionAsOf", 0).load(path)
    assert sorted((r.id, r.day) for r in old.collect()) == [(1, "2019-10-01"), (2, "2019-10-02")]
    dt.restoreToVersion(0)
    assert sorted(r.id for r in spark.read.format("delta").load(path).collect()) == [1, 2]
    assert [r.operation for r in dt.history().collect()] == ["RESTORE", "MERGE", "WRITE"]


def test_a_table_built_at_a_path_restored_in_sql(spark: Any, notices: list[str]) -> None:
    from delta.tables import DeltaTable

    path = f"/Volumes/workspace/{SCHEMA}/files/built_{uuid.uuid4().hex[:6]}"
    built = DeltaTable.create(spark).location(path).addColumn("id", "INT").addColumn("name", "STRING").execute()
    assert built.toDF().count() == 0 and DeltaTable.isDeltaTable(spark, path)
    spark.createDataFrame([(1, "a")], "id INT, name STRING").write.format("delta").mode("append").save(path)
    spark.sql(f"RESTORE TABLE delta.`{path}` TO VERSION AS OF 0")
    assert spark.read.format("delta").load(path).count() == 0
    ops = [r.operation for r in spark.sql(f"DESCRIBE HISTORY '{path}'").collect()]
    assert ops == ["RESTORE", "WRITE", "CREATE TABLE"]
    csv = f"/Volumes/workspace/{SCHEMA}/files/plain_{uuid.uuid4().hex[:6]}"
    spark.range(2).write.csv(csv)
    assert not DeltaTable.isDeltaTable(spark, csv)
    assert DELTA_NOTICE in notices


def test_a_dropped_table_starts_a_new_history(spark: Any, table: str) -> None:
    spark.range(2).write.saveAsTable(table)
    spark.range(2).write.mode("append").saveAsTable(table)
    spark.sql(f"DROP TABLE {table}")
    spark.range(1).write.mode("overwrite").saveAsTable(table)  # a replace would keep a history: this is new
    history = spark.sql(f"DESCRIBE HISTORY {table}").collect()
    assert [(r.version, r.operation) for r in history] == [(0, "CREATE TABLE AS SELECT")]


# --- a query that overwrites the table it reads ---------------------------------------------------------------

def test_overwriting_the_table_a_query_reads_works_in_every_api(spark: Any, table: str) -> None:
    spark.range(10).write.saveAsTable(table)
    spark.table(table).filter("id >= 5").write.saveAsTable(table, mode="overwrite")
    assert rows(spark, table) == [(i,) for i in range(5, 10)]
    spark.table(table).filter("id < 8").write.insertInto(table, overwrite=True)
    assert rows(spark, table) == [(5,), (6,), (7,)]
    spark.sql(f"INSERT OVERWRITE TABLE {table} SELECT id * 2 FROM {table}")
    assert rows(spark, table) == [(10,), (12,), (14,)]
    spark.sql(f"CREATE OR REPLACE TABLE {table} AS SELECT id + 1 AS id FROM {table} WHERE id > 10")
    assert rows(spark, table) == [(13,), (15,)]
    spark.table(table).writeTo(table).createOrReplace()
    assert rows(spark, table) == [(13,), (15,)]
    assert not staging_tables(spark)


def test_a_failing_overwrite_loses_no_data(spark: Any, table: str) -> None:
    from pyspark.errors import PySparkException

    spark.createDataFrame([("1",), ("2",)], "v STRING").write.saveAsTable(table)
    bad = spark.table(table).selectExpr("CAST(concat(v, 'x') AS INT) AS v")  # fails while it runs (ANSI)
    with pytest.raises(PySparkException, match="CAST_INVALID_INPUT"):
        bad.write.saveAsTable(table, mode="overwrite")
    assert rows(spark, table) == [("1",), ("2",)]
    with pytest.raises(PySparkException, match="CAST_INVALID_INPUT"):
        spark.sql(f"UPDATE {table} SET v = CAST(concat(v, 'x') AS INT)")
    assert rows(spark, table) == [("1",), ("2",)]
    assert not staging_tables(spark)


# --- SQL ------------------------------------------------------------------------------------------------------

def test_merge_update_delete_in_sql(spark: Any, table: str) -> None:
    spark.createDataFrame([(1, "a", 1), (2, "b", 2), (3, "c", 3)], "id INT, v STRING, n INT").write.saveAsTable(table)
    merged = spark.sql(f"""
        MERGE INTO {table} AS t
        USING (SELECT * FROM VALUES (1, 'x', 10), (4, 'd', 40) AS src(id, v, n)) s
        ON t.id = s.id
        WHEN MATCHED AND s.n > 5 THEN UPDATE SET t.v = s.v, n = s.n + :bump
        WHEN NOT MATCHED BY TARGET THEN INSERT (id, v) VALUES (s.id, concat(s.v, '!'))
        WHEN NOT MATCHED BY SOURCE AND t.id = 3 THEN DELETE""", {"bump": 1}).first()
    assert (merged.num_affected_rows, merged.num_updated_rows, merged.num_inserted_rows,
            merged.num_deleted_rows) == (3, 1, 1, 1)
    assert rows(spark, table) == [(1, "x", 11), (2, "b", 2), (4, "d!", None)]
    assert spark.sql(f"UPDATE {table} SET n = 0 WHERE n IS NULL").first().num_affected_rows == 1
    assert spark.sql(f"DELETE FROM {table} WHERE id = 2").first().num_affected_rows == 1
    assert rows(spark, table) == [(1, "x", 11), (4, "d!", 0)]
    unchanged = spark.sql(f"MERGE INTO {table} t USING {table} s ON t.id = s.id "
                          "WHEN MATCHED AND s.n < 0 THEN UPDATE SET *").first()
    assert unchanged.num_affected_rows == 0
    ops = [r.operation for r in spark.sql(f"DESCRIBE HISTORY {table} LIMIT 4").collect()]
    assert ops == ["DELETE", "UPDATE", "MERGE", "CREATE TABLE AS SELECT"]  # a MERGE that changed nothing: no version


def test_merge_from_values_named_by_the_source_alias(spark: Any, table: str) -> None:
    """`USING (VALUES ...) AS s(col, ...)`: the alias names the inline rows' columns, as in a SQL notebook's upsert."""
    spark.createDataFrame([("p1", 1.0), ("p3", 3.0)], "sku STRING, price DOUBLE").write.saveAsTable(table)
    merged = spark.sql(f"""
        MERGE INTO {table} t
        USING (VALUES ('p1', 1.5), ('p2', 2.0)) AS s(sku, price)
        ON t.sku = s.sku
        WHEN MATCHED THEN UPDATE SET price = s.price
        WHEN NOT MATCHED THEN INSERT (sku, price) VALUES (s.sku, s.price)""").first()
    assert (merged.num_updated_rows, merged.num_inserted_rows) == (1, 1)
    assert rows(spark, table) == [("p1", 1.5), ("p2", 2.0), ("p3", 3.0)]


def test_optimize_and_vacuum_do_nothing_and_say_so_once(spark: Any, table: str, notices: list[str]) -> None:
    from delta.tables import DeltaTable

    spark.range(3).write.saveAsTable(table)
    spark.sql(f"OPTIMIZE {table} ZORDER BY (id)").collect()
    DeltaTable.forName(spark, table).optimize().executeZOrderBy("id")
    assert spark.sql(f"VACUUM {table} RETAIN 168 HOURS").first().path.endswith(table.split(".")[-1])
    DeltaTable.forName(spark, table).vacuum()
    assert NOTICES["maintenance"] in notices
    assert [r.operation for r in spark.sql(f"DESCRIBE HISTORY {table}").collect()] == ["CREATE TABLE AS SELECT"]


def test_create_builders_and_not_a_delta_table(spark: Any, table: str) -> None:
    from delta.tables import DeltaTable
    from pyspark.errors import AnalysisException

    built = (DeltaTable.createIfNotExists(spark).tableName(table).addColumn("id", "INT")
             .addColumn("day", "DATE").partitionedBy("day").property("quality", "silver").execute())
    DeltaTable.createIfNotExists(spark).tableName(table).addColumn("id", "INT").execute()  # exists: nothing
    assert [f.name for f in built.toDF().schema.fields] == ["id", "day"]
    assert built.detail().first().partitionColumns == ["day"]
    assert [r.operation for r in built.history().collect()] == ["CREATE TABLE"]
    with pytest.raises(AnalysisException, match=r"DELTA_MISSING_DELTA_TABLE.*is not a Delta table") as info:
        DeltaTable.forName(spark, table + "_missing")
    assert info.value.getSqlState() == "42P01"
    spark.sql(f"CREATE TABLE {table}_csv (id INT) USING CSV")
    with pytest.raises(AnalysisException, match="DELTA_MISSING_DELTA_TABLE"):
        DeltaTable.forName(spark, f"{table}_csv")


# --- the delta module and Spark errors ------------------------------------------------------------------------

def test_star_import_gives_delta_names_and_a_real_delta_is_never_shadowed(tmp_path: Any) -> None:
    import importlib
    import sys

    uninstall_delta_module()
    try:
        assert install_delta_module()
        namespace: dict[str, Any] = {}
        exec("from delta.tables import *", namespace)  # noqa: S102 - the notebook's own line
        assert {"DeltaTable", "DeltaMergeBuilder", "DeltaTableBuilder"} <= set(namespace)
        uninstall_delta_module()
        (tmp_path / "delta").mkdir()
        (tmp_path / "delta" / "__init__.py").write_text("REAL = True\n")
        sys.path.insert(0, str(tmp_path))
        importlib.invalidate_caches()
        assert not install_delta_module()
        import delta

        assert delta.REAL
    finally:
        sys.modules.pop("delta", None)
        if str(tmp_path) in sys.path:
            sys.path.remove(str(tmp_path))
        importlib.invalidate_caches()
        uninstall_delta_module()
        assert install_delta_module()


def test_spark_errors_name_workspace_tables_without_jvm_frames(spark: Any, notices: list[str]) -> None:
    from pyspark.errors import AnalysisException

    with pytest.raises(AnalysisException) as info:
        spark.table(f"workspace.{SCHEMA}.no_such_table").collect()
    text = str(info.value)
    assert text.startswith("[TABLE_OR_VIEW_NOT_FOUND]") and "SQLSTATE: 42P01" in text
    assert f"`workspace`.`{SCHEMA}`.`no_such_table`" in text
    assert "spark_catalog" not in text and "JVM stacktrace" not in text and "\tat org.apache" not in text
    assert "org.apache.spark" in (info.value.getStackTrace() or "")  # kept for the log


def test_an_append_with_other_columns_evolves_the_schema_as_delta_does(spark: Any, table: str) -> None:
    """mergeSchema adds the new columns (old rows null); columns the rows lack are null; without mergeSchema a new
    column is Delta's DELTA_METADATA_MISMATCH, and the table is left as it was."""
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F

    spark.range(2).withColumn("a", F.lit("x")).write.format("delta").saveAsTable(table)
    spark.range(2, 3).withColumn("a", F.lit("y")).withColumn("b", F.lit(7)).write.format("delta") \
        .mode("append").option("mergeSchema", "true").saveAsTable(table)
    spark.range(3, 4).write.mode("append").saveAsTable(table)
    assert rows(spark, table, "id", "a", "b") == [(0, "x", None), (1, "x", None), (2, "y", 7), (3, None, None)]
    with pytest.raises(AnalysisException, match=r"DELTA_METADATA_MISMATCH.*mergeSchema"):
        spark.range(1).withColumn("c", F.lit(1)).write.mode("append").saveAsTable(table)
    assert spark.table(table).columns == ["id", "a", "b"] and spark.table(table).count() == 4
    assert [r.operation for r in spark.sql(f"DESCRIBE HISTORY {table}").collect()] == [
        "WRITE", "WRITE", "CREATE TABLE AS SELECT"]


def test_replace_where_replaces_only_the_matching_rows(spark: Any, table: str) -> None:
    """Plain Spark ignores replaceWhere and overwrites everything; Delta replaces the matching rows only, checks that
    every new row matches, and logs one WRITE with the predicate. SQL's INSERT INTO ... REPLACE WHERE too."""
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F

    spark.range(6).withColumn("d", F.col("id") % 3).write.saveAsTable(table)
    spark.range(100, 102).withColumn("d", F.lit(1)).write.mode("overwrite").option("replaceWhere", "d = 1") \
        .saveAsTable(table)
    assert rows(spark, table) == [(0, 0), (2, 2), (3, 0), (5, 2), (100, 1), (101, 1)]
    spark.sql(f"INSERT INTO {table} REPLACE WHERE (d = 2) SELECT 200 AS id, 2 AS d")
    assert rows(spark, table) == [(0, 0), (3, 0), (100, 1), (101, 1), (200, 2)]
    with pytest.raises(AnalysisException, match="DELTA_REPLACE_WHERE_MISMATCH"):
        spark.range(1).withColumn("d", F.lit(0)).write.mode("overwrite").option("replaceWhere", "d = 1") \
            .saveAsTable(table)
    latest = spark.sql(f"DESCRIBE HISTORY {table}").first()
    assert (latest.operation, latest.operationParameters["predicate"]) == ("WRITE", '["(d = 2)"]')
    path = f"/Volumes/workspace/{SCHEMA}/files/replace_{uuid.uuid4().hex[:6]}"
    spark.range(4).withColumn("d", F.col("id") % 2).write.format("delta").save(path)
    spark.range(9, 10).withColumn("d", F.lit(0)).write.format("delta").mode("overwrite") \
        .option("replaceWhere", "d = 0").save(path)
    assert sorted(tuple(r) for r in spark.read.format("delta").load(path).collect()) == [(1, 1), (3, 1), (9, 0)]
