"""Gold graded on its own when silver failed: one mistake, marked once.

When ``02_silver`` stops with an error, the job never runs ``03_gold``, and every gold check would fail for a
mistake made in silver. So the grader writes the silver table it expects (from its own reading of the unseen
data) into a schema of its own, runs ``03_gold`` there with the job's values, and grades the gold tables it wrote.
Gold is then judged on the grader's silver (its basis is the raw data), never on the learner's broken one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from checkers.grading.checks import NotebookRun, TableSnapshot, snapshot_tables
from checkers.grading.runs import run_layers_directly

GOLD_TABLES = ("gold_product_metrics", "gold_daily_sales")
_SILVER_SCHEMA = ("event_time timestamp, event_type string, product_id bigint, category_id bigint, "
                  "category_code string, brand string, price double, user_id bigint, user_session string, "
                  "event_date date, price_tier string")


def wanted(runs: dict[str, NotebookRun], *, has_gold: bool) -> bool:
    """Silver ran and failed, so gold never ran (bronze had succeeded)."""
    bronze, silver, gold = runs.get("01_bronze"), runs.get("02_silver"), runs.get("03_gold")
    return (has_gold and bronze is not None and bronze.ok and silver is not None and silver.status != "not_run"
            and not silver.ok and (gold is None or gold.status == "not_run"))


def run_gold_alone(*, spark: Any, silver: Any, schema: str, submission: Any, unreadable: dict[str, str],
                   parameters: dict[str, str], runs: dict[str, NotebookRun], out_dir: Path, env: dict[str, str],
                   cell_timeout: float | None, skip_kit_checks: bool,
                   owned: list[str]) -> tuple[NotebookRun, dict[str, TableSnapshot]]:
    """Run 03_gold on the expected ``silver`` (a :class:`SilverExpectation`) in ``schema``; its run and gold tables.
    ``schema`` is added to ``owned`` (the grading drops it)."""
    frame = silver.frame.loc[:, [c.split()[0] for c in _SILVER_SCHEMA.split(", ")]].copy()  # by name, then position
    frame["category_id"] = frame["category_id"].astype(object).where(frame["category_id"].notna(), None)
    frame["event_time"] = frame["event_time"].dt.tz_convert("UTC").dt.tz_localize(None)
    spark.sql(f"CREATE SCHEMA {schema}")
    owned.append(schema)
    spark.createDataFrame(frame, _SILVER_SCHEMA).write.mode("overwrite").saveAsTable(f"{schema}.silver_events")
    in_job = {stem: run for stem, run in runs.items() if run.task_key}
    _tasks, direct = run_layers_directly(
        submission=submission, unreadable=unreadable, parameters={**parameters, "schema": schema},
        out_dir=out_dir, env=env, stems=("03_gold",),
        task_values={r.task_key: r.task_values for r in in_job.values() if r.task_key},
        task_keys={stem: r.task_key for stem, r in in_job.items() if r.task_key}, cell_timeout=cell_timeout,
        skip_kit_checks=skip_kit_checks)
    return direct["03_gold"], snapshot_tables(spark, schema=schema, names=GOLD_TABLES)
