"""Bronze, silver and gold checks on tables built here with Spark, one deliberate mistake at a time.

A reference pipeline written in Spark SQL (independent of the solutions and of the grader's pandas code) builds
the three layers from generated raw data; each variant changes one fragment of it, the way a learner's
mistake would. The checks then run on snapshots of those DataFrames, exactly as on tables read after a job.
Each wrong variant must fail its own check — with a message naming the problem — skip the checks that depend
on it, and leave every other check passing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from checkers.data import sample_path
from checkers.data.generate import generate_events
from checkers.grading.checks import NotebookRun, TableSnapshot, snapshot_frame
from checkers.grading.expect import Expectations, compute_expectations
from checkers.grading.report import CheckResult
from checkers.runtime.context import RuntimeRecord
from tests.helpers.table_layers import (
    NO_GOLD,
    ROWS,
    SEED,
    SILVER,
    Layers,
    assert_only_failure,
    bronze_df,
    dependents,
    evidence,
    grade,
    with_gold,
    with_silver,
)

pytestmark = pytest.mark.spark


# --------------------------------------------------------------------------------------------- building tables


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated as the grader makes its unseen data: with rows on the rules' edges."""
    from checkers.data.edges import set_edges

    path = generate_events(out=tmp_path_factory.mktemp("raw") / "events_seed4242.csv", rows=ROWS, seed=SEED,
                           days=3).path
    assert set_edges(path, seed=SEED) > 0
    return path


@pytest.fixture(scope="module")
def exp(raw: Path) -> Expectations:
    return compute_expectations(path=raw)


@pytest.fixture(scope="module")
def layers(spark: Any, raw: Path) -> Layers:
    return Layers(spark, raw)


# --------------------------------------------------------------------------------------------- the reference


def test_the_reference_pipeline_passes_every_check(layers: Layers, exp: Expectations, raw: Path) -> None:
    results = with_gold(layers, exp, raw)
    assert {r.id: r.status for r in results.values() if r.status != "passed"} == {}
    assert results["silver.dedup"].message.endswith(f"{exp.silver.drop(5).rows} duplicates dropped")
    assert results["bronze.rows"].message.startswith(f"{exp.bronze.rows:,}".replace(",", " "))


def test_work_done_ahead_on_the_unseen_data_gives_the_same_results_and_is_not_changed_by_checks(
        layers: Layers, raw: Path) -> None:
    from checkers.grading.checks import precompute

    fresh, ahead = compute_expectations(path=raw), precompute(compute_expectations(path=raw))
    assert fresh.derived == {} and set(ahead.derived) == {"raw_fates", "canonical_raw_text", "canonical_raw_time"}
    kept = {key: frame.copy() for key, frame in ahead.derived.items()}
    changes = {"dedup": "true"}  # a silver mistake, so the matching has rows to blame
    one = with_silver(layers, fresh, raw, **changes)
    two = with_silver(layers, ahead, raw, **changes)
    assert {k: (r.status, r.message) for k, r in one.items()} == {k: (r.status, r.message) for k, r in two.items()}
    assert one["silver.dedup"].status == "failed"
    for key, frame in kept.items():
        assert ahead.derived[key].equals(frame), key


def test_the_generated_data_exercises_every_rule(exp: Expectations) -> None:
    drops = {d.rule: d.rows for d in exp.silver.drops}
    assert drops[1] == 0  # every time has the real file's shape (or is empty: rule 2)
    assert all(drops[rule] > 0 for rule in (2, 3, 4, 5)), exp.silver.drops
    assert exp.silver.normalized_event_types > 0 and exp.silver.unknown_brands > 0


# --------------------------------------------------------------------------------------------- bronze


def _bronze_results(layers: Layers, exp: Expectations, raw: Path, bronze: TableSnapshot | None,
                    runs: dict[str, NotebookRun] | None = None) -> dict[str, CheckResult]:
    return grade(evidence(exp, raw, bronze=bronze, silver=layers.silver(), product_metrics=None, daily_sales=None,
                          runs=runs), NO_GOLD)


