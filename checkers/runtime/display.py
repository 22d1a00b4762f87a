"""``display`` and ``displayHTML``: Databricks' table rendering, as HTML plus a plain-text fallback."""

from __future__ import annotations

import html
from typing import Any


def _max_rows() -> int:
    """Rows rendered per ``display`` (``DAY07_DISPLAY_ROWS``); Databricks shows more, but saved notebooks stay small."""
    from checkers.config import settings

    return settings().display_rows


def _is_spark_dataframe(obj: Any) -> bool:
    module = type(obj).__module__ or ""
    return module.startswith("pyspark.") and hasattr(obj, "toPandas") and hasattr(obj, "limit")


def _spark_rows(df: Any) -> Any:
    """The rows as pandas, whole numbers kept whole: through pandas alone an integer column with a NULL becomes
    float64 (``7.0``), and an id past 2**53 loses its last digits, which Databricks never shows."""
    try:
        table = df.toArrow()
    except Exception:  # noqa: BLE001 - PySpark's own Arrow cast refuses some nested nulls: pandas as before
        return df.toPandas()
    frame = table.to_pandas(integer_object_nulls=True, date_as_object=True)
    for column in frame.columns[[hasattr(t, "tz") and t.tz is not None for t in frame.dtypes]]:
        frame[column] = frame[column].dt.tz_convert("UTC").dt.tz_localize(None)  # as toPandas shows them (UTC)
    return frame


def _records(obj: Any) -> bool:
    """A non-empty list of named tuples of one kind: ``dbutils.fs.ls(path)``'s ``FileInfo`` entries, which
    Databricks' ``display`` shows as a table (path, name, size, modificationTime)."""
    if not isinstance(obj, list) or not obj:
        return False
    fields = getattr(obj[0], "_fields", None)
    return bool(fields) and all(isinstance(r, tuple) and getattr(r, "_fields", None) == fields for r in obj)


def table_bundle(obj: Any, *, max_rows: int | None = None) -> dict[str, str] | None:
    """MIME bundle for a Spark or pandas DataFrame, or None when ``obj`` is not a table."""
    limit = max_rows or _max_rows()
    if _is_spark_dataframe(obj):
        frame = _spark_rows(obj.limit(limit + 1))
    elif type(obj).__name__ == "DataFrame" and type(obj).__module__.startswith("pandas"):
        frame = obj
    elif _records(obj):
        import pandas as pd

        frame = pd.DataFrame([tuple(r) for r in obj], columns=list(obj[0]._fields))
    else:
        return None
    truncated = len(frame) > limit
    frame = frame.head(limit)
    # Databricks shows SQL NULL as `null`; pandas would print None for strings and NaN/NaT for the rest.
    frame = frame.astype(object).where(frame.notna(), "null")
    note = f"Showing the first {limit} rows." if truncated else f"{len(frame)} row{'s' if len(frame) != 1 else ''}"
    table_html = frame.to_html(index=False, na_rep="null", classes="day07-table", border=0, max_rows=limit)
    return {
        "text/html": f'<div class="day07-display">{table_html}<p class="day07-note">{html.escape(note)}</p></div>',
        "text/plain": f"{frame.to_string(index=False, na_rep='null', max_rows=limit)}\n{note}",
    }


def display(obj: Any = None, *args: Any, **kwargs: Any) -> None:
    """Render a DataFrame as a table; anything else the way IPython would."""
    from IPython.display import display as ipy_display

    bundle = table_bundle(obj)
    if bundle is not None:
        ipy_display(bundle, raw=True)
    elif obj is not None:
        ipy_display(obj, *args, **kwargs)


def displayHTML(html_text: str) -> None:  # noqa: N802 - Databricks' name
    from IPython.display import HTML
    from IPython.display import display as ipy_display

    ipy_display(HTML(str(html_text)))
