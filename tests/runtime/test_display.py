"""display() renders tables the way Databricks does: nulls as `null`, a bounded number of rows."""

from __future__ import annotations

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