def test_bronze_with_inferred_types_is_accepted(spark: Any, layers: Layers, exp: Expectations, raw: Path) -> None:
    results = _bronze_results(layers, exp, raw, layers.bronze(bronze_df(spark, raw, infer=True)))
    assert all(r.status == "passed" for r in results.values()), [r.message for r in results.values()
                                                                 if r.status != "passed"]


def test_a_missing_bronze_table_from_an_untouched_exercise_says_not_done_yet(layers: Layers, exp: Expectations,
                                                                             raw: Path) -> None:
    from checkers.grading.checks import CellError

    lesson = NotebookRun(stem="01_bronze", status="failed", message="cell 7 raised NotImplementedError",
                         error=CellError("NotImplementedError", "Exercise bronze.ingest: Read the CSV. See x.md", 7))
    results = _bronze_results(layers, exp, raw, None, runs={"01_bronze": lesson})
    bronze = results["bronze.table"]
    assert bronze.status == "failed"
    assert "not done yet: exercise bronze.ingest" in bronze.message and "cell 7" in bronze.message
    assert "bronze.ingest" in bronze.hint
    assert {results[c].status for c in dependents("bronze.table")} == {"skipped"}


def test_a_bronze_table_written_elsewhere_points_at_the_schema_widget(layers: Layers, exp: Expectations,
                                                                      raw: Path) -> None:
    results = _bronze_results(layers, exp, raw, None)
    assert results["bronze.table"].status == "failed"
    assert "ran without error but t.bronze_events does not exist" in results["bronze.table"].message
    assert "schema" in results["bronze.table"].hint


def test_bronze_without_source_file(spark: Any, layers: Layers, exp: Expectations, raw: Path) -> None:
    """The rows and values are still judged; only the checks about source_file lose their points."""
    df = bronze_df(spark, raw).drop("source_file")
    results = _bronze_results(layers, exp, raw, layers.bronze(df))
    assert results["bronze.columns"].status == "failed" and "no column source_file" in results["bronze.columns"].message
    assert results["bronze.metadata"].status == "skipped", results["bronze.metadata"].message
    assert "no column source_file" in results["bronze.metadata"].message
    others = {k: r.status for k, r in results.items() if k not in ("bronze.columns", "bronze.metadata")}
    assert set(others.values()) == {"passed"}, others
    no_ids = bronze_df(spark, raw).drop("user_id")
    assert_only_failure(_bronze_results(layers, exp, raw, layers.bronze(no_ids)), "bronze.columns",
                        "no column user_id")


def test_bronze_may_keep_the_rescued_data_column_of_read_files_but_no_other_extra(spark: Any, layers: Layers,
                                                                                  exp: Expectations, raw: Path) -> None:
    from pyspark.sql import functions as F

    rescued = bronze_df(spark, raw).withColumn("_rescued_data", F.lit(None).cast("string"))
    results = _bronze_results(layers, exp, raw, layers.bronze(rescued))
    assert all(r.status == "passed" for r in results.values()), [r.message for r in results.values()
                                                                 if r.status != "passed"]
    extra = rescued.withColumn("note", F.lit("x"))
    # An extra column costs bronze.columns only: the rows, values and metadata are still judged, and pass.
    assert_only_failure(_bronze_results(layers, exp, raw, layers.bronze(extra)), "bronze.columns",
                        "extra column note", dependents_run=True)
    missing = rescued.drop("user_session").withColumn("note", F.lit("x"))
    assert_only_failure(_bronze_results(layers, exp, raw, layers.bronze(missing)), "bronze.columns",
                        "no column user_session", "extra column note")


def test_bronze_reading_another_file_fails_parameters_used(spark: Any, layers: Layers, exp: Expectations,
                                                          raw: Path) -> None:
    df = bronze_df(spark, sample_path())
    assert_only_failure(_bronze_results(layers, exp, raw, layers.bronze(df)), "widgets.parameters_used",
                        "another file", "events_sample.csv", raw.name)


