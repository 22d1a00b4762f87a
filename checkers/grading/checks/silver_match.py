"""Match a learner's silver table to the raw rows, so each difference is blamed on the rule that explains it.

Silver is judged "in effect" (docs/contract.md): only the final table is seen. Every raw row gets its fate under the
contract (kept, or dropped by rule 1–5), and every silver row is matched to raw rows by the dedup key
(user_session, event_time, event_type, product_id). Then:

- a silver row that is a raw row some rule drops counts against that rule (a kept unparsable time → rule 1, a
  kept ``wishlist`` → rule 3, a kept price of 0 → rule 4, a second copy of a key → rule 5);
- an expected row that is missing is blamed on a rule only when the missing rows share a trait that the kept
  rows do not (all the mis-cased event types gone → rule 3 applied before trimming; the rows with a null
  brand gone → rule 2 applied to every column; every time at 00 and 12-23 h gone → rule 1 parsed with a 12-hour
  `hh`); missing rows no trait explains are reported as such;
- event times off by a constant (parsed in the wrong time zone) are recognised and blamed on rule 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from checkers.data import EVENT_TYPES
from checkers.grading.expect import DEDUP_KEY, MAX_PRICE, Expectations, parse_event_time

REQUIRED = ("event_time", "event_type", "product_id", "user_id", "user_session")
"""Rule 2's columns."""
SELECTIVE_MISSING = 0.3
"""A trait explains missing rows when at least this share of the rows with it are missing …"""
SELECTIVE_OTHERS = 0.02
"""… and at most this share of the rows without it."""
ALL_MISSING = 0.9
"""A trait that names one exact mistake (the 12-hour clock) explains missing rows only when nearly all rows with it
are missing: a filter that loses a few of those hours is not that mistake."""
MIN_SHIFT_SHARE = 0.5
"""Share of silver rows a constant time offset must explain to be reported as a time-zone shift."""

_FATES = ("kept", "rule1", "rule2", "rule3", "rule4", "rule5")


@dataclass
class SilverMatch:
    """The learner's silver against the contract, row by row."""

    expected_rows: int
    """Rows the contract keeps."""
    actual_rows: int
    """Rows in the learner's silver."""
    extra: dict[str, int] = field(default_factory=dict)
    """Rule → silver rows that rule should have dropped (``rule5`` counts extra copies of a key)."""
    extra_examples: dict[str, list[str]] = field(default_factory=dict)
    """Rule → a few raw values of such rows (the event_time text, the event_type, the price)."""
    missing: dict[str, int] = field(default_factory=dict)
    """Rule (or ``unexplained``) → expected rows missing from silver, blamed on that rule being too strict."""
    missing_examples: dict[str, list[str]] = field(default_factory=dict)
    """Rule (or ``unexplained``) → a few raw values of such rows."""
    unexplained_extra: int = 0
    """Silver rows that are no raw row at all (values changed)."""
    shift: pd.Timedelta | None = None
    """A constant offset between silver's event_time and the raw UTC time, when one explains most rows."""
    null_times: dict[str, int] = field(default_factory=dict)
    """Silver rows with a null event_time, by the rule that should have dropped them (``rule1``: the raw time did
    not parse; ``rule2``: it was empty)."""
    matched: pd.DataFrame | None = None
    """Silver rows matched to an expected row: ``s_index`` (silver frame index) and ``e_pos`` (row position in
    the expected silver frame)."""


def fates_of(exp: Expectations) -> pd.DataFrame:
    """:func:`raw_fates`, worked out once per expectations."""
    fates = exp.derived.get("raw_fates")
    if fates is None:
        fates = exp.derived["raw_fates"] = raw_fates(exp)
    assert isinstance(fates, pd.DataFrame)
    return fates


