"""Raw e-commerce events: the contract's columns, the generator, and the sample the kit ships.

Importing this package is cheap (no numpy); the generator lives in :mod:`checkers.data.generate`.
The shipped sample is exactly what the generator writes for the ``SAMPLE_*`` arguments below
(a test keeps it so); regenerate it with::

    day07 data generate --rows 15000 --seed 20191001 --start 2019-10-01 --days 7 \\
        --out checkers/data/sample/events_sample.csv

May import only ``checkers.errors``: the grader, the runtime and the CLI all stand on it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from checkers.errors import DataError

RAW_COLUMNS = ("event_time", "event_type", "product_id", "category_id", "category_code", "brand", "price",
               "user_id", "user_session")
"""The raw CSV's columns, in the contract's order."""
EVENT_TYPES = ("view", "cart", "remove_from_cart", "purchase")
"""The event types silver keeps (contract rule 3)."""

SAMPLE_SEED = 20191001
"""Seed of the shipped sample; the grader always uses another one."""
SAMPLE_ROWS = 15_000
"""Rows in the shipped sample."""
SAMPLE_START = date(2019, 10, 1)
"""First day of the shipped sample."""
SAMPLE_DAYS = 7
"""Days the shipped sample spans."""
SAMPLE_FILE_NAME = "events_sample.csv"
NOVEMBER_SEED = 20191101
"""Seed of the November sample: the real data set's second file, which many notebooks read beside October's."""
NOVEMBER_START = date(2019, 11, 1)
"""First day of the November sample (it has the shipped sample's rows and days)."""


def sample_path() -> Path:
    """The shipped sample CSV (package data under ``checkers/data/sample/``)."""
    path = Path(__file__).resolve().parent / "sample" / SAMPLE_FILE_NAME
    if not path.is_file():
        raise DataError(f"The kit's sample data is missing: {path} does not exist.",
                        hint="Reinstall the kit, or write your own file with `day07 data generate --out FILE`.")
    return path


__all__ = ["EVENT_TYPES", "NOVEMBER_SEED", "NOVEMBER_START", "RAW_COLUMNS", "SAMPLE_DAYS", "SAMPLE_FILE_NAME",
           "SAMPLE_ROWS", "SAMPLE_SEED", "SAMPLE_START", "sample_path"]
