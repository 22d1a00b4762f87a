"""What the learner's tables must hold, computed in pandas from the raw CSV alone.

The grader never trusts a notebook (the learner's or the solution's) to know the right answer: it
reads the raw file itself and applies the silver rules of docs/contract.md as written. The file is read with
every column as text first, the way Spark's CSV reader sees it, so the rules see the raw values (``" View"``):

- only an *empty* field is null (Spark's ``nullValue`` is ``""``; a quoted ``""`` is null too);
  a field of spaces is text, as in Spark, so a whitespace-only ``user_session`` survives rule 2 and
  a whitespace-only ``event_type`` is dropped by rule 3;
- "trimmed" means spaces only, as Spark's ``trim`` (a tab is kept, and the value is then unknown);
- a row with fewer fields gets nulls for the missing ones (as Spark's permissive mode); a row
  with more fields, or a number that is not a plain integer / decimal, is a :class:`DataError`,
  because the grader's own data never has them and guessing would make the expectation arbitrary.

Rule 1 parses exactly ``yyyy-MM-dd HH:mm:ss UTC``, the only shape the real file (and the kit's generator) writes;
an empty time is null. Every common Spark way of parsing that shape agrees: ``to_timestamp`` with the pattern
(ANSI mode on, as on Databricks Runtime 17+), ``try_to_timestamp``, or a cast after removing `` UTC``. A file
written by hand may still hold another shape: such a time counts as present but unparsable, for rule 1; a null
time counts for rule 2, with the other nulls. Rules run in the contract's order, each on what the previous ones
kept, so the drops add up to bronze − silver.

Money is rounded like Spark's ``round(x, 2)``: half up on the value's shortest decimal form.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from checkers.data import EVENT_TYPES, RAW_COLUMNS
from checkers.errors import DataError

SILVER_COLUMNS = (*RAW_COLUMNS, "event_date", "price_tier")
"""Silver's columns: the 9 raw ones (event_time as a timestamp), then the two rule-7 columns."""
DEDUP_KEY = ("user_session", "event_time", "event_type", "product_id")
"""Silver rule 5's key."""
PRODUCT_METRICS_COLUMNS = ("product_id", "views", "carts", "purchases", "revenue", "conversion_rate")
DAILY_SALES_COLUMNS = ("event_date", "orders", "buyers", "revenue", "avg_order_value")
MAX_PRICE = 10_000.0
"""Rule 4 keeps ``0 < price < MAX_PRICE``."""
UNKNOWN = "unknown"
"""Rule 6's stand-in for a null brand or category_code."""

# Two digits everywhere and real clock values: pandas alone would accept "2019-10-1" or second 60.
_TIME_TEXT = r"^\d{4}-\d{2}-\d{2} ([01]\d|2[0-3]):[0-5]\d:[0-5]\d UTC$"
_INT_COLUMNS = ("product_id", "category_id", "user_id")


@dataclass(frozen=True)
class RuleDrop:
    """How many rows one silver rule removes, applied after the rules before it."""

    rule: int
    """Silver rule number in docs/contract.md (1–5; rules 6 and 7 remove nothing)."""
    name: str
    """Short id, e.g. ``price_out_of_range``."""
    description: str
    """What the removed rows have, in words a message can quote."""
    rows: int
    """Rows this rule removes."""


@dataclass(frozen=True, eq=False)
class BronzeExpectation:
    """Bronze keeps every raw row unchanged."""

    rows: int
    """Data rows in the raw file."""
    source_file: Path
    """The raw file (resolved), which ``source_file`` must name."""
    frame: pd.DataFrame
    """The raw rows, numbers parsed (Int64 ids, float price), event_time still text."""

    def matches_source_file(self, value: str | None) -> bool:
        """Whether a bronze ``source_file`` value names the raw file.

        Spark writes it as a URI (``file:///…``, ``file:/…``, ``dbfs:/…``, percent-encoded) and a
        ``/Volumes`` path may be mapped to a local folder, so the file names are compared.
        """
        if not value:
            return False
        text = str(value)
        path = unquote(urlparse(text).path) if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", text) else text
        return Path(path.rstrip("/")).name == self.source_file.name


