"""A reference bronze → silver → gold pipeline in Spark SQL, changed one fragment at a time, and the helpers that
grade its tables (shared by tests/grading/test_checks_tables.py).

The pipeline is independent of the solutions and of the grader's pandas code; each variant changes one fragment of
it, the way a learner's mistake would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from checkers.grading.checks import (
    Evidence,
    JobEvidence,
    NotebookRun,
    PipelineRun,
    TableSnapshot,
    catalogue,
    run_checks,
    snapshot_frame,
)
from checkers.grading.expect import Expectations
from checkers.grading.report import CheckResult
from checkers.jobs.project import Submission
from checkers.runtime.context import RuntimeRecord

SEED = 4242
ROWS = 6000
GROUPS = ("bronze", "silver", "gold")

SILVER = {
    "time": "try_to_timestamp(event_time, \"yyyy-MM-dd HH:mm:ss 'UTC'\")",
    "type": "lower(trim(event_type))",
    "required": "event_time IS NOT NULL AND event_type IS NOT NULL AND product_id IS NOT NULL AND user_id IS NOT NULL "
                "AND user_session IS NOT NULL",
    "known": "event_type IN ('view', 'cart', 'remove_from_cart', 'purchase')",
    "price": "price > 0 AND price < 10000",
    "key": "user_session, event_time, event_type, product_id",
    "dedup": "copy = 1",
    "brand": "coalesce(brand, 'unknown')",
    "category_code": "coalesce(category_code, 'unknown')",
    "date": "to_date(event_time)",
    "tier": "CASE WHEN price < 10 THEN 'budget' WHEN price < 50 THEN 'mid' ELSE 'premium' END",
    "price_cast": "try_cast(price AS DOUBLE)",
    "category_cast": "try_cast(category_id AS BIGINT)",
    "product_cast": "try_cast(product_id AS BIGINT)",
    "user_cast": "try_cast(user_id AS BIGINT)",
    "extra": "",
}
SILVER_SQL = """
WITH typed AS (
  SELECT {time} AS event_time, {type} AS event_type, {product_cast} AS product_id,
         {category_cast} AS category_id, category_code, brand, {price_cast} AS price,
         {user_cast} AS user_id, user_session
  FROM t_bronze),
kept AS (SELECT * FROM typed WHERE ({required}) AND ({known}) AND ({price})),
ranked AS (SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY price) AS copy FROM kept)
SELECT event_time, event_type, product_id, category_id, {category_code} AS category_code, {brand} AS brand, price,
       user_id, user_session, {date} AS event_date, {tier} AS price_tier {extra}
FROM ranked WHERE {dedup}
"""
GOLD = {
    "views": "count(DISTINCT IF(event_type = 'view', user_id, NULL))",
    "revenue": "round(coalesce(sum(IF(event_type = 'purchase', price, NULL)), 0), 2)",
    "conversion": "CASE WHEN views > 0 THEN round(purchases / views * 100, 2) END",
    "pm_filter": "",
    "pm_extra": ", {conversion} AS conversion_rate",
    "orders": "count(*)",
    "buyers": "count(DISTINCT user_id)",
    "aov": "round(revenue / orders, 2)",
    "ds_filter": "",
    "ds_date": "event_date",
}
PRODUCT_SQL = """
SELECT product_id, views, carts, purchases, revenue {pm_extra}
FROM (SELECT product_id, {views} AS views, count(DISTINCT IF(event_type = 'cart', user_id, NULL)) AS carts,
             count(DISTINCT IF(event_type = 'purchase', user_id, NULL)) AS purchases, {revenue} AS revenue
      FROM t_silver {pm_filter} GROUP BY product_id)
"""
DAILY_SQL = """
SELECT {ds_date} AS event_date, orders, buyers, revenue, {aov} AS avg_order_value
FROM (SELECT event_date, {orders} AS orders, {buyers} AS buyers, round(sum(price), 2) AS revenue
      FROM t_silver WHERE event_type = 'purchase' {ds_filter} GROUP BY event_date)