def test_bronze_that_drops_duplicates(spark: Any, layers: Layers, exp: Expectations, raw: Path) -> None:
    df = bronze_df(spark, raw).dropDuplicates([c for c in exp.raw.columns])
    dups = int(exp.raw.duplicated().sum())
    assert dups > 0
    assert_only_failure(_bronze_results(layers, exp, raw, layers.bronze(df)), "bronze.rows",
                        f"expected {exp.bronze.rows:,}".replace(",", " "), "exactly the", "duplicate rows")


def test_bronze_that_cleans_event_type(spark: Any, layers: Layers, exp: Expectations, raw: Path) -> None:
    from pyspark.sql import functions as F

    df = bronze_df(spark, raw).withColumn("event_type", F.lower(F.trim("event_type")))
    assert_only_failure(_bronze_results(layers, exp, raw, layers.bronze(df)), "bronze.values",
                        "event_type differs")


def test_bronze_without_ingestion_time(spark: Any, layers: Layers, exp: Expectations, raw: Path) -> None:
    from pyspark.sql import functions as F

    df = bronze_df(spark, raw).withColumn("ingestion_ts", F.lit(None).cast("timestamp"))
    assert_only_failure(_bronze_results(layers, exp, raw, layers.bronze(df)), "bronze.metadata",
                        "ingestion_ts is null in")


def test_bronze_task_value_must_be_the_row_count(layers: Layers, exp: Expectations, raw: Path) -> None:
    wrong = NotebookRun(stem="01_bronze", status="success", record=RuntimeRecord(task_values={"bronze_rows": 12}))
    assert_only_failure(_bronze_results(layers, exp, raw, layers.bronze(), runs={"01_bronze": wrong}),
                        "bronze.task_value", "bronze_rows is 12")
    unset = NotebookRun(stem="01_bronze", status="success", record=RuntimeRecord())
    assert_only_failure(_bronze_results(layers, exp, raw, layers.bronze(), runs={"01_bronze": unset}),
                        "bronze.task_value", "set no task value bronze_rows")
    as_bool = NotebookRun(stem="01_bronze", status="success", record=RuntimeRecord(task_values={"bronze_rows": True}))
    assert_only_failure(_bronze_results(layers, exp, raw, layers.bronze(), runs={"01_bronze": as_bool}),
                        "bronze.task_value", "it must be the row count, a number")


def test_a_row_count_set_as_text_is_a_count(layers: Layers, exp: Expectations, raw: Path) -> None:
    """Databricks keeps task values as JSON; a condition task compares "30000" with "0" as numbers."""
    results = {}
    for text in (f"{exp.bronze.rows}", f" {exp.bronze.rows} ", f"{exp.bronze.rows + 1}", f"{exp.bronze.rows}.5"):
        run = NotebookRun(stem="01_bronze", status="success", record=RuntimeRecord(task_values={"bronze_rows": text}))
        results[text] = _bronze_results(layers, exp, raw, layers.bronze(), runs={"01_bronze": run})[
            "bronze.task_value"].status
    assert list(results.values()) == ["passed", "passed", "failed", "failed"], results


# --------------------------------------------------------------------------------------------- silver

REASONABLE_PARSES = {
    "to_timestamp with the pattern": "to_timestamp(event_time, \"yyyy-MM-dd HH:mm:ss 'UTC'\")",
    "to_timestamp after stripping UTC": "to_timestamp(regexp_replace(event_time, ' UTC', ''), 'yyyy-MM-dd HH:mm:ss')",
    "a cast after stripping UTC": "CAST(replace(event_time, ' UTC', '') AS TIMESTAMP)",
    "try_to_timestamp": "try_to_timestamp(event_time, \"yyyy-MM-dd HH:mm:ss 'UTC'\")",
}
"""How course participants parse the real file's time: with ANSI mode on (Spark 4, Databricks Runtime 17+), each
must give the same silver on the kit's data, so correct work in any of these styles gets full marks."""


@pytest.mark.parametrize("time", REASONABLE_PARSES.values(), ids=list(REASONABLE_PARSES))
def test_every_reasonable_parse_of_the_real_time_shape_passes(layers: Layers, exp: Expectations, raw: Path,
                                                              time: str) -> None:
    results = with_gold(layers, exp, raw, silver={"time": time})
    assert {r.status for r in results.values()} == {"passed"}, {
        k: r.message for k, r in results.items() if r.status != "passed"}

