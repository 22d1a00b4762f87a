"""Databricks notebooks run locally unchanged: names, Delta, volumes, and tables that outlive the Spark server."""

from __future__ import annotations

import csv
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from checkers.runtime.catalog_names import (
    DELTA_NOTICE,
    NotEmulatedError,
    UnsupportedCatalogError,
    other_catalog_notice,
    rewrite_name,
    rewrite_statement,
    set_schema_aliases,
)
from checkers.runtime.streaming import AUTO_LOADER_NOTICE
from tests.helpers.kernels import wait_for_pool


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DAY07_HOME", str(tmp_path))
    return tmp_path


# --- rewriting, without Spark ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT event_type, count(*) FROM workspace.ecommerce.bronze_events GROUP BY event_type",
     "SELECT event_type, count(*) FROM spark_catalog.ecommerce.bronze_events GROUP BY event_type"),
    ("SELECT * FROM `workspace`.`my schema`.t JOIN Workspace.s.u ON t.id = u.id",
     "SELECT * FROM spark_catalog.`my schema`.t JOIN spark_catalog.s.u ON t.id = u.id"),
    ("CREATE SCHEMA IF NOT EXISTS workspace.ecommerce", "CREATE SCHEMA IF NOT EXISTS spark_catalog.ecommerce"),
    ("USE workspace.ecommerce", "USE spark_catalog.ecommerce"),
    ("SHOW TABLES IN workspace.ecommerce", "SHOW TABLES IN spark_catalog.ecommerce"),
    ("SHOW SCHEMAS IN workspace", "SHOW SCHEMAS IN spark_catalog"),
    ("USE CATALOG workspace", "SET CATALOG 'spark_catalog'"),
    ("use catalog `workspace`", "SET CATALOG 'spark_catalog'"),
    ("SELECT * FROM ecommerce.t WHERE workspace.x = 1", "SELECT * FROM ecommerce.t WHERE workspace.x = 1"),
    ("CREATE TABLE workspace.s.t (id INT) USING DELTA", "CREATE TABLE spark_catalog.s.t (id INT) USING parquet"),
])
def test_unity_catalog_names_become_spark_catalog_names(sql: str, expected: str) -> None:
    assert rewrite_statement(sql).sql == expected


def test_strings_and_comments_are_never_renamed() -> None:
    sql = ("SELECT 'workspace.a.b' AS s, \"workspace.c.d\" AS t -- workspace.e.f\n"
           "/* workspace.g.h /* nested */ still comment workspace.i.j */ FROM workspace.a.b")
    out = rewrite_statement(sql).sql
    assert out == sql.replace("FROM workspace.a.b", "FROM spark_catalog.a.b")


def test_create_or_replace_table_drops_then_creates() -> None:
    plan = rewrite_statement("CREATE OR REPLACE TABLE workspace.s.t USING DELTA AS SELECT 1 AS id")
    assert plan.before == ["DROP TABLE IF EXISTS spark_catalog.s.t"]
    assert plan.sql == "CREATE TABLE spark_catalog.s.t USING parquet AS SELECT 1 AS id"
    assert plan.delta


def test_volume_paths_in_sql_become_local_only_when_asked(home: Path) -> None:
    sql = "SELECT * FROM csv.`/Volumes/workspace/s/v/a.csv` UNION ALL SELECT * FROM delta.`dbfs:/tmp/t`"
    assert rewrite_statement(sql).sql == sql.replace("delta.", "parquet.")
    local = rewrite_statement(sql, translate_paths=True).sql
    assert local == (f"SELECT * FROM csv.`{home}/volumes/workspace/s/v/a.csv` UNION ALL "
                     f"SELECT * FROM parquet.`{home}/dbfs/tmp/t`")
    located = rewrite_statement("CREATE TABLE t LOCATION '/Volumes/workspace/s/v/t' AS SELECT '/Volumes/x/y' AS p",
                                translate_paths=True).sql
    assert located == (f"CREATE TABLE t LOCATION '{home}/volumes/workspace/s/v/t' AS "
                       f"SELECT '{home}/volumes/x/y' AS p")


