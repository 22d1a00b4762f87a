"""Gold: both tables value by value, against numbers the grader computes itself (docs/contract.md, Gold).

The expected numbers come from :mod:`checkers.grading.expect`. When the learner's silver differs from the
contract's (rows changed, kept or lost), gold is judged against gold computed the same way from the learner's own
silver, so a silver mistake is not counted again in gold. Only a silver that holds too few of the expected rows to
judge anything on (see :func:`checkers.grading.checks.silver.too_few_rows`) leaves gold unjudged.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from checkers.grading.checks.common import (
    MONEY_TOLERANCE,
    columns_problem,
    has_columns,
    needs_columns,
    plural,
    table_written,
    thousands,
    verdict,
)
from checkers.grading.checks.evidence import Evidence
from checkers.grading.checks.registry import Outcome, check, failed, failed_alone, skipped
from checkers.grading.expect import (
    DAILY_SALES_COLUMNS,
    PRODUCT_METRICS_COLUMNS,
    expected_gold_daily_sales,
    expected_gold_product_metrics,
    round_half_up,
)

_BASIS_COLUMNS = ("product_id", "event_type", "user_id", "price", "event_date")
_NUMERIC = ("tinyint", "smallint", "int", "bigint", "float", "double")


class _Basis:
    """The gold tables expected, and what they were computed from (for messages)."""

    def __init__(self, product_metrics: pd.DataFrame, daily_sales: pd.DataFrame, source: str,
                 null_groups: tuple[str, ...] = ()) -> None:
        self.product_metrics = product_metrics
        self.daily_sales = daily_sales
        self.source = source
        self.null_groups = null_groups
        """Keys (product_id, event_date) for which the learner's silver has nulls, so gold has a null group too:
        a silver problem, reported there, not again here."""


def _basis(ev: Evidence) -> _Basis | str:
    """The expected gold tables, or why gold cannot be judged."""
    if "gold_basis" in ev.cache:
        return ev.cache["gold_basis"]
    ev.cache["gold_basis"] = basis = _compute_basis(ev)
    return basis


def _compute_basis(ev: Evidence) -> _Basis | str:
    exp = ev.expectations
    if exp is None:
        return f"no expectations: {ev.expectations_error}"
    from_raw = _Basis(exp.gold_product_metrics, exp.gold_daily_sales, "the raw data")
    if ev.gold_on_expected_silver:  # gold read the grader's silver, not the learner's
        return from_raw
    from checkers.grading.checks import silver

    if silver.columns(ev).status != "passed" or ev.table("silver_events").frame is None:
        return from_raw
    too_few = silver.too_few_rows(ev)
    if too_few:  # gold on a nearly empty silver is no evidence that gold works
        return f"{too_few}, too few for gold to be judged on it until silver keeps them"
    frame = ev.table("silver_events").frame
    assert frame is not None
    own = frame.loc[:, list(_BASIS_COLUMNS)].copy()
    own = own[_whole(own["product_id"]) & own["event_type"].notna()]
    own["product_id"] = pd.to_numeric(own["product_id"]).astype("int64")
    own["price"] = own["price"].astype("float64")
    pm = expected_gold_product_metrics(silver=own)
    ds = expected_gold_daily_sales(silver=own[own["event_date"].notna()])
    if _same(pm, exp.gold_product_metrics) and _same(ds, exp.gold_daily_sales):
        return from_raw
    purchases = frame[frame["event_type"] == "purchase"]
    nulls = tuple(k for k, present in (("product_id", frame["product_id"].isna().any()),
                                       ("event_date", purchases["event_date"].isna().any())) if present)
    return _Basis(pm, ds, "your silver_events (which differs from the expected silver)", nulls)


def _whole(ids: pd.Series) -> pd.Series:
    """Which ids are whole numbers (a null, an infinity, a fraction or a text is no product id)."""
    numeric = pd.to_numeric(ids, errors="coerce").astype("float64")
    return pd.Series(np.isfinite(numeric) & (numeric % 1 == 0), index=ids.index)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if a.shape != b.shape:
        return False
    try:
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False,
                                      check_exact=False, atol=1e-9)
    except AssertionError:
        return False
    return True


def _as_float(values: pd.Series) -> pd.Series:
    def one(v: Any) -> float:
        if v is None or v is pd.NA:
            return math.nan
        try:
            return float(v)
        except (TypeError, ValueError):
            return math.nan

    return pd.Series([one(v) for v in values], index=values.index, dtype="float64")


def _table_check(ev: Evidence, name: str, expected: tuple[str, ...], keys: dict[str, str]) -> Outcome:
    first = table_written(ev, name, "03_gold")
    if first.status != "passed":
        return first
    snap = ev.table(name)
    problem = columns_problem(snap, expected, what=name)
    if problem and not has_columns(snap, expected[:1]):  # no key column: nothing else can be judged
        return failed(problem)
    wrong = []
    for column in (c for c in expected if c in snap.columns):
        have = snap.dtypes.get(column, "")
        want = keys.get(column, "number")
        ok = have == "date" if want == "date" else (have in _NUMERIC or have.startswith("decimal("))
        if not ok:
            wrong.append(f"{column} is {have}, expected {'a date' if want == 'date' else 'a number'}")
    if problem and not wrong:  # extra or missing columns: the checks of the columns it has still judge them
        return failed_alone(problem)
    if problem:
        wrong.insert(0, problem)
    return verdict(wrong, f"{snap.qualified} exists with {', '.join(expected)} ({plural(snap.rows, 'row')})",
                   prefix="" if problem else f"{snap.qualified}: ")


def _aligned(ev: Evidence, name: str, key: str, expected: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The learner's rows and the expected rows, both indexed by ``key`` (only keys in both)."""
    frame = ev.table(name).frame
    assert frame is not None
    have = frame.copy()
    if key == "product_id":
        have = have[_whole(have[key])]
        have[key] = pd.to_numeric(have[key]).astype("int64")
    have = have.drop_duplicates(subset=[key]).set_index(key)
    want = expected.set_index(key)
    common = want.index.intersection(have.index)
    return have.loc[common], want.loc[common]


