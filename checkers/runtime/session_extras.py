"""What the Databricks runtime adds to PySpark's client, which plain Spark lacks: ``df.display()``, and
``spark.sql.shuffle.partitions`` set to ``auto``.

Both are common in notebooks written on Databricks. Without them, ``df.display()`` fails with
"'Column' object is not callable" (Spark Connect reads ``df.display`` as a column named ``display``), and
``spark.conf.set("spark.sql.shuffle.partitions", "auto")`` with ``INVALID_CONF_VALUE``.
"""

from __future__ import annotations

from typing import Any

from checkers.runtime.client_patches import patch

SHUFFLE_PARTITIONS = "spark.sql.shuffle.partitions"
AUTO = "auto"


def install() -> None:
    """Add ``DataFrame.display`` and let ``shuffle.partitions`` be ``auto`` (once each)."""
    from pyspark.sql.connect.conf import RuntimeConf
    from pyspark.sql.connect.dataframe import DataFrame

    if "display" not in DataFrame.__dict__:
        DataFrame.display = _display  # type: ignore[attr-defined]
    patch(RuntimeConf, "set", _wrap_conf_set)


def _display(self: Any, *args: Any, **kwargs: Any) -> None:
    """``df.display()``: the same as ``display(df)``, as on Databricks."""
    from checkers.runtime.display import display

    display(self, *args, **kwargs)


def _wrap_conf_set(original: Any) -> Any:
    def conf_set(self: Any, key: str, value: Any) -> None:
        # Databricks lets adaptive query execution pick the number (its "auto-optimized shuffle"). Spark 4 does the
        # same by default (adaptive coalescing), so the value Spark already has stays.
        if key == SHUFFLE_PARTITIONS and isinstance(value, str) and value.strip().lower() == AUTO:
            return None
        return original(self, key, value)

    return conf_set
