"""``IDENTIFIER(...)`` and ``read_files(...)``: Databricks SQL that participants write, made plain for local Spark.

The pure tests read the rewritten text; the Spark tests run the statements a SQL-first bronze notebook runs, through
the kernel's patches, and read the table back.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from checkers.runtime.sql_inline import ReadFilesError, inline_sql
from tests.helpers.client_patches import kernel_patches

CSV = "id,name,price\n1,a,2.5\n2,,10\n"


@pytest.mark.parametrize(("sql", "args", "expected"), [
    ("CREATE TABLE IDENTIFIER(:schema || '.bronze_events') AS SELECT 1", {"schema": "day07"},
     "CREATE TABLE day07.bronze_events AS SELECT 1"),
    ("SELECT * FROM IDENTIFIER('workspace.' || :s || '.t')", {"s": "g_1"}, "SELECT * FROM workspace.g_1.t"),
    ("USE SCHEMA identifier ( :s )", {"s": "my schema"}, "USE SCHEMA `my schema`"),
    ("SELECT * FROM IDENTIFIER('`a.b`.c')", None, "SELECT * FROM `a.b`.c"),
])
def test_identifier_clauses_of_constants_become_names(sql: str, args: Any, expected: str) -> None:
    assert inline_sql(sql, args) == expected


@pytest.mark.parametrize("sql", [
    "SELECT IDENTIFIER(some_function()) FROM t",  # not a constant: Spark explains
    "SELECT * FROM IDENTIFIER(:missing)",  # no value given
    "SELECT 'IDENTIFIER(:s)' AS text -- read_files('x')",  # inside a string and a comment
    "SELECT my.read_files('x')",  # another schema's function
])
def test_what_is_not_a_constant_call_is_left_alone(sql: str) -> None:
    assert inline_sql(sql, {"s": "x"}) == sql


def test_read_files_becomes_a_file_relation_with_its_options() -> None:
    sql = inline_sql("SELECT *, _metadata.file_path AS f FROM read_files(:p, format => 'csv', header => true, "
                     "`delimiter` => ';') AS r", {"p": "/data/events.csv"})
    assert sql == ("SELECT *, _metadata.file_path AS f FROM (SELECT *, CAST(NULL AS STRING) AS `_rescued_data` FROM "
                   "csv.`/data/events.csv` WITH ('header' = 'true', 'sep' = ';', 'inferSchema' = 'true')) AS r")


def test_read_files_takes_the_format_from_the_name_and_the_path_from_the_translation() -> None:
    sql = inline_sql("SELECT * FROM read_files('/Volumes/workspace/day07/raw/e.json')", None,
                     translate=lambda p: "/local" + p if p.startswith("/Volumes/") else None)
    assert sql == ("SELECT * FROM (SELECT *, CAST(NULL AS STRING) AS `_rescued_data` FROM "
                   "json.`/local/Volumes/workspace/day07/raw/e.json`)")


@pytest.mark.parametrize(("sql", "message"), [
    ("SELECT * FROM read_files('/data/folder')", "cannot tell the format"),
    ("SELECT * FROM read_files('/data/e.csv', format => 'excel')", "format 'excel' is not available"),
    ("SELECT * FROM read_files(concat('/data/', 'e.csv'))", "not a constant"),
    ("SELECT * FROM read_files(format => 'csv')", "needs the path"),
])
def test_a_read_files_call_that_cannot_run_says_why(sql: str, message: str) -> None:
    with pytest.raises(ReadFilesError, match=message):
        inline_sql(sql, None)


# ------------------------------------------------------------------------------------------------ on Spark

@pytest.fixture(scope="module")
def patched(spark: Any) -> Iterator[Any]:
    with kernel_patches(translate_paths=True, notice=lambda _text: None):
        yield spark


@pytest.fixture()
def schema(patched: Any) -> Iterator[str]:
    name = f"inline_{uuid.uuid4().hex[:8]}"
    patched.sql(f"CREATE SCHEMA {name}")
    yield name
    patched.sql(f"DROP SCHEMA {name} CASCADE")


@pytest.mark.spark
def test_a_sql_bronze_with_identifier_and_read_files_runs_and_reruns(patched: Any, schema: str,
                                                                     tmp_path: Path) -> None:
    source = tmp_path / "events.csv"
    source.write_text(CSV)
    statement = ("CREATE OR REPLACE TABLE IDENTIFIER('workspace.' || :schema || '.bronze') AS "
                 "SELECT *, current_timestamp() AS ingestion_ts, _metadata.file_path AS source_file "
                 "FROM read_files(:source_path, format => 'csv', header => true)")
    for _ in range(2):  # CREATE OR REPLACE: the second run replaces the first table
        patched.sql(statement, args={"schema": schema, "source_path": str(source)})
    table = patched.table(f"{schema}.bronze")
    assert table.columns == ["id", "name", "price", "_rescued_data", "ingestion_ts", "source_file"]
    assert dict(table.dtypes)["id"] == "int" and dict(table.dtypes)["price"] == "double"  # types inferred
    rows = sorted(table.select("id", "name", "price", "_rescued_data").collect())
    assert [tuple(r) for r in rows] == [(1, "a", 2.5, None), (2, None, 10.0, None)]
    assert {r.source_file for r in table.collect()} == {source.as_uri().replace("file:///", "file:/")}


@pytest.mark.spark
def test_read_files_with_strings_or_a_schema_reads_what_databricks_reads(patched: Any, tmp_path: Path) -> None:
    source = tmp_path / "events.csv"
    source.write_text(CSV)
    as_text = patched.sql("SELECT * FROM read_files(:p, format => 'csv', header => 'true', "
                          "inferColumnTypes => false)", args={"p": str(source)})
    assert as_text.dtypes == [("id", "string"), ("name", "string"), ("price", "string"), ("_rescued_data", "string")]
    typed = patched.sql(f"SELECT * FROM read_files('{source}', format => 'csv', header => true, "
                        "schema => 'key BIGINT, label STRING, amount DECIMAL(10,2)')")
    assert typed.dtypes == [("key", "bigint"), ("label", "string"), ("amount", "decimal(10,2)")]
    assert sorted(tuple(r) for r in typed.select("key", "label").collect()) == [(1, "a"), (2, None)]


def test_positional_markers_become_named_ones_so_identifier_is_written_out() -> None:
    from checkers.runtime.sql_inline import positional_as_named

    sql, args = positional_as_named("SELECT count(*) FROM IDENTIFIER(?) WHERE id > ?", ["workspace.s.t", 5])
    assert sql == "SELECT count(*) FROM IDENTIFIER(:__day07_p0) WHERE id > :__day07_p1"
    assert args == {"__day07_p0": "workspace.s.t", "__day07_p1": 5}
    assert inline_sql(sql, args) == "SELECT count(*) FROM workspace.s.t WHERE id > :__day07_p1"
    assert positional_as_named("SELECT ? + 1", [1]) == ("SELECT ? + 1", [1])  # no IDENTIFIER: as written
    assert positional_as_named("SELECT * FROM IDENTIFIER(?)", [1, 2]) == ("SELECT * FROM IDENTIFIER(?)", [1, 2])