def raw_fates(exp: Expectations) -> pd.DataFrame:
    """Each raw row with its fate under the contract, its cleaned key and the traits that explain a miss."""
    raw = exp.bronze.frame
    time = parse_event_time(raw["event_time"])
    cleaned = raw["event_type"].str.strip(" ").str.lower()
    fate = pd.Series("kept", index=raw.index, dtype=object)
    alive = pd.Series(True, index=raw.index)

    def drop(name: str, mask: pd.Series) -> None:
        hit = alive & mask
        fate[hit] = name
        alive[hit] = False

    drop("rule1", raw["event_time"].notna() & time.isna())
    required = pd.concat([time.isna(), raw["event_type"].isna(), raw["product_id"].isna(), raw["user_id"].isna(),
                          raw["user_session"].isna()], axis=1).any(axis=1)
    drop("rule2", required)
    drop("rule3", ~cleaned.isin(EVENT_TYPES))
    price = raw["price"]
    drop("rule4", ~((price > 0) & (price < MAX_PRICE)).fillna(False).astype(bool))
    keyed = pd.DataFrame({"user_session": raw["user_session"], "event_time": time, "event_type": cleaned,
                          "product_id": raw["product_id"]})
    dup = keyed[alive].duplicated(keep="first")
    drop("rule5", dup.reindex(raw.index, fill_value=False))
    return pd.DataFrame({
        "fate": fate, "user_session": raw["user_session"], "t": _ns(time), "event_type": cleaned,
        "product_id": raw["product_id"], "raw_time": raw["event_time"], "raw_type": raw["event_type"],
        "price": price, "messy_type": (raw["event_type"] != cleaned) & cleaned.isin(EVENT_TYPES),
        "null_optional": raw["brand"].isna() | raw["category_code"].isna(),
    })


def _ns(times: pd.Series) -> pd.Series:
    """Timestamps → nullable int64 nanoseconds since the epoch (UTC)."""
    t = pd.to_datetime(times, utc=True).dt.as_unit("ns")
    out = pd.Series(t.array.asi8, index=times.index).astype("Int64")
    out[t.isna().to_numpy()] = pd.NA
    return out


def _plain(values: pd.Series) -> list:
    """Python values with None for every kind of null, so keys hash and compare like values."""
    return values.astype(object).where(values.notna(), None).tolist()


def _keys(frame: pd.DataFrame, t: str = "t") -> list[tuple]:
    """The dedup key of each row."""
    return list(zip(_plain(frame["user_session"]), _plain(frame[t]), _plain(frame["event_type"]),
                    _plain(frame["product_id"]), strict=True))


def _partials(frame: pd.DataFrame) -> list[tuple]:
    """(user_session, event_type, product_id): the key without the time."""
    return list(zip(_plain(frame["user_session"]), _plain(frame["event_type"]), _plain(frame["product_id"]),
                    strict=True))


def silver_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The learner's silver with its key columns in comparable form (time as UTC nanoseconds)."""
    def text(column: str) -> pd.Series:
        values = frame[column].astype(object)
        return values.where(values.notna(), None)

    return pd.DataFrame({"user_session": text("user_session"), "t": _ns(frame["event_time"]),
                         "event_type": text("event_type"), "product_id": pd.array(frame["product_id"], dtype="Int64")},
                        index=frame.index)


def _examples(values: pd.Series, limit: int = 3) -> list[str]:
    return [str(v) for v in pd.Series(values).dropna().astype(str).unique()[:limit]]