def _rows_outcome(ev: Evidence, name: str, key: str, expected: pd.DataFrame, what: str) -> Outcome:
    basis = _basis(ev)
    frame = ev.table(name).frame
    assert frame is not None
    keys = frame[key]
    nulls = int(keys.isna().sum())
    odd = 0
    if key == "product_id":
        whole = _whole(keys)
        odd = int((~whole & keys.notna()).sum())
        keys = pd.to_numeric(keys[whole]).astype("int64")
    dups = int(keys.dropna().duplicated().sum())
    want = set(expected[key].tolist())
    have = set(keys.dropna().astype("int64" if key == "product_id" else object).tolist())
    missing, extra = want - have, have - want
    problems: list[str | None] = []
    if dups:
        problems.append(f"{plural(dups, f'{key} appears', f'{key}s appear')} more than once")
    if nulls and not (isinstance(basis, _Basis) and key in basis.null_groups):
        problems.append(f"{plural(nulls, 'row')} with a null {key}")
    if odd:
        problems.append(f"{plural(odd, 'row')} whose {key} is not a whole number (an infinity, a fraction)")
    if missing:
        problems.append(f"{plural(len(missing), 'expected ' + what)} missing (e.g. {sorted(missing)[0]})")
    if extra:
        problems.append(f"{plural(len(extra), what)} that should not be there (e.g. {sorted(extra)[0]})")
    source = basis.source if isinstance(basis, _Basis) else "the raw data"
    return verdict(problems, f"one row for each of the {thousands(len(want))} {what}s",
                   prefix=f"expected one row per {what} ({thousands(len(want))}, from {source}), found "
                          f"{thousands(len(frame))} rows: ")


def _counts_outcome(ev: Evidence, name: str, key: str, expected: pd.DataFrame, columns: tuple[str, ...],
                    what: str, distinct_hint: str) -> Outcome:
    have, want = _aligned(ev, name, key, expected)
    problems: list[str | None] = []
    hint = None
    for column in columns:
        h, w = _as_float(have[column]), want[column].astype("float64")
        differs = ~(h == w)
        if differs.any():
            first = differs[differs].index[0]
            problems.append(f"{column} differs for {thousands(int(differs.sum()))} of {thousands(len(w))} {what}s "
                            f"(e.g. {what} {first}: expected {thousands(w[first])}, found {_show(h[first])})")
            if (h[differs] > w[differs]).all():
                hint = distinct_hint
    return verdict(problems, f"{', '.join(columns)} match for all {thousands(len(want))} {what}s", hint=hint)


def _show(value: float) -> str:
    return "null" if math.isnan(value) else thousands(value) if float(value).is_integer() else f"{value:.4g}"


def _money_outcome(ev: Evidence, name: str, key: str, expected: pd.DataFrame, column: str, what: str,
                   *, nullable: bool = False) -> str | None:
    have, want = _aligned(ev, name, key, expected)
    h, w = _as_float(have[column]), want[column].astype("float64")
    both_null = h.isna() & w.isna()
    close = (h - w).abs() <= MONEY_TOLERANCE
    differs = ~(both_null | close)
    if not differs.any():
        return None
    first = differs[differs].index[0]
    text = (f"{column} differs for {thousands(int(differs.sum()))} of {thousands(len(w))} {what}s (e.g. {what} "
            f"{first}: expected {_money(w[first])}, found {_money(h[first])})")
    if not nullable and h[differs].isna().all() and (w[differs] == 0).all():
        text += f": {column} is null where it should be 0"
    return text