@pytest.mark.parametrize(("sql", "action"), [
    ("CREATE VOLUME IF NOT EXISTS workspace.ecommerce.raw", ("create_volume", "spark_catalog.ecommerce.raw", "1")),
    ("DROP VOLUME workspace.ecommerce.raw", ("drop_volume", "spark_catalog.ecommerce.raw", "")),
    ("OPTIMIZE workspace.s.t ZORDER BY (id)", ("noop",)),
    ("CREATE CATALOG IF NOT EXISTS workspace", ("noop",)),
])
def test_statements_handled_by_the_kit(sql: str, action: tuple[str, ...]) -> None:
    plan = rewrite_statement(sql)
    assert plan.sql is None and plan.action == action


@pytest.mark.parametrize(("sql", "local"), [
    ("SELECT * FROM main.default.t", "SELECT * FROM spark_catalog.default.t"),
    ("INSERT INTO hive_metastore.default.t VALUES (1)", "INSERT INTO spark_catalog.default.t VALUES (1)"),
    ("CREATE SCHEMA IF NOT EXISTS main.day07", "CREATE SCHEMA IF NOT EXISTS spark_catalog.day07"),
    ("USE CATALOG hive_metastore", "SET CATALOG 'spark_catalog'"),
])
def test_a_workspaces_usual_default_catalogs_are_the_local_one(sql: str, local: str) -> None:
    """A notebook written on a Unity Catalog workspace (`main`) or an older one (`hive_metastore`) runs as it is."""
    assert rewrite_statement(sql).sql == local


@pytest.mark.parametrize(("sql", "catalog"), [
    ("SELECT * FROM samples.nyctaxi.trips", "samples"),
    ("USE CATALOG samples", "samples"),
    ("SELECT * FROM `system`.information_schema.tables", "system"),
    ("CREATE SCHEMA IF NOT EXISTS system.bronze", "system"),
])
def test_databricks_own_catalogs_are_a_clear_error(sql: str, catalog: str) -> None:
    with pytest.raises(UnsupportedCatalogError, match=f"Catalog '{catalog}' is not available locally") as info:
        rewrite_statement(sql)
    assert "/Volumes" in str(info.value)


@pytest.mark.parametrize(("sql", "local"), [
    ("INSERT INTO dev.default.t VALUES (1)", "INSERT INTO spark_catalog.default.t VALUES (1)"),
    ("CREATE SCHEMA IF NOT EXISTS dev.bronze", "CREATE SCHEMA IF NOT EXISTS spark_catalog.bronze"),
    ("USE CATALOG `my-catalog`", "SET CATALOG 'spark_catalog'"),
    ("SHOW SCHEMAS IN dev", "SHOW SCHEMAS IN spark_catalog"),
    ("SELECT s.price.amount FROM dev.b.t AS s", "SELECT s.price.amount FROM spark_catalog.b.t AS s"),
    ("CREATE CATALOG IF NOT EXISTS dev", None),
    ("DROP CATALOG IF EXISTS dev CASCADE", None),
])
def test_a_learners_own_catalog_is_the_local_catalog_and_says_so_once_per_name(sql: str, local: str | None) -> None:
    from checkers.runtime import catalog_names

    shown: list[str] = []
    catalog_names.NOTICE[:] = [shown.append]
    try:
        assert rewrite_statement(sql).sql == local
    finally:
        catalog_names.NOTICE.clear()
    assert shown and all("is the one local catalog here" in text for text in shown)
    assert rewrite_name("dev.default.t") == "spark_catalog.default.t"


