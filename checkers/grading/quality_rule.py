"""The data-quality gate of ``04_quality``: which bronze rows are bad, and when the task must fail.

One rule, used three times: by the grader (what the learner's task value and outcome must be on the grader's data),
by the lesson's feedback cells (copied into ``day07_checks``, so only the standard library and pyspark here), and
by the solution notebook's author, who writes the same rule in the notebook. docs/orchestration.md teaches it.

A bronze row is **bad** when one of the values silver cannot do without is missing: ``event_time``, ``event_type``,
``product_id``, ``user_id`` or ``user_session`` is null. The task sets the task value ``bad_rows`` and then fails
when the bad rows are more than ``max_bad_pct`` percent of all rows (or when there are no rows at all).
"""

from __future__ import annotations

import csv
import io
from typing import Any

QUALITY_STEM = "04_quality"
"""The data-quality notebook's stem."""
THRESHOLD = "max_bad_pct"
"""The job parameter (and widget) holding the highest share of bad rows, in percent, that still passes."""
DEFAULT_MAX_BAD_PCT = "5"
"""The widget's and the job parameter's default: the real file has far fewer bad rows."""
TASK_VALUE = "bad_rows"
"""The task value the quality task sets: how many bronze rows are bad."""
REQUIRED_COLUMNS = ("event_time", "event_type", "product_id", "user_id", "user_session")
"""A row missing one of these is bad (silver drops it)."""


def bad_share_pct(bad_rows: int, rows: int) -> float:
    """Bad rows as a percentage of all rows (100 when there are none: an empty load is never good)."""
    return 100.0 if rows <= 0 else 100.0 * bad_rows / rows


def gate_fails(bad_rows: int, rows: int, max_bad_pct: float) -> bool:
    """Whether the quality task must fail: no rows, or more than ``max_bad_pct`` percent of them bad."""
    return rows <= 0 or bad_share_pct(bad_rows, rows) > max_bad_pct


def verdict(bad_rows: int, rows: int, max_bad_pct: float) -> str:
    """The gate's decision in words, e.g. ``61 of 2,000 rows bad (3.05 %), above max_bad_pct 2.0: fail``."""
    if rows <= 0:
        return "no rows at all: fail"
    share = bad_share_pct(bad_rows, rows)
    side = "above" if share > max_bad_pct else "within"
    return (f"{bad_rows:,} of {rows:,} rows bad ({share:.2f} %), {side} {THRESHOLD} {max_bad_pct:g}: "
            f"{'fail' if share > max_bad_pct else 'pass'}")


def count_bad_rows(df: Any) -> tuple[int, int]:
    """(bad rows, all rows) of a Spark DataFrame of bronze rows, in one pass."""
    from pyspark.sql import functions as F

    missing = F.lit(False)
    for column in REQUIRED_COLUMNS:
        missing = missing | F.col(column).isNull()
    row = df.agg(F.sum(F.when(missing, 1).otherwise(0)).alias("bad"), F.count(F.lit(1)).alias("rows")).first()
    return int(row["bad"] or 0), int(row["rows"] or 0)


def count_bad_rows_csv(data: bytes) -> tuple[int, int]:
    """(bad rows, all rows) of a raw CSV file's bytes (header row first; an empty field is null, as Spark reads it)."""
    reader = csv.reader(io.StringIO(data.decode("utf-8")))
    header = next(reader, [])
    wanted = [header.index(c) for c in REQUIRED_COLUMNS if c in header]
    bad = rows = 0
    for record in reader:
        if not record:
            continue
        rows += 1
        if len(wanted) < len(REQUIRED_COLUMNS) or any(i >= len(record) or record[i] == "" for i in wanted):
            bad += 1
    return bad, rows