def match_silver(*, exp: Expectations, frame: pd.DataFrame, fates: pd.DataFrame | None = None) -> SilverMatch:
    """Compare the learner's silver rows (``frame``) with the contract's, blaming each difference on a rule."""
    fates = fates_of(exp) if fates is None else fates
    kept = fates[fates["fate"] == "kept"]
    if len(kept) != exp.silver.rows:
        raise AssertionError(f"rule replay keeps {len(kept)} rows, expect.py {exp.silver.rows}")
    s = silver_rows(frame)
    result = SilverMatch(expected_rows=len(kept), actual_rows=len(s))
    expected = dict(zip(_keys(kept), kept.index, strict=True))

    s_keys = _keys(s)
    hit = [k in expected for k in s_keys]
    if len(s) and sum(hit) < MIN_SHIFT_SHARE * len(s):
        shift = _time_shift(kept, s)
        if shift is not None:
            s_keys = _keys(s.assign(t=s["t"] - shift.value))
            hit = [k in expected for k in s_keys]
            result.shift = shift

    # silver rows that are expected rows; a key seen again is an extra copy (rule 5)
    seen: dict[tuple, object] = {}
    copies: list[object] = []
    rest: list[object] = []
    for idx, key, is_hit in zip(s.index, s_keys, hit, strict=True):
        if not is_hit:
            rest.append(idx)
        elif key in seen:
            copies.append(idx)
        else:
            seen[key] = idx
    _add(result.extra, result.extra_examples, "rule5", len(copies), frame.loc[copies, "event_time"])

    # silver rows that are raw rows some rule drops, or no raw row at all
    dropped = fates[fates["fate"] != "kept"]
    by_key: dict[tuple, str] = {}
    by_partial: dict[tuple, str] = {}
    raw_text: dict[tuple, tuple[str, str]] = {}
    for key, partial, dropped_by, raw_time, raw_type in zip(_keys(dropped), _partials(dropped), dropped["fate"],
                                                             dropped["raw_time"], dropped["raw_type"], strict=True):
        if None not in key:
            by_key.setdefault(key, dropped_by)
        if by_partial.get(partial, "rule9") > dropped_by:
            by_partial[partial] = dropped_by
            raw_text[partial] = (raw_time, raw_type)
    blamed: dict[str, list[object]] = {}
    example_text: dict[str, list[object]] = {}
    for idx, key in zip(rest, [s_keys[i] for i, h in enumerate(hit) if not h], strict=True):
        session, t, kind, product = key
        partial = (session, kind, product)
        if session is None or kind is None or product is None:
            fate: str | None = "rule2"
        elif t is None:
            fate = "rule1" if by_partial.get(partial) == "rule1" else "rule2"
            result.null_times[fate] = result.null_times.get(fate, 0) + 1
        elif kind not in EVENT_TYPES:
            fate = "rule3"
        else:
            fate = by_key.get(key) or by_partial.get(partial)
        if fate is None:
            result.unexplained_extra += 1
            continue
        blamed.setdefault(fate, []).append(idx)
        if fate == "rule3":
            example_text.setdefault(fate, []).append(kind)
        elif fate == "rule4":
            example_text.setdefault(fate, []).append(frame.at[idx, "price"])
        else:
            example_text.setdefault(fate, []).append(raw_text.get(partial, (None, None))[0])
    for fate, indices in blamed.items():
        _add(result.extra, result.extra_examples, fate, len(indices), pd.Series(example_text[fate], dtype=object))

    # expected rows that silver lacks, blamed on a trait only the missing rows share
    present = set(seen)
    missing = pd.Series([k not in present for k in _keys(kept)], index=kept.index)
    traits = [
        ("rule1", _twelve_hour_clock(kept)),  # a 12-hour `hh` in the pattern: hours 00 and 13-23 do not parse
        ("rule3", kept["messy_type"]),
        ("rule2", kept["null_optional"]),
        ("rule5", _shares_session_product(kept)),  # a dedup key without event_time
        ("rule5", _shares_session_second(kept)),  # a dedup key without product_id
    ]
    if seen:
        matched_prices = frame.loc[list(seen.values()), "price"].astype("float64")
        lo, hi = float(matched_prices.min()), float(matched_prices.max())
        traits.append(("rule4", (kept["price"] < lo) | (kept["price"] > hi)))
    explained = pd.Series(False, index=kept.index)
    for rule, trait in traits:
        trait = trait.fillna(False).astype(bool) & ~explained
        if _selective(missing, trait, at_least=ALL_MISSING if rule == "rule1" else SELECTIVE_MISSING):
            blame = missing & trait
            column = {"rule3": "raw_type", "rule4": "price"}.get(rule, "raw_time")
            _add(result.missing, result.missing_examples, rule, int(blame.sum()), kept.loc[blame, column])
            explained |= blame
    left = missing & ~explained
    if left.any():
        rows = kept[left]
        result.missing["unexplained"] = int(left.sum())
        result.missing_examples["unexplained"] = [f"{r.raw_time} · {r.raw_type} · product {r.product_id}"
                                                  for r in rows.head(3).itertuples()]

    # the matched pairs, for value-by-value checks
    position = {idx: pos for pos, idx in enumerate(kept.index)}
    result.matched = pd.DataFrame({"s_index": list(seen.values()),
                                   "e_pos": [position[expected[k]] for k in seen]}, dtype=object)
    return result


