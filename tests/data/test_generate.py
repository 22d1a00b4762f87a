"""The raw-event generator: deterministic, the contract's shape and mix, and every kind of dirt."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

from checkers.data.generate import GenerateResult, generate_events
from checkers.errors import DataError

#: The contract's raw columns and kept types, written out here rather than read from the code under test.
CONTRACT_COLUMNS = ["event_time", "event_type", "product_id", "category_id", "category_code", "brand", "price",
                    "user_id", "user_session"]
KEPT_TYPES = {"view", "cart", "remove_from_cart", "purchase"}
STRICT_TIME = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC"


@dataclass
class Generated:
    result: GenerateResult
    frame: pd.DataFrame
    """The file as text, empty field = null."""


@pytest.fixture(scope="module", params=[11, 2024, 90210], ids=lambda s: f"seed{s}")
def generated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """50 000 rows over two days, for three seeds (a fraction of a second each)."""
    out = tmp_path_factory.mktemp("generated") / f"events_{request.param}.csv"
    result = generate_events(out=out, rows=50_000, seed=request.param, start=date(2019, 10, 1), days=2)
    return Generated(result=result, frame=_read(out))


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], index_col=False)


def _share(mask: pd.Series) -> float:
    return float(mask.mean())


def _normalized_type(frame: pd.DataFrame) -> pd.Series:
    return frame["event_type"].str.strip(" ").str.lower()


def _clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with no dirt at all: parseable time, known lower-case type, all keys, a sane price."""
    price = pd.to_numeric(frame["price"])
    ok = (frame["event_time"].str.fullmatch(STRICT_TIME, na=False) & frame["event_type"].isin(KEPT_TYPES)
          & frame[["product_id", "user_id", "user_session"]].notna().all(axis=1) & (price > 0) & (price < 10_000))
    return frame[ok]


# ── determinism ──────────────────────────────────────────────────────────────────────────────
def test_same_arguments_write_identical_bytes(tmp_path: Path) -> None:
    a = generate_events(out=tmp_path / "a.csv", rows=12_345, seed=5, start=date(2019, 11, 3), days=3)
    b = generate_events(out=tmp_path / "b.csv", rows=12_345, seed=5, start=date(2019, 11, 3), days=3)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert a.dirt == b.dirt


def test_another_seed_writes_other_data(tmp_path: Path) -> None:
    generate_events(out=tmp_path / "a.csv", rows=5_000, seed=1)
    generate_events(out=tmp_path / "b.csv", rows=5_000, seed=2)
    a = (tmp_path / "a.csv").read_text().splitlines()
    b = (tmp_path / "b.csv").read_text().splitlines()
    assert a[0] == b[0]
    assert len(set(a[1:]) & set(b[1:])) < 10  # essentially no row in common


def test_start_and_days_place_every_event_in_the_range(tmp_path: Path) -> None:
    out = tmp_path / "e.csv"
    generate_events(out=out, rows=8_000, seed=3, start=date(2020, 2, 27), days=4)
    frame = _read(out)
    times = pd.to_datetime(frame["event_time"].where(frame["event_time"].str.fullmatch(STRICT_TIME, na=False)),
                           format="%Y-%m-%d %H:%M:%S UTC", utc=True).dropna()
    first, end = datetime(2020, 2, 27, tzinfo=timezone.utc), datetime(2020, 3, 2, tzinfo=timezone.utc)
    assert times.min() >= first and times.max() < end
    assert sorted({t.date() for t in times}) == [date(2020, 2, 27) + timedelta(days=i) for i in range(4)]
    assert times.is_monotonic_increasing  # written in time order, like the real file


# ── shape ────────────────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("rows", [1, 7, 1_999, 2_000])
def test_writes_exactly_the_rows_asked_for_under_the_contract_header(tmp_path: Path, rows: int) -> None:
    out = tmp_path / "sub" / "e.csv"  # the folder is created
    result = generate_events(out=out, rows=rows, seed=rows)
    with out.open(newline="", encoding="utf-8") as fh:
        lines = list(csv.reader(fh))
    assert lines[0] == CONTRACT_COLUMNS
    assert len(lines) == rows + 1 and result.rows == rows and result.path == out
    assert all(len(line) == 9 for line in lines)
    assert b"\r" not in out.read_bytes()