def _money(value: float) -> str:
    return "null" if math.isnan(value) else f"{value:.2f}"


def _unrounded(values: pd.Series, column: str, what: str) -> str | None:
    """Which values of ``column`` have more than 2 decimals (the contract rounds money and rates to 2)."""
    scaled = values.dropna() * 100
    off = (scaled - np.round(scaled)).abs() > 1e-6 * scaled.abs().clip(lower=1)
    if not off.any():
        return None
    first = off[off].index[0]
    return (f"{column} is not rounded to 2 decimals for {thousands(int(off.sum()))} of {thousands(len(scaled))} "
            f"{what}s (e.g. {what} {first}: {values[first]!r}): use F.round(..., 2)")


def _judged(ev: Evidence) -> _Basis | Outcome:
    basis = _basis(ev)
    return basis if isinstance(basis, _Basis) else skipped(basis)


def _on_basis(judge: Callable[[Evidence, _Basis], Outcome]) -> Callable[[Evidence], Outcome]:
    """A check that compares with the expected gold tables: skipped, saying why, when gold cannot be judged."""

    @functools.wraps(judge)
    def run(ev: Evidence) -> Outcome:
        basis = _judged(ev)
        return basis if isinstance(basis, Outcome) else judge(ev, basis)

    return run


# --------------------------------------------------------------------------------------------- product metrics

_PM = "gold_product_metrics"


@check("gold.product_metrics.table", points=2, title="gold_product_metrics is written with its 6 columns",
       hint="Write f\"{schema}.gold_product_metrics\" with product_id, views, carts, purchases, revenue and "
            "conversion_rate.", docs="gold.md")
def pm_table(ev: Evidence) -> Outcome:
    return _table_check(ev, _PM, PRODUCT_METRICS_COLUMNS, {})


@check("gold.product_metrics.rows", points=2, title="one row per product_id in silver",
       hint="groupBy(\"product_id\") over all of silver (every event type), not only the purchases.", docs="gold.md",
       requires=("gold.product_metrics.table",))
@needs_columns(_PM, "product_id")
@_on_basis
def pm_rows(ev: Evidence, basis: _Basis) -> Outcome:
    return _rows_outcome(ev, _PM, "product_id", basis.product_metrics, "product")


@check("gold.product_metrics.counts", points=3, title="views, carts, purchases count distinct users",
       hint="Count distinct users per event type: F.count_distinct(F.when(F.col(\"event_type\") == \"view\", "
            "F.col(\"user_id\"))).", docs="gold.md", requires=("gold.product_metrics.rows",))
@needs_columns(_PM, "product_id", "views", "carts", "purchases")
@_on_basis
def pm_counts(ev: Evidence, basis: _Basis) -> Outcome:
    return _counts_outcome(ev, _PM, "product_id", basis.product_metrics, ("views", "carts", "purchases"), "product",
                           "These count users, not events: a user who views a product five times counts once "
                           "(count_distinct on user_id).")


@check("gold.product_metrics.revenue", points=3, title="revenue = purchase prices summed, rounded to 2 (0 if none)",
       hint="F.round(F.coalesce(F.sum(F.when(event_type == \"purchase\", price)), F.lit(0.0)), 2): only purchases, "
            "and 0 for a product nobody bought.", docs="gold.md", requires=("gold.product_metrics.rows",))
@needs_columns(_PM, "product_id", "revenue")
@_on_basis
def pm_revenue(ev: Evidence, basis: _Basis) -> Outcome:
    have, _ = _aligned(ev, _PM, "product_id", basis.product_metrics)
    problems = [_money_outcome(ev, _PM, "product_id", basis.product_metrics, "revenue", "product"),
                _unrounded(_as_float(have["revenue"]), "revenue", "product")]
    return verdict(problems, f"revenue matches for all {thousands(len(basis.product_metrics))} products (within "
                             "0.01), rounded to 2")


@check("gold.product_metrics.conversion", points=3,
       title="conversion_rate = purchases / views * 100, rounded to 2, null if no views",
       hint="F.when(F.col(\"views\") > 0, F.round(F.col(\"purchases\") / F.col(\"views\") * 100, 2)): a percentage, "
            "and null (not 0) when views is 0.", docs="gold.md", requires=("gold.product_metrics.rows",))