def _add(counts: dict[str, int], examples: dict[str, list[str]], rule: str, count: int, values: pd.Series) -> None:
    if count:
        counts[rule] = counts.get(rule, 0) + int(count)
        examples.setdefault(rule, [])
        examples[rule] = (examples[rule] + _examples(values))[:3]


def _selective(missing: pd.Series, trait: pd.Series, *, at_least: float = SELECTIVE_MISSING) -> bool:
    with_trait = int(trait.sum())
    without = int((~trait).sum())
    if with_trait == 0 or not (missing & trait).any():
        return False
    rate_with = (missing & trait).sum() / with_trait
    rate_without = (missing & ~trait).sum() / without if without else 0.0
    return rate_with >= at_least and rate_without <= SELECTIVE_OTHERS


def _twelve_hour_clock(kept: pd.DataFrame) -> pd.Series:
    """Rows whose hour a 12-hour clock (`hh`, hours 1-12) misreads: 00 and 12-23 (12 o'clock parses as 00)."""
    hour = (kept["t"] // 3_600_000_000_000) % 24
    return ((hour == 0) | (hour >= 12)).astype("boolean")


def _shares_session_product(kept: pd.DataFrame) -> pd.Series:
    """Rows whose (user_session, product_id) another kept row shares: a too-short dedup key merges them."""
    pair = pd.Series([tuple(p) for p in zip(kept["user_session"], kept["product_id"], strict=True)], dtype=object,
                     index=kept.index)
    return pair.duplicated(keep=False)


def _shares_session_second(kept: pd.DataFrame) -> pd.Series:
    """Rows whose (user_session, event_time, event_type) another kept row shares (two products in one second): a
    dedup key without product_id merges them."""
    triple = pd.Series([tuple(p) for p in zip(kept["user_session"], kept["t"], kept["event_type"], strict=True)],
                       dtype=object, index=kept.index)
    return triple.duplicated(keep=False)


def _time_shift(kept: pd.DataFrame, s: pd.DataFrame) -> pd.Timedelta | None:
    """The offset most silver rows are off by against the expected row with the same session, type and product."""
    exp_partial = pd.Series(_partials(kept), index=kept.index)
    unique_exp = ~exp_partial.duplicated(keep=False)
    times = dict(zip(exp_partial[unique_exp], _plain(kept.loc[unique_exp, "t"]), strict=True))
    diffs = []
    for partial, t in zip(_partials(s), _plain(s["t"]), strict=True):
        other = times.get(partial)
        if other is not None and t is not None:
            diffs.append(int(t) - int(other))
    if not diffs:
        return None
    counts = pd.Series(diffs).value_counts()
    offset, count = int(counts.index[0]), int(counts.iloc[0])
    if offset == 0 or count < MIN_SHIFT_SHARE * len(s):
        return None
    return pd.Timedelta(offset, unit="ns")


def null_counts(frame: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, int]:
    return {c: int(frame[c].isna().sum()) for c in columns if c in frame and frame[c].isna().any()}


def duplicate_copies(frame: pd.DataFrame) -> int:
    """Extra copies of a (complete) dedup key."""
    keyed = frame[list(DEDUP_KEY)]
    keyed = keyed[keyed.notna().all(axis=1)]
    return int(keyed.duplicated(keep="first").sum())


def tiers(price: pd.Series) -> pd.Series:
    """Rule 7's price_tier for each price (None for a null price)."""
    p = price.astype("float64")
    out = np.select([p < 10, p < 50], ["budget", "mid"], default="premium").astype(object)
    out[p.isna().to_numpy()] = None
    return pd.Series(out, index=price.index)
