"""The grader's own expectations, from the raw CSV, in pandas.

``events_every_rule.csv`` is small enough to work out by hand from the silver rules in docs/contract.md; the
answers below were derived that way (line numbers are the file's, header = line 1). A generated file then checks
the properties that must hold for any data.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from checkers.data.generate import DIRT_RULES, GenerateResult, generate_events
from checkers.errors import DataError
from checkers.grading.expect import (
    Expectations,
    compute_expectations,
    expected_silver,
    read_raw,
    round_half_up,
)

FILES = Path(__file__).resolve().parent.parent / "files" / "data"
EVERY_RULE = FILES / "events_every_rule.csv"

D1, D2 = date(2019, 10, 1), date(2019, 10, 2)
# (file line, event_time, event_type, product_id, category_code, brand, price, user_id, session, date, tier)
SILVER_BY_HAND = [
    (2, "2019-10-01 10:00:00", "view", 1001, "electronics.smartphone", "apple", 500.00, 11, "s-1", D1, "premium"),
    (4, "2019-10-01 10:01:00", "view", 1002, "unknown", "unknown", 5.50, 11, "s-1", D1, "budget"),
    (5, "2019-10-01 10:02:00", "cart", 1001, "electronics.smartphone", "apple", 500.00, 11, "s-1", D1, "premium"),
    (6, "2019-10-01 10:03:00", "purchase", 1001, "electronics.smartphone", "apple", 500.00, 11, "s-1", D1,
     "premium"),
    (19, "2019-10-01 11:10:00", "view", 1004, "electronics.smartphone", "samsung", 9999.99, 12, "s-2", D1,
     "premium"),
    (20, "2019-10-01 11:11:00", "view", 1003, "appliances.kitchen.kettle", "tefal", 49.99, 12, "s-2", D1, "mid"),
    (21, "2019-10-01 11:12:00", "cart", 1003, "appliances.kitchen.kettle", "tefal", 49.99, 12, "s-2", D1, "mid"),
    (22, "2019-10-01 11:13:00", "purchase", 1003, "appliances.kitchen.kettle", "tefal", 49.99, 12, "s-2", D1, "mid"),
    (23, "2019-10-01 23:59:59", "view", 1001, "electronics.smartphone", "apple", 500.00, 12, "s-3", D1, "premium"),
    (24, "2019-10-02 00:00:00", "view", 1001, "electronics.smartphone", "apple", 500.00, 12, "s-3", D2, "premium"),
    (25, "2019-10-02 00:00:05", "purchase", 1003, "appliances.kitchen.kettle", "tefal", 49.99, 13, "s-4", D2, "mid"),
    (27, "2019-10-02 09:00:00", "cart", 1005, "appliances.kitchen.kettle", "unknown", 10.00, 13, "s-4", D2, "mid"),
    (28, "2019-10-02 09:01:00", "remove_from_cart", 1005, "appliances.kitchen.kettle", "unknown", 10.00, 13, "s-4",
     D2, "mid"),
    (29, "2019-10-02 09:02:00", "purchase", 1002, "unknown", "unknown", 5.50, 13, "s-4", D2, "budget"),
    (30, "2019-10-02 10:00:00", "view", 1002, "unknown", "unknown", 5.50, 13, "  ", D2, "budget"),
]
CATEGORY_ID = {1001: 2001, 1002: 2002, 1003: 2003, 1004: 2001, 1005: 2003}


@pytest.fixture(scope="module")
def every_rule() -> Expectations:
    return compute_expectations(path=EVERY_RULE)


# ── the hand-worked file ─────────────────────────────────────────────────────────────────────
def test_bronze_is_every_raw_row_and_names_the_file(every_rule: Expectations) -> None:
    assert every_rule.bronze.rows == 32
    assert every_rule.bronze.source_file == EVERY_RULE
    assert every_rule.raw.loc[2, "event_type"] == " View"  # raw text, as Spark's CSV reader sees it
    assert every_rule.raw.loc[28, "user_session"] == "  "  # only an empty field is null
    typed = every_rule.bronze.frame
    assert typed.loc[0, "product_id"] == 1001 and typed.loc[0, "price"] == 500.0
    assert pd.isna(typed.loc[16, "price"]) and pd.isna(typed.loc[9, "product_id"])


def test_each_rule_drops_the_rows_worked_out_by_hand(every_rule: Expectations) -> None:
    silver = every_rule.silver
    assert [(d.rule, d.rows) for d in silver.drops] == [
        (1, 3),  # lines 7 (10/01/2019 …), 31 (Feb 29), 32 (single-digit day); line 8's null time is rule 2
        (2, 5),  # lines 8-12: null event_time, user_session, event_type, product_id, user_id
        (3, 3),  # lines 13 (wishlist), 14 (only spaces), 33 (a tab: Spark's trim removes spaces only)
        (4, 4),  # lines 15 (0.00), 16 (10000.00), 17 (-5.00), 18 (null price)
        (5, 2),  # lines 3 and 26, repeats of lines 2 and 25
    ]
    assert silver.rows == 32 - 17 == len(SILVER_BY_HAND)
    assert silver.drop(4).name == "price_out_of_range" and "10000" in silver.drop(4).description
    assert silver.normalized_event_types == 4  # lines 4, 6, 25, 26 (26 is then a duplicate)
    assert silver.unknown_brands == 5 and silver.unknown_category_codes == 3


def test_silver_rows_values_and_types_match_the_hand_answer(every_rule: Expectations) -> None:
    frame = every_rule.silver.frame
    expected = pd.DataFrame({
        "event_time": pd.to_datetime([r[1] for r in SILVER_BY_HAND]).tz_localize("UTC"),
        "event_type": [r[2] for r in SILVER_BY_HAND],
        "product_id": np.array([r[3] for r in SILVER_BY_HAND], dtype="int64"),
        "category_id": pd.array([CATEGORY_ID[r[3]] for r in SILVER_BY_HAND], dtype="Int64"),
        "category_code": [r[4] for r in SILVER_BY_HAND],
        "brand": [r[5] for r in SILVER_BY_HAND],
        "price": [r[6] for r in SILVER_BY_HAND],
        "user_id": np.array([r[7] for r in SILVER_BY_HAND], dtype="int64"),
        "user_session": [r[8] for r in SILVER_BY_HAND],
        "event_date": pd.Series([r[9] for r in SILVER_BY_HAND], dtype=object),
        "price_tier": [r[10] for r in SILVER_BY_HAND],
    })
    pd.testing.assert_frame_equal(frame, expected, check_dtype=True)
    assert str(frame["event_time"].dtype) == "datetime64[ns, UTC]"
    assert all(type(d) is date for d in frame["event_date"])


def test_gold_product_metrics_match_the_hand_answer(every_rule: Expectations) -> None:
    gold = every_rule.gold_product_metrics
    expected = pd.DataFrame({
        "product_id": np.array([1001, 1002, 1003, 1004, 1005], dtype="int64"),
        "views": np.array([2, 2, 1, 1, 0], dtype="int64"),  # 1001: users 11 and 12 (12 twice)
        "carts": np.array([1, 0, 1, 0, 1], dtype="int64"),
        "purchases": np.array([1, 1, 2, 0, 0], dtype="int64"),  # 1003: user 13 bought without a view
        "revenue": [500.00, 5.50, 99.98, 0.0, 0.0],
        "conversion_rate": [50.00, 50.00, 200.00, 0.00, math.nan],  # 1005 has no views → null
    })
    pd.testing.assert_frame_equal(gold, expected)


def test_gold_daily_sales_match_the_hand_answer(every_rule: Expectations) -> None:
    daily = every_rule.gold_daily_sales
    expected = pd.DataFrame({
        "event_date": pd.Series([D1, D2], dtype=object),
        "orders": np.array([2, 2], dtype="int64"),
        "buyers": np.array([2, 1], dtype="int64"),  # on 10-02 user 13 bought twice
        "revenue": [549.99, 55.49],
        "avg_order_value": [275.00, 27.75],  # 274.995 and 27.745 round half up
    })
    pd.testing.assert_frame_equal(daily, expected)


def test_expected_silver_alone_equals_the_entry_points_silver(every_rule: Expectations) -> None:
    alone = expected_silver(raw=read_raw(path=EVERY_RULE))
    pd.testing.assert_frame_equal(alone.frame, every_rule.silver.frame)
    assert alone.drops == every_rule.silver.drops


@pytest.mark.parametrize(("value", "matches"), [
    ("file:///tmp/x/events_every_rule.csv", True),
    ("file:/tmp/x/events_every_rule.csv", True),
    ("dbfs:/Volumes/workspace/ecommerce/ecommerce_data/events_every_rule.csv", True),
    ("/Volumes/workspace/ecommerce/ecommerce_data/events_every_rule.csv", True),
    ("file:///tmp/x/other.csv", False),
    ("", False),
    (None, False),
])
def test_source_file_values_are_matched_by_file_name(every_rule: Expectations, value: str | None,
                                                     matches: bool) -> None:
    assert every_rule.bronze.matches_source_file(value) is matches


def test_percent_encoded_source_file_uris_are_decoded(tmp_path: Path) -> None:
    path = tmp_path / "my events.csv"
    path.write_bytes(EVERY_RULE.read_bytes())
    expectations = compute_expectations(path=path)
    assert expectations.bronze.matches_source_file(f"file://{tmp_path}/my%20events.csv")


def test_rounding_is_sparks_half_up_not_bankers() -> None:
    # Spark 4: round(2.675D, 2) = 2.68, round(1.005D, 2) = 1.01, round(0.125D, 2) = 0.13, round(0.285D, 2) = 0.29
    got = round_half_up(np.array([2.675, 1.005, 0.125, 0.285, -2.675, 3.0, math.nan]))
    np.testing.assert_array_equal(got, [2.68, 1.01, 0.13, 0.29, -2.68, 3.0, math.nan])


def test_a_file_with_only_a_header_gives_empty_tables(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(EVERY_RULE.read_text().splitlines()[0] + "\n")
    e = compute_expectations(path=path)
    assert e.bronze.rows == 0 and e.silver.rows == 0
    assert [d.rows for d in e.silver.drops] == [0, 0, 0, 0, 0]
    assert e.gold_product_metrics.empty and list(e.gold_product_metrics.columns)[0] == "product_id"
    assert e.gold_daily_sales.empty and list(e.gold_daily_sales.columns)[-1] == "avg_order_value"


# ── unusable input ───────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize(("name", "words"), [
    ("events_missing_column.csv", "the contract's are"),
    ("events_bad_product_id.csv", "data row 1: product_id '10O1' is not a whole number"),
    ("events_ragged_row.csv", "more fields than the header"),
    ("no_such_file.csv", "does not exist"),
])
def test_unusable_files_raise_a_data_error_naming_the_file(name: str, words: str) -> None:
    with pytest.raises(DataError, match=words) as caught:
        compute_expectations(path=FILES / name)
    assert name in str(caught.value)


def test_an_empty_file_is_a_data_error(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_bytes(b"")
    with pytest.raises(DataError, match="is empty"):
        compute_expectations(path=tmp_path / "e.csv")


# ── properties on generated data ─────────────────────────────────────────────────────────────
@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[GenerateResult, Expectations]:
    out = tmp_path_factory.mktemp("expect") / "events.csv"
    result = generate_events(out=out, rows=40_000, seed=77, start=date(2019, 10, 1), days=3)
    return result, compute_expectations(path=out)


def test_drops_add_up_and_match_the_dirt_the_generator_injected(
        generated: tuple[GenerateResult, Expectations]) -> None:
    result, e = generated
    assert e.bronze.rows == result.rows
    assert e.silver.rows <= e.bronze.rows
    assert sum(d.rows for d in e.silver.drops) == e.bronze.rows - e.silver.rows
    injected = {rule: 0 for rule in range(1, 6)}
    for kind, count in result.dirt.as_dict().items():
        if kind != "messy_event_type":
            injected[DIRT_RULES[kind]] += count
    assert {d.rule: d.rows for d in e.silver.drops} == injected
    assert e.silver.normalized_event_types == result.dirt.messy_event_type


def test_silver_obeys_every_rule(generated: tuple[GenerateResult, Expectations]) -> None:
    frame = generated[1].silver.frame
    assert frame[["event_time", "event_type", "product_id", "user_id", "user_session"]].notna().all().all()
    assert set(frame["event_type"]) == {"view", "cart", "remove_from_cart", "purchase"}
    assert ((frame["price"] > 0) & (frame["price"] < 10_000)).all()
    assert not frame.duplicated(subset=["user_session", "event_time", "event_type", "product_id"]).any()
    assert frame[["brand", "category_code"]].notna().all().all() and (frame["brand"] == "unknown").any()
    assert (frame["event_date"] == frame["event_time"].dt.tz_convert("UTC").dt.date).all()
    tier = np.where(frame["price"] < 10, "budget", np.where(frame["price"] < 50, "mid", "premium"))
    assert (frame["price_tier"] == tier).all()
    assert set(frame["price_tier"]) == {"budget", "mid", "premium"}


def test_gold_covers_silver(generated: tuple[GenerateResult, Expectations]) -> None:
    e = generated[1]
    silver, products, daily = e.silver.frame, e.gold_product_metrics, e.gold_daily_sales
    assert list(products["product_id"]) == sorted(silver["product_id"].unique())
    purchases = silver[silver["event_type"] == "purchase"]
    assert list(daily["event_date"]) == sorted(set(purchases["event_date"]))
    assert daily["orders"].sum() == len(purchases)
    assert (daily["buyers"] <= daily["orders"]).all()
    assert daily["revenue"].sum() == pytest.approx(purchases["price"].sum(), abs=0.01 * len(daily))
    assert products["revenue"].sum() == pytest.approx(purchases["price"].sum(), abs=0.01 * len(products))
    assert products["purchases"].sum() >= len(daily)
    no_views = products["views"] == 0
    assert products.loc[no_views, "conversion_rate"].isna().all()
    assert products.loc[~no_views, "conversion_rate"].notna().all()
    assert (products.loc[products["purchases"] == 0, "revenue"] == 0).all()


def test_gradings_of_the_same_data_share_one_computation(tmp_path: Path) -> None:
    import shutil

    from checkers.grading.grade import expectations_for

    first = tmp_path / "alice" / "events.csv"
    first.parent.mkdir()
    generate_events(out=first, rows=2000, seed=11)
    second = tmp_path / "bob" / "events.csv"
    second.parent.mkdir()
    shutil.copy(first, second)
    a = expectations_for(path=first, data=first.read_bytes())
    b = expectations_for(path=second, data=second.read_bytes())
    assert a.raw is b.raw and a.derived is b.derived and "raw_fates" in a.derived  # worked out once, shared
    assert (a.source_file, b.source_file) == (first.resolve(), second.resolve())  # each names its own file
    assert (a.bronze.source_file, b.bronze.source_file) == (first.resolve(), second.resolve())
    other = tmp_path / "carol.csv"
    generate_events(out=other, rows=2000, seed=12)
    c = expectations_for(path=other, data=other.read_bytes())
    assert c.raw is not a.raw and not c.raw.equals(a.raw)  # other data: worked out again
    again = expectations_for(path=first, data=first.read_bytes())
    assert again.raw is a.raw  # several seeds stay known at once (gradings side by side)


def test_expectations_come_from_the_bytes_read_before_the_job_not_the_file_after(tmp_path: Path) -> None:
    """A notebook that rewrites the unseen data file while it runs changes nothing the grader expects."""
    from checkers.grading.grade import expectations_for

    path = tmp_path / "events.csv"
    generate_events(out=path, rows=2000, seed=21)
    before = path.read_bytes()
    path.write_text(before.decode().splitlines()[0] + "\n")  # the file, emptied by a notebook
    exp = expectations_for(path=path, data=before)
    assert exp.bronze.rows == 2000 and exp.source_file == path.resolve()
