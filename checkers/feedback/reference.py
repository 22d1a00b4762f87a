"""The solution's pipeline, step by step, to finish a learner's DataFrame after the step a check cell judges.

A check cell after silver rule 3 takes the learner's DataFrame at that point, applies rules 4 to 7 exactly as the
solution notebook does, and runs the grader's checks on the result. The rule's own check then judges that rule, and
a later rule that is still to do does not stand in the way. tests/feedback hold these functions to the solution
notebooks: finishing the solution's own DataFrame at any step gives the solution's table.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import functions as F

SILVER_COLUMNS = ["event_time", "event_type", "product_id", "category_id", "category_code", "brand", "price",
                  "user_id", "user_session", "event_date", "price_tier"]
REQUIRED = ["event_time", "event_type", "product_id", "user_id", "user_session"]
EVENT_TYPES = ["view", "cart", "remove_from_cart", "purchase"]
EVENT_KEY = ["user_session", "event_time", "event_type", "product_id"]
TIME_PATTERN = "yyyy-MM-dd HH:mm:ss 'UTC'"


def parse_time(typed: Any) -> Any:
    return (typed.withColumn("event_time", F.to_timestamp("event_time", TIME_PATTERN))
            .filter(F.col("event_time").isNotNull()))


def not_null(parsed: Any) -> Any:
    return parsed.dropna(subset=REQUIRED)


def event_type(complete: Any) -> Any:
    return (complete.withColumn("event_type", F.lower(F.trim(F.col("event_type"))))
            .filter(F.col("event_type").isin(EVENT_TYPES)))


def price(known_types: Any) -> Any:
    return known_types.filter((F.col("price") > 0) & (F.col("price") < 10000))


def dedup(priced: Any) -> Any:
    return priced.dropDuplicates(EVENT_KEY)


def fill_unknown(deduped: Any) -> Any:
    return deduped.fillna("unknown", subset=["brand", "category_code"])


def derive(filled: Any) -> Any:
    return (filled.withColumn("event_date", F.to_date("event_time"))
            .withColumn("price_tier", F.when(F.col("price") < 10, "budget")
                        .when(F.col("price") < 50, "mid")
                        .otherwise("premium")))


SILVER_STEPS = (("silver.parse_time", parse_time), ("silver.not_null", not_null), ("silver.event_type", event_type),
                ("silver.price", price), ("silver.dedup", dedup), ("silver.fill_unknown", fill_unknown),
                ("silver.derive", derive))
"""Exercise id → the solution's step, in the lesson's order."""


def finish_silver(frame: Any, *, after: str) -> Any:
    """``frame`` (the learner's DataFrame after exercise ``after``) through the solution's later rules, with the
    columns the notebook writes."""
    names = [name for name, _ in SILVER_STEPS]
    for _, step in SILVER_STEPS[names.index(after) + 1:]:
        frame = step(frame)
    return frame.select(*SILVER_COLUMNS)


def distinct_users(kind: str) -> Any:
    return F.count_distinct(F.when(F.col("event_type") == kind, F.col("user_id")))


def funnel(silver: Any) -> Any:
    return silver.groupBy("product_id").agg(distinct_users("view").alias("views"),
                                            distinct_users("cart").alias("carts"),
                                            distinct_users("purchase").alias("purchases"))


def revenue(silver: Any) -> Any:
    return silver.groupBy("product_id").agg(
        F.round(F.coalesce(F.sum(F.when(F.col("event_type") == "purchase", F.col("price"))), F.lit(0.0)), 2)
        .alias("revenue"))


def metrics(funnel_frame: Any, revenue_frame: Any) -> Any:
    """The join the lesson gives before the conversion exercise."""
    return funnel_frame.join(revenue_frame, "product_id")


def conversion(metrics_frame: Any) -> Any:
    return metrics_frame.withColumn(
        "conversion_rate", F.when(F.col("views") > 0, F.round(F.col("purchases") / F.col("views") * 100, 2)))


def daily_sales(silver: Any) -> Any:
    return (silver.filter(F.col("event_type") == "purchase")
            .groupBy("event_date")
            .agg(F.count("*").alias("orders"), F.count_distinct("user_id").alias("buyers"),
                 F.round(F.sum("price"), 2).alias("revenue"))
            .withColumn("avg_order_value", F.round(F.col("revenue") / F.col("orders"), 2)))