SILVER_VARIANTS = [
    ("silver.columns", {"time": "replace(event_time, ' UTC', '')"}, ("event_time is string",)),
    ("silver.parse_time", {"time": f"to_utc_timestamp({SILVER['time']}, 'Asia/Tokyo')"}, ("-9 h off",)),
    ("silver.not_null", {"required": "event_time IS NOT NULL AND event_type IS NOT NULL"},
     ("nulls in", "user_session")),
    ("silver.not_null", {"required": SILVER["required"] + " AND brand IS NOT NULL AND category_code IS NOT NULL"},
     ("only lack brand or category_code",)),
    ("silver.event_type", {"type": "lower(event_type)"}, ("only needed trimming or lower-casing",)),
    ("silver.event_type", {"known": "true"}, ("event_type outside",)),
    ("silver.price", {"price": "price >= 0 AND price <= 10000"}, ("outside 0 < price < 10000",)),
    ("silver.price", {"price": "price > 0 AND price < 1000"}, ("whose price is inside",)),
    ("silver.dedup", {"dedup": "true"}, ("duplicates on (user_session, event_time, event_type, product_id)",
                                         "expected", "found")),
    ("silver.dedup", {"key": "user_session, product_id"}, ("that are not duplicates",)),
    ("silver.unknown_fill", {"brand": "coalesce(brand, 'n/a')"}, ("with no brand hold 'n/a'",)),
    ("silver.unknown_fill", {"category_code": "category_code"}, ("still has null category_code",)),
    ("silver.derived", {"tier": "CASE WHEN price < 10 THEN 'budget' WHEN price < 100 THEN 'mid' ELSE 'premium' END"},
     ("price_tier is wrong",)),
    ("silver.derived", {"date": "to_date(from_utc_timestamp(event_time, 'America/New_York'))"},
     ("not the UTC date",)),
    ("silver.values", {"brand": "coalesce(upper(brand), 'unknown')"}, ("brand differs",)),
    ("silver.values", {"category_cast": "try_cast(category_id AS INT)"}, ("category_id differs",)),
]


@pytest.mark.parametrize(("check_id", "changes", "phrases"), SILVER_VARIANTS,
                         ids=[f"{c}-{next(iter(ch))}" for c, ch, _ in SILVER_VARIANTS])
def test_silver_mistakes_fail_their_own_rule(layers: Layers, exp: Expectations, raw: Path, check_id: str,
                                             changes: dict[str, str], phrases: tuple[str, ...]) -> None:
    assert_only_failure(with_silver(layers, exp, raw, **changes), check_id, *phrases)


def test_an_extra_silver_column_or_a_decimal_price_costs_the_columns_check_only(layers: Layers, exp: Expectations,
                                                                                raw: Path) -> None:
    """Lineage columns kept in silver are against the contract (2 points), but every rule is still judged."""
    results = with_gold(layers, exp, raw, silver={"extra": ", current_date() AS loaded_on, 'x' AS source_file"})
    assert_only_failure(results, "silver.columns", "extra columns loaded_on, source_file", dependents_run=True)
    decimal = with_silver(layers, exp, raw, extra=", 'x' AS source_file",
                          price_cast="try_cast(price AS DECIMAL(10, 2))")
    assert_only_failure(decimal, "silver.columns", "extra column source_file", "price is decimal(10,2)",
                        dependents_run=True)  # money as a decimal holds the same amounts: the rules are judged
    text_ids = with_silver(layers, exp, raw, extra=", 'x' AS source_file", category_cast="category_id")
    assert text_ids["silver.columns"].status == "failed"
    assert "category_id is string" in text_ids["silver.columns"].message
    assert text_ids["silver.values"].status == "skipped" and "category_id" in text_ids["silver.values"].message
    others = {k: r.status for k, r in text_ids.items() if k not in ("silver.columns", "silver.values")}
    assert set(others.values()) == {"passed"}, others