def test_values_look_like_the_real_file(generated: Generated) -> None:
    clean = _clean(generated.frame)
    assert clean["event_time"].str.fullmatch(STRICT_TIME).all()
    assert clean["product_id"].str.fullmatch(r"\d{7,8}").all()
    assert clean["category_id"].str.fullmatch(r"\d{19}").all()
    assert clean["user_id"].str.fullmatch(r"5\d{8}").all()
    uuid4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    assert clean["user_session"].str.fullmatch(uuid4).all()
    assert clean["price"].str.fullmatch(r"\d+\.\d{2}").all()
    codes = clean["category_code"].dropna()
    assert codes.str.fullmatch(r"[a-z_]+(\.[a-z_]+)+").all() and codes.nunique() > 20
    assert {"electronics.smartphone", "appliances.kitchen.washer"} <= set(codes)
    brands = clean["brand"].dropna()
    assert (brands == brands.str.lower()).all() and brands.nunique() > 50


def test_event_mix_prices_and_nulls_are_in_the_contracts_ranges(generated: Generated) -> None:
    frame = generated.frame
    kinds = _normalized_type(frame)
    known = kinds[kinds.isin(KEPT_TYPES)]
    assert 0.92 <= _share(known == "view") <= 0.96
    assert 0.03 <= _share(known == "cart") <= 0.04
    assert 0.012 <= _share(known == "purchase") <= 0.018
    assert 0.004 <= _share(known == "remove_from_cart") <= 0.02

    prices = pd.to_numeric(_clean(frame)["price"])
    assert 130 <= prices.median() <= 200
    assert 1_000 <= prices.max() < 10_000  # a long tail to a few thousand
    assert prices.quantile(0.99) > 700

    assert 0.25 <= _share(frame["category_code"].isna()) <= 0.35
    assert 0.10 <= _share(frame["brand"].isna()) <= 0.18
    assert 0.007 <= _share(frame.duplicated()) <= 0.013


def test_a_product_keeps_its_price_category_and_brand(generated: Generated) -> None:
    clean = _clean(generated.frame)
    per_product = clean.groupby("product_id")[["price", "category_id", "category_code", "brand"]].nunique(
        dropna=False)
    assert (per_product == 1).all().all()
    assert (clean.groupby("category_id")["category_code"].nunique(dropna=False) == 1).all()


def test_sessions_belong_to_one_user_and_buy_what_they_viewed(generated: Generated) -> None:
    clean = _clean(generated.frame).copy()
    assert (clean.groupby("user_session")["user_id"].nunique() == 1).all()
    sizes = clean.groupby("user_session").size()
    assert sizes.mean() > 2 and sizes.max() >= 10
    assert (clean.groupby("user_id")["user_session"].nunique() > 1).any()  # returning users

    key = ["user_session", "product_id"]
    views = clean[clean["event_type"] == "view"].sort_values("event_time", kind="stable")
    first_view = views.drop_duplicates(subset=key)[[*key, "event_time"]].rename(columns={"event_time": "viewed_at"})
    later = clean[clean["event_type"].isin(["cart", "purchase", "remove_from_cart"])]
    seen = later.merge(first_view, on=key, how="left")
    with_view = seen["viewed_at"].notna()
    assert with_view.mean() > 0.95  # only a dropped (dirty) view may be missing
    assert (seen.loc[with_view, "viewed_at"] < seen.loc[with_view, "event_time"]).all()


# ── dirt ─────────────────────────────────────────────────────────────────────────────────────
def test_every_kind_of_dirt_is_present_and_counted_right(generated: Generated) -> None:
    frame, dirt = generated.frame, generated.result.dirt
    text_type = frame["event_type"]
    kinds = _normalized_type(frame)
    price = pd.to_numeric(frame["price"])
    observed = {
        "duplicates": int(frame.duplicated().sum()),
        "messy_event_type": int((kinds.isin(KEPT_TYPES) & ~text_type.isin(KEPT_TYPES)).sum()),
        "unknown_event_type": int((text_type.notna() & ~kinds.isin(KEPT_TYPES)).sum()),
        "null_event_type": int(text_type.isna().sum()),
        "null_event_time": int(frame["event_time"].isna().sum()),
        "null_product_id": int(frame["product_id"].isna().sum()),
        "null_user_id": int(frame["user_id"].isna().sum()),
        "null_user_session": int(frame["user_session"].isna().sum()),
        "price_not_positive": int((price <= 0).sum()),
        "price_too_high": int((price >= 10_000).sum()),
    }
    assert observed == dirt.as_dict()
    assert all(count > 0 for count in observed.values()), observed
    messy = text_type[kinds.isin(KEPT_TYPES) & ~text_type.isin(KEPT_TYPES)]
    assert (messy != messy.str.strip()).any() and (messy == messy.str.upper()).any()
    assert (messy.str.strip(" ").str.lower() != "view").any()  # funnel events get mis-cased too
    assert (price == 0).any() and (price < 0).any() and (price == 10_000).any()