@pytest.mark.parametrize(("sql", "before"), [
    ("GRANT SELECT ON TABLE dev.day07.gold TO `account users`", ["DESCRIBE TABLE spark_catalog.day07.gold"]),
    ("grant all privileges on day07.gold to analysts", ["DESCRIBE TABLE day07.gold"]),
    ("REVOKE MODIFY ON VIEW v FROM `a@b.c`", ["DESCRIBE TABLE v"]),
    ("GRANT USE SCHEMA, CREATE TABLE ON SCHEMA workspace.day07 TO x", ["DESCRIBE SCHEMA spark_catalog.day07"]),
    ("GRANT USE CATALOG ON CATALOG dev TO x", []),
    ("GRANT READ VOLUME ON VOLUME workspace.day07.raw TO x", []),
    ("ALTER TABLE day07.gold SET OWNER TO `someone@example.com`", ["DESCRIBE TABLE day07.gold"]),
    ("ALTER SCHEMA day07 OWNER TO x", ["DESCRIBE SCHEMA day07"]),
    ("ALTER TABLE t SET TAGS ('layer' = 'gold')", ["DESCRIBE TABLE t"]),
    ("ALTER TABLE t ALTER COLUMN price SET TAGS ('pii' = 'no')", ["DESCRIBE TABLE t"]),
    ("ALTER TABLE t SET ROW FILTER f ON (region)", ["DESCRIBE TABLE t"]),
    ("ALTER TABLE t ALTER COLUMN email SET MASK m", ["DESCRIBE TABLE t"]),
    ("SET TAG ON TABLE t layer = gold", ["DESCRIBE TABLE t"]),
    ("COMMENT ON CATALOG dev IS 'x'", []),
])
def test_governance_statements_only_check_that_their_object_exists(sql: str, before: list[str]) -> None:
    plan = rewrite_statement(sql)
    assert (plan.sql, plan.action, plan.before) == (None, ("noop",), before)


@pytest.mark.parametrize(("sql", "action", "local"), [
    ("SHOW VOLUMES IN dev.bronze", ("show_volumes", "dev.bronze"), None),
    ("DESCRIBE VOLUME workspace.s.landing", ("describe_volume", "workspace.s.landing"), None),
    ("LIST '/Volumes/workspace/s/v' LIMIT 10", ("list", "/Volumes/workspace/s/v", "10"), None),
    ("CREATE TABLE t (a INT) CLUSTER BY AUTO", None, "CREATE TABLE t (a INT) "),
    ("ALTER TABLE t CLUSTER BY NONE", ("noop",), None),
    ("SHOW CATALOGS", ("show_catalogs",), None),
    ("ALTER TABLE t CLUSTER BY (a)", None, "ALTER TABLE t CLUSTER BY (a)"),
])
def test_volume_statements_and_automatic_clustering_are_planned_here(sql: str, action: tuple[str, ...] | None,
                                                                     local: str | None) -> None:
    plan = rewrite_statement(sql)
    assert (plan.action, plan.sql) == (action, local)


def test_show_grants_lists_none_and_ordinary_alters_are_left_to_spark() -> None:
    assert rewrite_statement("SHOW GRANTS `x` ON TABLE t").action == ("show_grants",)
    assert rewrite_statement("ALTER TABLE t SET TBLPROPERTIES ('owner' = 'me')").sql is not None
    assert rewrite_statement("ALTER TABLE owner RENAME TO tags").sql is not None


def test_delta_only_commands_say_so() -> None:
    for sql in ("DESCRIBE HISTORY workspace.s.t", "DESCRIBE DETAIL t", "RESTORE TABLE t TO VERSION AS OF 1"):
        with pytest.raises(NotEmulatedError, match="Delta"):
            rewrite_statement(sql)
    assert rewrite_statement("DESCRIBE TABLE EXTENDED workspace.s.t").delta


@pytest.fixture()
def day07_stands_for_another_schema() -> Iterator[None]:
    set_schema_aliases({"Day07": "g_1_w"})
    yield
    set_schema_aliases({})


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT * FROM day07.silver_events s JOIN workspace.day07.bronze_events b ON s.k = b.k",
     "SELECT * FROM `g_1_w`.silver_events s JOIN spark_catalog.`g_1_w`.bronze_events b ON s.k = b.k"),
    ("CREATE SCHEMA IF NOT EXISTS workspace.day07", "CREATE SCHEMA IF NOT EXISTS spark_catalog.`g_1_w`"),
    ("USE day07", "USE `g_1_w`"),
    ("SHOW TABLES IN `day07`", "SHOW TABLES IN `g_1_w`"),
    ("INSERT OVERWRITE day07.t SELECT day07.k FROM other.t", "INSERT OVERWRITE `g_1_w`.t SELECT day07.k FROM other.t"),
    ("SELECT 'day07.t' AS s FROM day07", "SELECT 'day07.t' AS s FROM day07"),  # a string, and a table named day07
    ("CREATE TABLE dev.day07.t AS SELECT 1", "CREATE TABLE spark_catalog.`g_1_w`.t AS SELECT 1"),  # an own catalog
])
def test_a_schema_alias_renames_the_schema_wherever_sql_names_one(day07_stands_for_another_schema: None, sql: str,
                                                                   expected: str) -> None:
    assert rewrite_statement(sql).sql == expected