def test_ids_as_doubles_are_numeric_ids_and_a_rounded_category_id_fails_values_only(
        layers: Layers, exp: Expectations, raw: Path) -> None:
    """The contract asks for numeric ids. A pandas round trip makes them doubles: product_id and user_id stay exact
    (and gold is judged on them), a 64-bit category_id is rounded, which silver.values names."""
    doubles = {"product_cast": "try_cast(product_id AS DOUBLE)", "user_cast": "try_cast(user_id AS DOUBLE)"}
    results = with_gold(layers, exp, raw, silver=doubles)
    assert {k: r.message for k, r in results.items() if r.status != "passed"} == {}
    rounded = with_silver(layers, exp, raw, **doubles, category_cast="try_cast(category_id AS DOUBLE)")
    assert_only_failure(rounded, "silver.values", "category_id differs")


def test_a_missing_derived_column_costs_the_checks_that_need_it(layers: Layers, exp: Expectations,
                                                                raw: Path) -> None:
    """No price_tier: silver.columns and rule 7 lose their points (and silver.values, which needs every rule);
    rules 1-6 are still judged."""
    silver = snapshot_frame(layers._silver_view({}).drop("price_tier"), name="silver_events",
                            qualified="t.silver_events")
    results = grade(evidence(exp, raw, bronze=layers.bronze(), silver=silver, product_metrics=None,
                             daily_sales=None), NO_GOLD)
    assert results["silver.columns"].status == "failed" and "no column price_tier" in results["silver.columns"].message
    assert results["silver.derived"].status == "skipped" and "price_tier" in results["silver.derived"].message
    assert results["silver.values"].status == "skipped"
    others = {k: r.status for k, r in results.items() if k not in ("silver.columns", "silver.derived", "silver.values")}
    assert set(others.values()) == {"passed"}, others


def test_an_extra_gold_column_costs_the_table_check_only(layers: Layers, exp: Expectations, raw: Path) -> None:
    results = with_gold(layers, exp, raw, pm_extra=", {conversion} AS conversion_rate, current_date() AS as_of")
    assert_only_failure(results, "gold.product_metrics.table", "extra column as_of", dependents_run=True)


def test_a_missing_gold_column_costs_its_table_check_and_the_check_of_that_column(layers: Layers, exp: Expectations,
                                                                                  raw: Path) -> None:
    results = with_gold(layers, exp, raw, pm_extra="")
    assert results["gold.product_metrics.table"].status == "failed"
    assert "no column conversion_rate" in results["gold.product_metrics.table"].message
    conversion = results["gold.product_metrics.conversion"]
    assert conversion.status == "skipped" and "no column conversion_rate" in conversion.message
    others = {k: r.status for k, r in results.items()
              if k not in ("gold.product_metrics.table", "gold.product_metrics.conversion")}
    assert set(others.values()) == {"passed"}, others


def test_silver_with_a_time_format_that_never_matches_is_empty(layers: Layers, exp: Expectations,
                                                               raw: Path) -> None:
    results = with_gold(layers, exp, raw, silver={"time": "try_to_timestamp(event_time, 'yyyy-MM-dd HH:mm:ss')"})
    kept = results["silver.kept_rows"]
    assert kept.status == "failed" and "silver is empty" in kept.message and "try_to_timestamp" in kept.hint
    assert all(results[c].status == "skipped" for c in dependents("silver.kept_rows"))
    # gold on an empty silver is not judged: no points for aggregating nothing
    assert results["gold.product_metrics.rows"].status == "skipped"
    assert "silver.kept_rows" in results["gold.product_metrics.rows"].message


def test_a_silver_mistake_is_not_counted_again_in_gold(layers: Layers, exp: Expectations, raw: Path) -> None:
    results = with_gold(layers, exp, raw, silver={"dedup": "true"})
    assert results["silver.dedup"].status == "failed"
    gold = [r for r in results.values() if r.group == "gold"]
    assert gold and all(r.status == "passed" for r in gold), [(r.id, r.message) for r in gold]


def test_silver_task_value(layers: Layers, exp: Expectations, raw: Path) -> None:
    wrong = NotebookRun(stem="02_silver", status="success", record=RuntimeRecord(task_values={"silver_rows": "many"}))
    results = grade(evidence(exp, raw, bronze=layers.bronze(), silver=layers.silver(), product_metrics=None,
                             daily_sales=None, runs={"02_silver": wrong}), NO_GOLD)
    assert_only_failure(results, "silver.task_value", "must be the row count")


