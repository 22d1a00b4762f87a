"""``information_schema`` views, as notebooks query them to check their own tables."""

from __future__ import annotations

from typing import Any

import pytest

from checkers.runtime.catalog_names import UnsupportedCatalogError
from checkers.runtime.information_schema import references
from checkers.runtime.sql_tokens import join_tokens


@pytest.mark.parametrize(("sql", "views"), [
    ("SELECT * FROM information_schema.tables", ["tables"]),
    ("SELECT * FROM workspace.information_schema.columns c JOIN `information_schema`.`tables` t",
     ["columns", "tables"]),
    ("SELECT * FROM system.information_schema.schemata", ["schemata"]),
    ("SELECT 'information_schema.tables' AS s FROM x", []),  # a string
    ("SELECT * FROM information_schema.routines", []),  # a view the kit does not provide: Spark's own error
])
def test_references_are_found_outside_strings(sql: str, views: list[str]) -> None:
    tokens, found = references(sql)
    assert [view for _, _, view in found] == views
    assert join_tokens(tokens) == sql


def test_a_databricks_catalog_other_than_system_is_still_refused() -> None:
    with pytest.raises(UnsupportedCatalogError):
        references("SELECT * FROM samples.information_schema.tables")


@pytest.mark.spark
def test_the_views_list_the_local_catalog(spark: Any) -> None:
    from checkers.runtime.information_schema import substitute

    spark.sql("CREATE SCHEMA IF NOT EXISTS info_schema_test")
    spark.sql("DROP TABLE IF EXISTS info_schema_test.events")
    spark.sql("CREATE TABLE info_schema_test.events (id BIGINT, kind STRING) USING parquet")
    spark.sql("CREATE OR REPLACE VIEW info_schema_test.kinds AS SELECT DISTINCT kind FROM info_schema_test.events")
    try:
        tables = spark.sql(substitute(spark, "SELECT table_name, table_type FROM workspace.information_schema.tables "
                                             "WHERE table_schema = 'info_schema_test' ORDER BY table_name")).collect()
        assert [tuple(r) for r in tables] == [("events", "MANAGED"), ("kinds", "VIEW")]
        columns = spark.sql(substitute(spark, "SELECT column_name, data_type, ordinal_position FROM "
                                              "information_schema.columns WHERE table_name = 'events' AND "
                                              "table_schema = 'info_schema_test'")).collect()
        assert [tuple(r) for r in columns] == [("id", "BIGINT", 0), ("kind", "STRING", 1)]
        schemata = spark.sql(substitute(spark, "SELECT catalog_name FROM information_schema.schemata WHERE "
                                               "schema_name = 'info_schema_test'")).collect()
        assert [tuple(r) for r in schemata] == [("workspace",)]
    finally:
        spark.sql("DROP SCHEMA IF EXISTS info_schema_test CASCADE")