def test_a_schema_alias_renames_api_names_and_nothing_without_one(day07_stands_for_another_schema: None) -> None:
    assert rewrite_name("day07.gold_daily_sales") == "`g_1_w`.gold_daily_sales"
    assert rewrite_name("workspace.day07.t") == "spark_catalog.`g_1_w`.t"
    assert rewrite_name("day07", kind="schema") == "`g_1_w`"
    assert rewrite_name("ecommerce.t") == "ecommerce.t" and rewrite_name("day07") == "day07"
    set_schema_aliases({})
    assert rewrite_name("day07.t") == "day07.t"
    assert rewrite_statement("CREATE OR REPLACE TABLE day07.t AS SELECT 1").before == ["DROP TABLE IF EXISTS day07.t"]


def test_dataframe_api_names() -> None:
    assert rewrite_name("workspace.ecommerce.bronze_events") == "spark_catalog.ecommerce.bronze_events"
    assert rewrite_name("`workspace`.ecommerce.`bronze events`") == "spark_catalog.ecommerce.`bronze events`"
    assert rewrite_name("ecommerce.bronze_events") == "ecommerce.bronze_events"
    assert rewrite_name("spark_catalog.s.t") == "spark_catalog.s.t"
    assert rewrite_name("workspace.ecommerce", kind="schema") == "spark_catalog.ecommerce"
    assert rewrite_name("workspace", kind="catalog") == "spark_catalog"
    assert rewrite_name("main.default.t") == rewrite_name("hive_metastore.default.t") == "spark_catalog.default.t"
    with pytest.raises(UnsupportedCatalogError, match="'samples'"):
        rewrite_name("samples.nyctaxi.trips")


# --- real notebooks in real kernels ------------------------------------------------------------------------

def _run(path: Path, endpoint: Any, out: Path) -> Any:
    from checkers.notebooks.execute import execute_notebook
    from checkers.spark.client import kernel_env

    return execute_notebook(path=path, output_path=out, env=kernel_env(endpoint))