def test_a_missing_silver_table_after_a_successful_notebook_fails(layers: Layers, exp: Expectations,
                                                                  raw: Path) -> None:
    results = grade(evidence(exp, raw, bronze=layers.bronze(), silver=None, product_metrics=None, daily_sales=None),
                    NO_GOLD)
    assert_only_failure(results, "silver.table", "02_silver ran without error but t.silver_events does not exist")


def test_a_missing_silver_table_after_bronze_failed_is_skipped_not_failed(layers: Layers, exp: Expectations,
                                                                          raw: Path) -> None:
    not_run = NotebookRun(stem="02_silver", status="not_run", message="01_bronze did not succeed")
    results = grade(evidence(exp, raw, bronze=layers.bronze(), silver=None, product_metrics=None, daily_sales=None,
                             runs={"02_silver": not_run}))
    assert results["silver.table"].status == "skipped"
    assert "01_bronze did not succeed" in results["silver.table"].message
    assert all(results[c].status == "skipped" for c in dependents("silver.table"))


# --------------------------------------------------------------------------------------------- gold

GOLD_VARIANTS = [
    ("gold.product_metrics.rows", {"pm_filter": "WHERE event_type = 'purchase'"}, ("expected product", "missing")),
    ("gold.product_metrics.counts", {"views": "count(IF(event_type = 'view', user_id, NULL))"}, ("views differs",)),
    ("gold.product_metrics.revenue", {"revenue": "round(sum(IF(event_type = 'purchase', price, NULL)), 2)"},
     ("null where it should be 0",)),
    ("gold.product_metrics.revenue", {"revenue": "round(sum(price), 2)"}, ("revenue differs",)),
    ("gold.product_metrics.conversion", {"conversion": "CASE WHEN views > 0 THEN round(purchases / views, 4) END"},
     ("conversion_rate is not purchases / views",)),
    ("gold.product_metrics.conversion", {"conversion": "CASE WHEN views > 0 THEN round(carts / views * 100, 2) END"},
     ("conversion_rate is not purchases / views",)),
    ("gold.daily_sales.table", {"ds_date": "date_format(event_date, 'dd/MM/yyyy')"},
     ("event_date is string, expected a date",)),
    ("gold.daily_sales.table", {"ds_date": "CAST(event_date AS TIMESTAMP) + INTERVAL 1 HOUR"},
     ("event_date is timestamp, expected a date",)),
    ("gold.daily_sales.rows", {"ds_filter": "AND event_date > (SELECT min(event_date) FROM t_silver)"},
     ("expected day", "missing")),
    ("gold.daily_sales.counts", {"buyers": "count(user_id)"}, ("buyers differs",)),
    ("gold.daily_sales.revenue", {"aov": "round(revenue / buyers, 2)"}, ("avg_order_value is not revenue / orders",)),
    ("gold.daily_sales.revenue", {"aov": "revenue / orders"}, ("avg_order_value is not rounded to 2 decimals",)),
    ("gold.product_metrics.revenue", {"revenue": "coalesce(sum(IF(event_type = 'purchase', price, NULL)), 0) + 0.001"},
     ("revenue is not rounded to 2 decimals",)),
    ("gold.product_metrics.conversion", {"conversion": "CASE WHEN views > 0 THEN purchases / views * 100 END"},
     ("conversion_rate is not rounded to 2 decimals",)),
]


@pytest.mark.parametrize(("check_id", "changes", "phrases"), GOLD_VARIANTS,
                         ids=[f"{c}-{next(iter(ch))}" for c, ch, _ in GOLD_VARIANTS])
def test_gold_mistakes_fail_their_own_check(layers: Layers, exp: Expectations, raw: Path, check_id: str,
                                            changes: dict[str, str], phrases: tuple[str, ...]) -> None:
    assert_only_failure(with_gold(layers, exp, raw, **changes), check_id, *phrases)