@dataclass(frozen=True, eq=False)
class SilverExpectation:
    """The cleaned events and what each rule did to get there."""

    frame: pd.DataFrame
    """Silver rows in file order: :data:`SILVER_COLUMNS`, event_time ``datetime64[ns, UTC]``,
    ids int64 (category_id Int64), price float64, event_date ``datetime.date`` objects."""
    drops: tuple[RuleDrop, ...]
    """Rows removed by rules 1–5, in the contract's order."""
    normalized_event_types: int
    """Kept rows whose event_type text rule 3 changed (spaces or case)."""
    unknown_brands: int
    """Silver rows whose brand rule 6 set to ``unknown``."""
    unknown_category_codes: int
    """Silver rows whose category_code rule 6 set to ``unknown``."""

    @property
    def rows(self) -> int:
        return len(self.frame)

    def drop(self, rule: int) -> RuleDrop:
        """The drop record of one rule (1–5)."""
        for d in self.drops:
            if d.rule == rule:
                return d
        raise KeyError(rule)


@dataclass(frozen=True, eq=False)
class Expectations:
    """Everything the grader compares a submission's tables with, from one raw file."""

    source_file: Path
    """The raw CSV the expectations come from."""
    raw: pd.DataFrame
    """The raw rows exactly as text (null where the field is empty)."""
    bronze: BronzeExpectation
    """Bronze: row count, source file."""
    silver: SilverExpectation
    """Silver: the cleaned rows and per-rule counts."""
    gold_product_metrics: pd.DataFrame
    """One row per silver product_id: :data:`PRODUCT_METRICS_COLUMNS`, sorted by product_id."""
    gold_daily_sales: pd.DataFrame
    """One row per event_date with a purchase: :data:`DAILY_SALES_COLUMNS`, sorted by date."""
    derived: dict[str, object] = field(default_factory=dict, repr=False)
    """What the checks derive from the raw data alone, kept so it is worked out once (while the job runs)."""


def compute_expectations(*, path: Path, data: bytes | None = None) -> Expectations:
    """Derive every layer's expectation from the raw file at ``path`` (or from ``data``, its bytes read earlier:
    the grader reads them before any learner code runs, so a notebook that writes the file changes nothing)."""
    source = Path(path).resolve()
    return expectations_from_raw(raw=read_raw(path=source, data=data), path=source)


def expectations_from_raw(*, raw: pd.DataFrame, path: Path) -> Expectations:
    """Every layer's expectation from the raw rows: every column as text, null where the field is empty, as
    :func:`read_raw` gives them (or as Spark's CSV reader reads them, which the in-notebook feedback uses)."""
    if tuple(raw.columns) != RAW_COLUMNS:
        raise DataError(f"Raw data {path} has columns {list(raw.columns)}; the contract's are {list(RAW_COLUMNS)}, "
                        "in that order.", hint="Use a file written by `day07 data generate`.")
    source = Path(path).resolve()
    bronze = expected_bronze(raw=raw, path=source)
    silver = _silver(bronze.frame)
    return Expectations(source_file=source, raw=raw, bronze=bronze, silver=silver,
                        gold_product_metrics=expected_gold_product_metrics(silver=silver.frame),
                        gold_daily_sales=expected_gold_daily_sales(silver=silver.frame))


def read_raw(*, path: Path, data: bytes | None = None) -> pd.DataFrame:
    """The raw CSV with every column as text; an empty field is null (``NaN``). ``data``: its bytes, when already
    read (``path`` then only names it in messages)."""
    path = Path(path)
    if data is None and not path.is_file():
        raise DataError(f"Raw data file {path} does not exist.",
                        hint="Pass the CSV the job read, or write one with `day07 data generate`.")
    try:
        with warnings.catch_warnings():
            # index_col=False: a first row with one field too many must not become an index column.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            raw = pd.read_csv(io.BytesIO(data) if data is not None else path, dtype=str, keep_default_na=False,
                              na_values=[""], encoding="utf-8", index_col=False)
    except pd.errors.EmptyDataError:
        raise DataError(f"Raw data file {path} is empty.", hint="It needs the header line and rows.") from None
    except pd.errors.ParserWarning:
        raise DataError(f"Raw data file {path}: a row has more fields than the header's 9.",
                        hint="Each line needs the 9 comma-separated fields of the contract.") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"Raw data file {path} is not a readable CSV: {exc}",
                        hint="Each line needs the 9 comma-separated fields of the contract, UTF-8.") from None
    if tuple(raw.columns) != RAW_COLUMNS:
        raise DataError(f"Raw data file {path} has columns {list(raw.columns)}; the contract's are "
                        f"{list(RAW_COLUMNS)}, in that order.", hint="Use a file written by `day07 data generate`.")
    return raw