@pytest.mark.spark
@pytest.mark.kernel
def test_pyspark_before_the_first_use_of_spark_works_as_on_databricks(files: Path, spark_endpoint: Any,
                                                                      tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """F.col, @udf and builder.getOrCreate() before `spark`, in a kernel started from scratch (as off Linux)."""
    from checkers.notebooks.execute import execute_notebook

    monkeypatch.setenv("DAY07_KERNEL_FORK", "0")
    result = execute_notebook(path=files / "notebooks" / "early_pyspark.py", output_path=tmp_path / "early.ipynb")
    assert result.ok, (result.message, result.failure and result.failure.traceback[-5:])


@pytest.mark.spark
@pytest.mark.kernel
def test_functions_in_python_workers_use_the_notebooks_module_and_the_kits_names(files: Path, spark_endpoint: Any,
                                                                                tmp_path: Path) -> None:
    """A UDF and applyInPandas call a module beside the notebook; foreachBatch writes workspace.* tables and MERGEs,
    and the notebook's own session reads what that worker wrote."""
    result = _run(files / "databricks" / "worker_functions.py", spark_endpoint, tmp_path / "workers.ipynb")
    assert result.ok, (result.message, result.failure and result.failure.traceback[-5:])


@pytest.mark.spark
@pytest.mark.kernel
def test_volume_statements_and_automatic_clustering_in_a_sql_notebook(files: Path, spark_endpoint: Any,
                                                                      tmp_path: Path) -> None:
    result = _run(files / "databricks" / "uc_statements.sql", spark_endpoint, tmp_path / "uc.ipynb")
    assert result.ok, (result.message, result.failure and result.failure.traceback[-5:])


@pytest.mark.spark
@pytest.mark.kernel
def test_the_issue_notebook_runs_unchanged_on_the_sample(files: Path, spark: Any, spark_endpoint: Any,
                                                         tmp_path: Path) -> None:
    from checkers.runtime.volumes import SAMPLE_FILE_NAME, SAMPLE_VOLUME, local_path

    spark.sql("DROP TABLE IF EXISTS spark_catalog.ecommerce.bronze_events")
    result = _run(files / "databricks" / "issue_bronze.py", spark_endpoint, tmp_path / "issue.ipynb")
    assert result.ok, (result.message, result.failure and result.failure.traceback[-5:])
    assert result.record.notices == [DELTA_NOTICE]
    with open(local_path(f"{SAMPLE_VOLUME}/{SAMPLE_FILE_NAME}"), newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert spark.table("spark_catalog.ecommerce.bronze_events").count() == len(rows)
    shown = nbformat.read(tmp_path / "issue.ipynb", as_version=4).cells[-1].outputs[0]["data"]["text/plain"]
    for event_type, count in Counter(r["event_type"] for r in rows).items():
        if re.fullmatch(r"[a-z_]+", event_type):
            assert re.search(rf"^\s*{event_type}\s+{count}\s*$", shown, re.M), (event_type, count, shown)


@pytest.mark.spark
@pytest.mark.kernel
def test_files_volumes_delta_and_names_in_a_source_notebook(files: Path, spark: Any, spark_endpoint: Any,
                                                            tmp_path: Path) -> None:
    result = _run(files / "databricks" / "fs_volumes_delta.py", spark_endpoint, tmp_path / "fs.ipynb")
    assert result.ok, (result.message, result.failure and result.failure.traceback[-5:])
    assert result.record.notices == [DELTA_NOTICE, AUTO_LOADER_NOTICE, other_catalog_notice("fidelity_dev")]
    assert not Path("/Volumes/workspace/fidelity_files").exists()  # the stream's checkpoint went to the kit home
    from checkers.runtime.volumes import local_path

    assert (local_path("/Volumes/workspace/fidelity_files/landing/in/notes.txt")).read_text() == \
        "first line\nsecond line"
    provider = [r.data_type for r in spark.sql("DESCRIBE TABLE EXTENDED spark_catalog.fidelity_files.events")
                .collect() if r.col_name == "Provider"]
    assert provider == ["parquet"]


@pytest.mark.spark
@pytest.mark.kernel
def test_another_catalog_fails_the_cell_with_a_clear_error(files: Path, spark_endpoint: Any,
                                                          tmp_path: Path) -> None:
    """The failing ``%sql`` sits in a notebook pulled in with ``%run``: the error says where."""
    result = _run(files / "databricks" / "other_catalog.py", spark_endpoint, tmp_path / "other.ipynb")
    assert result.status == "failed" and result.failure is not None
    assert result.failure.ename == "UnsupportedCatalogError"
    assert "Catalog 'samples' is not available locally" in result.failure.evalue
    shown = "\n".join(result.failure.traceback)
    assert "(in uses_samples.py, cell 2, run by %run ./helpers/uses_samples)" in shown
    # Shown like a Spark error: the notebook's own code and the message with its hint, not the kit's frames.
    assert "Read the kit's data instead" in shown
    assert "catalog_names.py" not in shown and "readers_writers.py" not in shown, shown


@pytest.mark.spark
@pytest.mark.kernel
def test_tables_survive_a_spark_server_restart(files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its own kit home and server, so the shared test server keeps running.

    A kernel the pool connected to the first server waits across the restart (same port, same token): the
    notebook it gets must reach the new server, not fail on the old session.
    """
    from checkers.notebooks.execute import prepare_kernels
    from checkers.spark.client import kernel_env
    from checkers.spark.server import ensure_server, start_server, stop_server

    monkeypatch.setenv("DAY07_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAY07_KERNEL_POOL", "1")
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    try:
        first = ensure_server()
        written = _run(files / "databricks" / "persist_write.py", first, tmp_path / "write.ipynb")
        assert written.ok, (written.message, written.failure and written.failure.traceback[-5:])
        prepare_kernels(env=kernel_env(first), kernels=1)
        wait_for_pool(kernel_env(first), 1)
        time.sleep(1.0)  # the pooled kernel connects in the background once ready
        assert stop_server()
        start_server(port=first.port)
        second = ensure_server()
        assert second.pid != first.pid and second.url == first.url
        read = _run(files / "databricks" / "persist_read.ipynb", second, tmp_path / "read.ipynb")
        assert read.ok, (read.message, read.failure and read.failure.traceback[-5:])
        assert read.kernel_ahead  # the kernel that waited across the restart
        assert read.exit_value == "7,11"
    finally:
        stop_server()