@pytest.mark.parametrize("day", ["date_format(event_date, 'yyyy-MM-dd')", "CAST(event_date AS TIMESTAMP)",
                                 "CAST(event_date AS TIMESTAMP_NTZ)"])
def test_the_day_as_an_iso_string_or_a_midnight_timestamp_is_that_day(layers: Layers, exp: Expectations, raw: Path,
                                                                     day: str) -> None:
    """The contract calls gold's event_date "the day" and gives no type: each of these names one day."""
    results = with_gold(layers, exp, raw, ds_date=day)
    assert {r.id: r.message for r in results.values() if r.status != "passed"} == {}


def test_counting_events_instead_of_users_gets_the_distinct_hint(layers: Layers, exp: Expectations,
                                                                 raw: Path) -> None:
    results = with_gold(layers, exp, raw, views="count(IF(event_type = 'view', user_id, NULL))")
    assert "count_distinct" in results["gold.product_metrics.counts"].hint


def test_a_fraction_conversion_rate_gets_the_percent_hint(layers: Layers, exp: Expectations, raw: Path) -> None:
    results = with_gold(layers, exp, raw, conversion="CASE WHEN views > 0 THEN round(purchases / views, 4) END")
    assert "multiply" in results["gold.product_metrics.conversion"].hint


def test_avg_order_value_from_the_exact_revenue_is_accepted(layers: Layers, exp: Expectations, raw: Path) -> None:
    """The contract divides the rounded revenue; dividing the exact sum differs by less than a cent."""
    results = with_gold(layers, exp, raw, aov="round(revenue / orders + 0.004, 2)")
    assert results["gold.daily_sales.revenue"].status == "passed"


def test_a_conversion_rate_for_a_product_without_views_must_be_null(layers: Layers, exp: Expectations,
                                                                   raw: Path) -> None:
    pm, ds = layers.gold()
    assert pm.frame is not None
    frame = pm.frame.copy()
    frame.loc[0, "views"], frame.loc[0, "conversion_rate"] = 0, 0.0
    odd = TableSnapshot(name=pm.name, qualified=pm.qualified, exists=True, dtypes=pm.dtypes, frame=frame)
    results = grade(evidence(exp, raw, bronze=layers.bronze(), silver=layers.silver(), product_metrics=odd,
                             daily_sales=ds))
    conversion = results["gold.product_metrics.conversion"]
    assert conversion.status == "failed" and "must be null" in conversion.message
    assert results["gold.product_metrics.counts"].status == "failed"  # views really is wrong there


def test_a_check_that_crashes_is_an_error_and_the_rest_still_run(layers: Layers, exp: Expectations,
                                                                 raw: Path) -> None:
    silver = layers.silver()
    assert silver.frame is not None
    odd = TableSnapshot(name="silver_events", qualified="t.silver_events", exists=True, dtypes=silver.dtypes,
                        frame=silver.frame.drop(columns=["price"]))
    results = grade(evidence(exp, raw, bronze=layers.bronze(), silver=odd, product_metrics=None, daily_sales=None),
                    NO_GOLD)
    errors = [r for r in results.values() if r.status == "error"]
    assert errors and all("grader could not run this check" in r.message for r in errors)
    assert results["bronze.values"].status == "passed"


def test_an_infinite_product_id_is_a_clear_failure_never_a_grader_error(layers: Layers, exp: Expectations,
                                                                        raw: Path) -> None:
    """A DOUBLE product_id can hold an infinity, which no integer cast takes: gold says so, the grader never errs."""
    from tests.helpers.table_layers import DAILY_SQL, GOLD, PRODUCT_SQL

    doubles = {"product_cast": "try_cast(product_id AS DOUBLE)", "user_cast": "try_cast(user_id AS DOUBLE)"}
    view = layers._silver_view(doubles)
    silver = view.unionByName(view.limit(1).selectExpr("CAST('Infinity' AS DOUBLE) AS product_id",
                                                       *[c for c in view.columns if c != "product_id"]))
    silver.createOrReplaceTempView("t_silver")
    gold = {**GOLD, "pm_extra": GOLD["pm_extra"].format(conversion=GOLD["conversion"])}
    ev = evidence(exp, raw, bronze=layers.bronze(),
                  silver=snapshot_frame(silver, name="silver_events", qualified="t.silver_events"),
                  product_metrics=snapshot_frame(layers.spark.sql(PRODUCT_SQL.format(**gold)),
                                                 name="gold_product_metrics", qualified="t.gold_product_metrics"),
                  daily_sales=snapshot_frame(layers.spark.sql(DAILY_SQL.format(**gold)), name="gold_daily_sales",
                                             qualified="t.gold_daily_sales"))
    results = grade(ev)
    assert [(r.id, r.message) for r in results.values() if r.status == "error"] == []
    rows = results["gold.product_metrics.rows"]
    assert rows.status == "failed" and "not a whole number" in rows.message, rows.message