def expected_bronze(*, raw: pd.DataFrame, path: Path) -> BronzeExpectation:
    """Bronze is the raw file, every row, unchanged."""
    return BronzeExpectation(rows=len(raw), source_file=Path(path).resolve(), frame=_typed(raw, path))


def expected_silver(*, raw: pd.DataFrame, path: Path | None = None) -> SilverExpectation:
    """Apply the contract's seven silver rules, in order, to the raw text rows."""
    return _silver(_typed(raw, path))


def _silver(typed: pd.DataFrame) -> SilverExpectation:
    df = typed
    drops: list[RuleDrop] = []

    def keep(rule: int, name: str, description: str, mask: pd.Series) -> None:
        nonlocal df
        drops.append(RuleDrop(rule=rule, name=name, description=description, rows=int((~mask).sum())))
        df = df[mask]

    parsed = parse_event_time(df["event_time"])
    keep(1, "unparsable_event_time", "event_time present but not a `yyyy-MM-dd HH:mm:ss UTC` time",
         df["event_time"].isna() | parsed.notna())
    df = df.assign(event_time=parsed[df.index])

    required = ["event_time", "event_type", "product_id", "user_id", "user_session"]
    keep(2, "null_required", "null event_time, event_type, product_id, user_id or user_session",
         df[required].notna().all(axis=1))

    cleaned = df["event_type"].str.strip(" ").str.lower()
    normalized = int(((cleaned != df["event_type"]) & cleaned.isin(EVENT_TYPES)).sum())
    df = df.assign(event_type=cleaned)
    keep(3, "unknown_event_type", f"event_type not one of {', '.join(EVENT_TYPES)} after trim + lower-case",
         df["event_type"].isin(EVENT_TYPES))

    keep(4, "price_out_of_range", f"price not in 0 < price < {MAX_PRICE:.0f} (or null)",
         (df["price"] > 0) & (df["price"] < MAX_PRICE))

    keep(5, "duplicate", f"a repeat of an earlier row on ({', '.join(DEDUP_KEY)})",
         ~df.duplicated(subset=list(DEDUP_KEY), keep="first"))

    unknown_brands = int(df["brand"].isna().sum())
    unknown_codes = int(df["category_code"].isna().sum())
    df = df.assign(brand=df["brand"].fillna(UNKNOWN), category_code=df["category_code"].fillna(UNKNOWN))

    price = df["price"].to_numpy()
    tier = np.select([price < 10, price < 50], ["budget", "mid"], default="premium")
    df = df.assign(product_id=df["product_id"].astype("int64"), user_id=df["user_id"].astype("int64"),
                   event_date=_dates(df["event_time"]), price_tier=pd.Series(tier, index=df.index, dtype=object))
    frame = df.loc[:, list(SILVER_COLUMNS)].reset_index(drop=True)
    return SilverExpectation(frame=frame, drops=tuple(drops), normalized_event_types=normalized,
                             unknown_brands=unknown_brands, unknown_category_codes=unknown_codes)