def test_event_time_is_only_ever_the_real_files_shape_or_empty(tmp_path: Path) -> None:
    """The real file writes one shape; with ANSI on, `to_timestamp` with its pattern must never meet another."""
    for seed in (1, 7, 20191001):
        result = generate_events(out=tmp_path / f"t{seed}.csv", rows=20_000, seed=seed, days=3)
        times = pd.read_csv(result.path, dtype=str, keep_default_na=False, na_values=[""])["event_time"]
        present = times.dropna()
        assert present.str.fullmatch(STRICT_TIME).all(), present[~present.str.fullmatch(STRICT_TIME)].head()
        assert times.isna().sum() == result.dirt.null_event_time > 0


def test_rows_sharing_the_silver_dedup_key_are_identical(generated: Generated) -> None:
    frame = generated.frame.assign(_type=_normalized_type(generated.frame))
    keyed = frame[frame[["user_session", "product_id", "_type"]].notna().all(axis=1)
                  & frame["event_time"].str.fullmatch(STRICT_TIME, na=False)]
    distinct = keyed.drop_duplicates(subset=CONTRACT_COLUMNS)
    clashes = distinct.duplicated(subset=["user_session", "event_time", "_type", "product_id"], keep=False)
    assert not clashes.any(), distinct[clashes].head()


def test_from_2000_rows_on_every_kind_of_dirt_is_present(tmp_path: Path) -> None:
    for seed in range(4):
        result = generate_events(out=tmp_path / f"e{seed}.csv", rows=2_000, seed=seed)
        assert all(count > 0 for kind, count in result.dirt.as_dict().items() if kind != "duplicates"), result.dirt


def test_progress_callback_reaches_the_total(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    generate_events(out=tmp_path / "e.csv", rows=60_001, seed=1, progress=lambda done, total: calls.append(
        (done, total)))
    assert calls and calls[-1] == (60_001, 60_001)
    assert [done for done, _ in calls] == sorted({done for done, _ in calls})


# ── bad arguments ────────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize(("kwargs", "words"), [
    ({"rows": 0}, "rows must be a positive"),
    ({"rows": -3}, "rows must be a positive"),
    ({"rows": 2.5}, "rows must be a positive"),
    ({"rows": True}, "rows must be a positive"),
    ({"seed": -1}, "seed must be a whole number"),
    ({"seed": "7"}, "seed must be a whole number"),
    ({"days": 0}, "days must be a positive"),
    ({"start": "2019-10-01"}, "start must be a date"),
    ({"start": date(9999, 12, 31), "days": 2}, "past the year 9999"),
])
def test_bad_arguments_raise_a_clear_data_error(tmp_path: Path, kwargs: dict, words: str) -> None:
    args = {"out": tmp_path / "e.csv", "rows": 10, "seed": 1} | kwargs
    with pytest.raises(DataError, match=re.escape(words)):
        generate_events(**args)
    assert not (tmp_path / "e.csv").exists()


def test_an_output_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="is a folder"):
        generate_events(out=tmp_path, rows=10, seed=1)


def test_an_unwritable_output_is_a_data_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DataError, match="Could not"):
        generate_events(out=blocker / "e.csv", rows=10, seed=1)


# ── big files, in parts ──────────────────────────────────────────────────────────────────────
def test_a_file_built_in_parts_is_one_time_ordered_month_with_every_kind_of_dirt(tmp_path: Path) -> None:
    """Above ``part_rows`` the file is built part by part (bounded memory); it reads as one file all the same."""
    out = tmp_path / "parts.csv"
    seen: list[tuple[int, int]] = []
    result = generate_events(out=out, rows=9_001, seed=4, start=date(2019, 10, 1), days=6, part_rows=3_000,
                             progress=lambda done, total: seen.append((done, total)))
    frame = _read(out)
    assert len(frame) == 9_001 == result.rows and list(frame.columns) == CONTRACT_COLUMNS
    times = pd.to_datetime(frame["event_time"].where(frame["event_time"].str.fullmatch(STRICT_TIME, na=False)),
                           format="%Y-%m-%d %H:%M:%S UTC", utc=True).dropna()
    assert times.is_monotonic_increasing
    assert sorted({t.date() for t in times}) == [date(2019, 10, 1) + timedelta(days=i) for i in range(6)]
    assert all(count > 0 for count in result.dirt.as_dict().values())
    assert seen[-1] == (9_001, 9_001) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    again = generate_events(out=tmp_path / "again.csv", rows=9_001, seed=4, start=date(2019, 10, 1), days=6,
                            part_rows=3_000)
    assert (tmp_path / "again.csv").read_bytes() == out.read_bytes() and again.dirt == result.dirt


def test_a_file_within_one_part_is_byte_for_byte_the_one_piece_file(tmp_path: Path) -> None:
    generate_events(out=tmp_path / "a.csv", rows=4_000, seed=8, days=2)
    generate_events(out=tmp_path / "b.csv", rows=4_000, seed=8, days=2, part_rows=4_000)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
