"""display() renders tables the way Databricks does: nulls as `null`, a bounded number of rows."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from checkers.runtime.display import table_bundle


def test_nulls_render_as_null_in_text_and_html() -> None:
    bundle = table_bundle(pd.DataFrame({"brand": ["acme", None], "price": [1.5, None]}))
    assert bundle is not None
    assert "None" not in bundle["text/plain"] and "NaN" not in bundle["text/plain"]
    assert bundle["text/plain"].splitlines()[2].split() == ["null", "null"]
    assert "<td>null</td>" in bundle["text/html"]


def test_rows_are_capped_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAY07_DISPLAY_ROWS", "3")
    bundle = table_bundle(pd.DataFrame({"n": range(10)}))
    assert bundle is not None
    assert "Showing the first 3 rows." in bundle["text/plain"]
    assert bundle["text/html"].count("<td>") == 3


def test_non_tables_are_left_to_ipython() -> None:
    assert table_bundle("just text") is None


@pytest.mark.spark
def test_spark_rows_keep_whole_numbers_whole_next_to_nulls(spark: Any) -> None:
    """Through pandas alone an integer column with a NULL turns float (7.0) and a 64-bit id loses digits."""
    df = spark.sql("SELECT * FROM VALUES (1234567890123456789L, 7, TIMESTAMP'2019-10-01 00:00:04'), "
                   "(NULL, NULL, NULL) AS t(id, n, ts)")
    text = table_bundle(df)["text/plain"]
    assert "1234567890123456789" in text and "7.0" not in text and " 7 " in text + " "
    assert "2019-10-01 00:00:04" in text and "+00:00" not in text  # UTC, shown as toPandas shows it
    nested = table_bundle(spark.sql("SELECT named_struct('x', 1) AS st UNION ALL SELECT NULL"))
    assert "{'x': 1}" in nested["text/plain"]  # a shape PySpark's own Arrow cast refuses still shows


def test_a_listing_from_dbutils_fs_ls_shows_as_a_table() -> None:
    """display(dbutils.fs.ls(path)) is a table with Databricks' columns, not the list's repr."""
    from checkers.runtime.fs import FileInfo

    entries = [FileInfo("dbfs:/Volumes/w/s/v/a.csv", "a.csv", 12, 1700000000000),
               FileInfo("dbfs:/Volumes/w/s/v/sub/", "sub/", 0, 0)]
    bundle = table_bundle(entries)
    assert bundle is not None
    assert bundle["text/plain"].splitlines()[0].split() == ["path", "name", "size", "modificationTime"]
    assert "<td>a.csv</td>" in bundle["text/html"] and "FileInfo(" not in bundle["text/plain"]
    assert table_bundle([]) is None and table_bundle([("a", 1)]) is None