def expected_gold_product_metrics(*, silver: pd.DataFrame) -> pd.DataFrame:
    """Per product: distinct users per event type, revenue, conversion rate (docs/contract.md, Gold)."""
    products = np.sort(silver["product_id"].unique())

    def distinct_users(kind: str) -> np.ndarray:
        rows = silver[silver["event_type"] == kind]
        return rows.groupby("product_id")["user_id"].nunique().reindex(products, fill_value=0).to_numpy("int64")

    views, carts, purchases = distinct_users("view"), distinct_users("cart"), distinct_users("purchase")
    bought = silver[silver["event_type"] == "purchase"]
    revenue = bought.groupby("product_id")["price"].sum().reindex(products, fill_value=0.0).to_numpy("float64")
    rate = np.where(views > 0, purchases / np.maximum(views, 1) * 100.0, np.nan)
    return pd.DataFrame({
        "product_id": products.astype("int64"),
        "views": views, "carts": carts, "purchases": purchases,
        "revenue": round_half_up(revenue),
        "conversion_rate": round_half_up(rate),
    }, columns=list(PRODUCT_METRICS_COLUMNS))


def expected_gold_daily_sales(*, silver: pd.DataFrame) -> pd.DataFrame:
    """Per purchase day: orders, buyers, revenue, average order value (docs/contract.md, Gold).

    ``avg_order_value`` divides the rounded ``revenue`` column by ``orders``, as the contract words
    it; dividing the exact sum instead differs by less than the 0.01 the grader allows.
    """
    bought = silver[silver["event_type"] == "purchase"]
    by_day = bought.groupby("event_date", sort=True)
    orders = by_day.size()
    revenue = round_half_up(by_day["price"].sum().to_numpy("float64"))
    counts = orders.to_numpy("int64")
    return pd.DataFrame({
        "event_date": pd.Series(list(orders.index), dtype=object),
        "orders": counts,
        "buyers": by_day["user_id"].nunique().to_numpy("int64"),
        "revenue": revenue,
        "avg_order_value": round_half_up(revenue / np.maximum(counts, 1)),
    }, columns=list(DAILY_SALES_COLUMNS))


def parse_event_time(text: pd.Series) -> pd.Series:
    """Rule 1's parse: ``yyyy-MM-dd HH:mm:ss UTC`` → UTC timestamp; anything else (or null) → NaT."""
    values = pa.array(text.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    shaped = pc.match_substring_regex(values, _TIME_TEXT).fill_null(False).to_numpy(zero_copy_only=False)
    return pd.to_datetime(text.where(shaped), format="%Y-%m-%d %H:%M:%S UTC", errors="coerce", utc=True)


def round_half_up(values: np.ndarray, digits: int = 2) -> np.ndarray:
    """Spark's ``round(x, digits)`` on doubles: half up on the shortest decimal form; NaN stays NaN."""
    quantum = Decimal(1).scaleb(-digits)
    out = np.array(values, dtype="float64", copy=True)
    for i, v in enumerate(out):
        if np.isfinite(v):
            out[i] = float(Decimal(repr(float(v))).quantize(quantum, rounding=ROUND_HALF_UP))
    return out


def _dates(times: pd.Series) -> pd.Series:
    return times.dt.date.astype(object)


def _typed(raw: pd.DataFrame, path: Path | None) -> pd.DataFrame:
    """The raw rows with ids as Int64 and price as float64; text columns untouched."""
    out = raw.copy()
    for column in (*_INT_COLUMNS, "price"):
        out[column] = _number(raw[column], column, pa.int64() if column in _INT_COLUMNS else pa.float64(), path)
    return out


def _number(text: pd.Series, column: str, kind: pa.DataType, path: Path | None) -> pd.Series:
    values = pa.array(text.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    try:
        parsed = pc.cast(values, kind)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pattern = r"[+-]?\d+" if kind == pa.int64() else r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"
        bad = text[text.notna() & ~text.str.fullmatch(pattern, na=False)]
        where = f"{path}: " if path is not None else ""
        row = f"data row {int(bad.index[0]) + 1}" if len(bad) else "a row"
        value = repr(bad.iloc[0]) if len(bad) else "(a value out of range)"
        raise DataError(f"{where}{row}: {column} {value} is not a "
                        f"{'whole number' if kind == pa.int64() else 'number'}.",
                        hint="The contract's raw columns hold plain numbers; regenerate the file with "
                             "`day07 data generate`.") from None
    mapper = {pa.int64(): pd.Int64Dtype()}.get if kind == pa.int64() else None
    return pd.Series(parsed.to_pandas(types_mapper=mapper).array, index=text.index, name=column)