"""


def bronze_df(spark: Any, path: Path, *, infer: bool = False) -> Any:
    from pyspark.sql import functions as F

    reader = spark.read.option("header", True)
    if infer:
        reader = reader.option("inferSchema", True)
    return reader.csv(str(path)).select("*", F.current_timestamp().alias("ingestion_ts"),
                                        F.col("_metadata.file_path").alias("source_file"))


class Layers:
    """Builds bronze / silver / gold snapshots: the reference ones (built once), or with fragments changed."""

    def __init__(self, spark: Any, raw: Path) -> None:
        self.spark = spark
        self.raw = raw
        self._cache: dict[str, Any] = {}

    def bronze(self, df: Any = None) -> TableSnapshot:
        if df is not None:
            return snapshot_frame(df, name="bronze_events", qualified="t.bronze_events")
        if "bronze" not in self._cache:
            self._cache["bronze"] = snapshot_frame(bronze_df(self.spark, self.raw), name="bronze_events",
                                                   qualified="t.bronze_events")
        return self._cache["bronze"]

    def _silver_view(self, changes: dict[str, str]) -> Any:
        bronze_df(self.spark, self.raw).createOrReplaceTempView("t_bronze")
        silver = self.spark.sql(SILVER_SQL.format(**{**SILVER, **changes}))
        silver.createOrReplaceTempView("t_silver")
        return silver

    def silver(self, **changes: str) -> TableSnapshot:
        key = f"silver{sorted(changes.items())}"
        if key not in self._cache:
            self._cache[key] = snapshot_frame(self._silver_view(changes), name="silver_events",
                                              qualified="t.silver_events")
        return self._cache[key]

    def gold(self, silver: dict[str, str] | None = None, **changes: str) -> tuple[TableSnapshot, TableSnapshot]:
        """Both gold tables with ``changes`` to their SQL, built on silver with ``silver`` changes."""
        key = f"gold{sorted((silver or {}).items())}{sorted(changes.items())}"
        if key not in self._cache:
            self._silver_view(silver or {})
            gold = {**GOLD, **changes}
            gold["pm_extra"] = gold["pm_extra"].format(conversion=gold["conversion"])
            self._cache[key] = (
                snapshot_frame(self.spark.sql(PRODUCT_SQL.format(**gold)), name="gold_product_metrics",
                               qualified="t.gold_product_metrics"),
                snapshot_frame(self.spark.sql(DAILY_SQL.format(**gold)), name="gold_daily_sales",
                               qualified="t.gold_daily_sales"))
        return self._cache[key]


def evidence(exp: Expectations, raw: Path, *, bronze: TableSnapshot | None, silver: TableSnapshot | None,
             product_metrics: TableSnapshot | None, daily_sales: TableSnapshot | None,
             runs: dict[str, NotebookRun] | None = None) -> Evidence:
    tables = {s.name: s for s in (bronze, silver, product_metrics, daily_sales) if s is not None}
    values = {"01_bronze": {"bronze_rows": bronze.rows if bronze else 0},
              "02_silver": {"silver_rows": silver.rows if silver else 0}, "03_gold": {}}
    notebooks = {stem: NotebookRun(stem=stem, status="success", record=RuntimeRecord(task_values=v))
                 for stem, v in values.items()}
    notebooks.update(runs or {})
    return Evidence(submission=Submission(folder=raw.parent, notebooks={}), schema="t", source_path=raw, seed=SEED,
                    job=JobEvidence(file=None), run=PipelineRun(mode="none"), notebooks=notebooks, tables=tables,
                    expectations=exp)


SPECS = [s for s in catalogue() if s.group in GROUPS or s.id == "widgets.parameters_used"]
NO_GOLD = [s for s in SPECS if s.group != "gold"]


def grade(ev: Evidence, specs: list | None = None) -> dict[str, CheckResult]:
    return {r.id: r for r in run_checks(ev, specs=specs or SPECS)}


def dependents(check_id: str) -> set[str]:
    """Checks that need ``check_id`` to pass, directly or through others (from the catalogue's prerequisites)."""
    out: set[str] = set()
    todo = [check_id]
    while todo:
        current = todo.pop()
        for s in SPECS:
            if current in s.requires and s.id not in out:
                out.add(s.id)
                todo.append(s.id)
    return out


def assert_only_failure(results: dict[str, CheckResult], check_id: str, *phrases: str,
                        dependents_run: bool = False) -> None:
    """``check_id`` failed naming ``phrases``; its dependents are skipped (or, with ``dependents_run``, judged and
    passed: a failure that does not gate them); every other check passed."""
    failed = results[check_id]
    assert failed.status == "failed", (check_id, failed.status, failed.message)
    for phrase in phrases:
        assert phrase in failed.message, (phrase, failed.message)
    assert failed.score == 0
    skipped = set() if dependents_run else dependents(check_id)
    for r in results.values():
        if r.id == check_id:
            continue
        want = "skipped" if r.id in skipped else "passed"
        assert r.status == want, (r.id, r.status, r.message)
        if want == "skipped":
            assert check_id in r.message


def with_silver(layers: Layers, exp: Expectations, raw: Path, **changes: str) -> dict[str, CheckResult]:
    """Bronze and silver checks with silver built with ``changes`` (gold has its own tests, below)."""
    return grade(evidence(exp, raw, bronze=layers.bronze(), silver=layers.silver(**changes), product_metrics=None,
                          daily_sales=None), NO_GOLD)


def with_gold(layers: Layers, exp: Expectations, raw: Path, silver: dict[str, str] | None = None,
              **changes: str) -> dict[str, CheckResult]:
    """Every table check, gold built with ``changes`` on silver built with ``silver`` changes."""
    pm, ds = layers.gold(silver, **changes)
    return grade(evidence(exp, raw, bronze=layers.bronze(), silver=layers.silver(**(silver or {})),
                          product_metrics=pm, daily_sales=ds))
