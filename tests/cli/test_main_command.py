"""The README's main command, `day07 run`: the solution job end to end, then what each table holds."""

from __future__ import annotations

from typing import Any

import pytest

from checkers.cli import EXIT_OK, main

pytestmark = [pytest.mark.kernel, pytest.mark.spark]


def test_day07_run_runs_the_solution_job_and_lists_its_tables(spark_endpoint: Any, spark: Any,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--param", "schema=readme_main"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "SUCCESS" in out and "Tables in schema readme_main" in out
    for table in ("bronze_events", "silver_events", "gold_product_metrics", "gold_daily_sales"):
        assert table in out
    # the listed row counts are the real ones
    bronze_rows = spark.table("readme_main.bronze_events").count()
    assert f"{bronze_rows:,}" in out