@needs_columns(_PM, "product_id", "views", "purchases", "conversion_rate")
@_on_basis
def pm_conversion(ev: Evidence, basis: _Basis) -> Outcome:
    have, _ = _aligned(ev, _PM, "product_id", basis.product_metrics)
    # judged against the table's own views and purchases (gold.product_metrics.counts checks those)
    h = _as_float(have["conversion_rate"])
    views, purchases = _as_float(have["views"]), _as_float(have["purchases"])
    w = pd.Series(round_half_up((purchases / views.where(views > 0)).to_numpy() * 100), index=have.index)
    problems = [_unrounded(h, "conversion_rate", "product")]
    should_null = w.isna() & h.notna()
    if should_null.any():
        problems.append(f"conversion_rate is set for {plural(int(should_null.sum()), 'product')} with no views "
                        f"(e.g. product {should_null[should_null].index[0]}: {_show(h[should_null].iloc[0])}); it "
                        "must be null")
    hint = None
    valued = w.notna()
    differs = valued & ~((h - w).abs() <= MONEY_TOLERANCE)
    if differs.any():
        first = differs[differs].index[0]
        problems.append(f"conversion_rate is not purchases / views * 100 for {thousands(int(differs.sum()))} of "
                        f"{thousands(int(valued.sum()))} products (e.g. product {first}: {_show(purchases[first])} / "
                        f"{_show(views[first])} * 100 = {_money(w[first])}, found {_money(h[first])})")
        ratio = (h[differs] / w[differs]).replace([np.inf, -np.inf], np.nan).dropna()
        if len(ratio) and ((ratio - 0.01).abs() < 0.001).mean() > 0.8:
            hint = "It looks like a fraction: multiply purchases / views by 100."
    return verdict(problems, f"conversion_rate = purchases / views * 100 for all {thousands(len(w))} products (null "
                             "where views is 0)", hint=hint)


# --------------------------------------------------------------------------------------------- daily sales

_DS = "gold_daily_sales"


@check("gold.daily_sales.table", points=2, title="gold_daily_sales is written with its 5 columns",
       hint="Write f\"{schema}.gold_daily_sales\" with event_date, orders, buyers, revenue and avg_order_value.",
       docs="gold.md")
def ds_table(ev: Evidence) -> Outcome:
    return _table_check(ev, _DS, DAILY_SALES_COLUMNS, {"event_date": "date"})


@check("gold.daily_sales.rows", points=1, title="one row per event_date with a purchase",
       hint="filter(event_type == \"purchase\") first, then groupBy(\"event_date\").", docs="gold.md",
       requires=("gold.daily_sales.table",))
@needs_columns(_DS, "event_date")
@_on_basis
def ds_rows(ev: Evidence, basis: _Basis) -> Outcome:
    return _rows_outcome(ev, _DS, "event_date", basis.daily_sales, "day")


@check("gold.daily_sales.counts", points=2, title="orders = purchase events, buyers = distinct users",
       hint="orders: F.count(\"*\") of the day's purchases; buyers: F.count_distinct(\"user_id\").", docs="gold.md",
       requires=("gold.daily_sales.rows",))
@needs_columns(_DS, "event_date", "orders", "buyers")
@_on_basis
def ds_counts(ev: Evidence, basis: _Basis) -> Outcome:
    return _counts_outcome(ev, _DS, "event_date", basis.daily_sales, ("orders", "buyers"), "day",
                           "buyers counts distinct users (F.count_distinct(\"user_id\")); orders counts purchase "
                           "events only.")


@check("gold.daily_sales.revenue", points=2,
       title="revenue rounded to 2; avg_order_value = revenue / orders, rounded to 2",
       hint="revenue = F.round(F.sum(\"price\"), 2) over the day's purchases; avg_order_value = "
            "F.round(revenue / orders, 2).", docs="gold.md", requires=("gold.daily_sales.rows",))
@needs_columns(_DS, "event_date", "revenue", "orders", "avg_order_value")
@_on_basis
def ds_revenue(ev: Evidence, basis: _Basis) -> Outcome:
    problems = [_money_outcome(ev, _DS, "event_date", basis.daily_sales, "revenue", "day")]
    have, _ = _aligned(ev, _DS, "event_date", basis.daily_sales)
    revenue, orders, aov = _as_float(have["revenue"]), _as_float(have["orders"]), _as_float(have["avg_order_value"])
    problems += [_unrounded(revenue, "revenue", "day"), _unrounded(aov, "avg_order_value", "day")]
    # judged against the table's own revenue and orders (revenue is checked above, orders by the counts check)
    want = pd.Series(round_half_up((revenue / orders.where(orders > 0)).to_numpy()), index=have.index)
    differs = ~((aov - want).abs() <= MONEY_TOLERANCE) & want.notna()
    if differs.any():
        first = differs[differs].index[0]
        problems.append(f"avg_order_value is not revenue / orders for {thousands(int(differs.sum()))} of "
                        f"{thousands(len(want))} days (e.g. day {first}: {_money(revenue[first])} / "
                        f"{_show(orders[first])} = {_money(want[first])}, found {_money(aov[first])})")
    return verdict(problems, f"revenue and avg_order_value match for all {thousands(len(basis.daily_sales))} days "
                             "(within 0.01), rounded to 2")