def test_rows_a_rule_check_names_are_not_called_kept(layers: Layers, exp: Expectations, raw: Path) -> None:
    """Dropping the rows that lack a brand fails silver.not_null; silver.kept_rows passes (the loss is counted once)
    and says so, instead of claiming every row was kept."""
    results = with_silver(layers, exp, raw, required=SILVER["required"] + " AND brand IS NOT NULL")
    assert results["silver.not_null"].status == "failed"
    kept = results["silver.kept_rows"]
    assert kept.status == "passed" and "beyond the" in kept.message and "rule check" in kept.message, kept.message


def test_a_dedup_key_without_product_id_fails_the_dedup_rule_only(layers: Layers, exp: Expectations,
                                                                  raw: Path) -> None:
    """The grader's data always has two products viewed in one second of a session: a key without product_id
    merges them, and rule 5 says so (the lost rows are not 'unexplained', so nothing else is skipped)."""
    results = with_silver(layers, exp, raw, key="user_session, event_time, event_type")
    assert_only_failure(results, "silver.dedup", "not duplicates")


def test_a_price_tier_boundary_off_by_one_fails_the_derived_rule_only(layers: Layers, exp: Expectations,
                                                                      raw: Path) -> None:
    """The grader's data always has prices of exactly 10.00 and 50.00: `<=` instead of `<` is seen every time."""
    results = with_silver(layers, exp, raw, tier="CASE WHEN price <= 10 THEN 'budget' WHEN price <= 50 THEN 'mid' "
                                                 "ELSE 'premium' END")
    assert_only_failure(results, "silver.derived", "price_tier")


def test_a_twelve_hour_clock_fails_the_parse_rule_and_gold_is_judged_on_that_silver(layers: Layers,
                                                                                     exp: Expectations,
                                                                                     raw: Path) -> None:
    """`hh` for `HH` drops the times at hours 00 and 13-23 (and moves 12 o'clock to 00): rule 1 names the lost rows,
    silver.kept_rows says so, the other rules judge the rows kept, and gold, right on that silver, keeps its points."""
    twelve_hour = "try_to_timestamp(event_time, \"yyyy-MM-dd hh:mm:ss 'UTC'\")"
    results = with_gold(layers, exp, raw, silver={"time": twelve_hour})
    assert_only_failure(results, "silver.parse_time", "12-hour `hh`")
    kept = results["silver.kept_rows"]
    assert "by silver.parse_time" in kept.message, kept.message


def test_rows_lost_for_no_rule_cost_kept_rows_and_values_only(layers: Layers, exp: Expectations, raw: Path) -> None:
    """A third of the products gone for no rule's reason: silver.kept_rows fails without gating the rule checks,
    silver.values is skipped (the loss is marked once), and gold is judged on the learner's own silver."""
    results = with_gold(layers, exp, raw,
                        silver={"required": SILVER["required"] + " AND try_cast(product_id AS BIGINT) % 3 <> 0"})
    lost = {k: (r.status, r.message) for k, r in results.items() if r.status != "passed"}
    assert set(lost) == {"silver.kept_rows", "silver.values"}, lost
    assert lost["silver.kept_rows"][0] == "failed" and "the rule checks judge the rows it kept" in lost[
        "silver.kept_rows"][1]
    assert lost["silver.values"][0] == "skipped" and "silver.kept_rows" in lost["silver.values"][1]
