"""Raw e-commerce events in the shape of the REES46 2019-Oct file, dirty on purpose.

The grader grades on data the learner has never seen, so the generator must write, for any seed,
a file whose every row is a plausible event and whose dirt exercises every silver rule of the
contract. Same arguments give a byte-identical file: every random number comes from one
``numpy`` PCG64 stream drawn only through ``Generator.random`` (the most stable primitive), and no
step depends on dict/set order or the clock.

How a file is built: a product catalogue (stable price, category, brand per product), a user pool,
then browsing sessions (views, then maybe cart → remove_from_cart / purchase of viewed products),
each event a second or more after the previous one in its session. Each event may carry one kind
of dirt; clean and merely mis-cased events may be written twice (exact duplicates). Because every
event in a session has its own second, rows sharing the silver dedup key are always exact copies.
Rows are written in time order, the way the real file is sorted.

``event_time`` is always written as the real file writes it, ``yyyy-MM-dd HH:mm:ss UTC``, or left empty: never
in another shape. Every reasonable parse of the real shape (``to_timestamp`` with its pattern,
``try_to_timestamp``, a cast after stripping `` UTC``) then gives the same silver with Spark's ANSI mode on, as on
Databricks Runtime 17+ and serverless, and a notebook written against the real file works here unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO

import numpy as np

from checkers.data import EVENT_TYPES, RAW_COLUMNS
from checkers.data.catalog import Catalog, exponential, normal, pick, uniform, unique_ids
from checkers.errors import DataError

ProgressCallback = Callable[[int, int], None]
"""Called with (rows written so far, rows in total) after each chunk is written."""

_MEAN_EXTRA_VIEWS = 3.0  # views per session = 1 + geometric with this mean
_MAX_VIEWS = 60
_SAME_CATEGORY = 0.6  # chance a later view stays in the first view's category
_CART_SESSION = 0.119  # chance a session puts something in the cart
_SECOND_CART = 0.25  # chance a carting session carts a second product
_REMOVE = 0.28  # chance a cart is undone
_PURCHASE = 0.60  # chance a cart that was kept is bought
_GAP_MEAN = {0: 40.0, 1: 20.0, 2: 30.0, 3: 120.0}  # mean seconds before a view / cart / remove / purchase

# ── dirt (per event; exclusive kinds) ────────────────────────────────────────────────────────
DIRT_KINDS = ("messy_event_type", "unknown_event_type", "null_event_type", "null_event_time", "null_product_id",
              "null_user_id", "null_user_session", "price_not_positive",
              "price_too_high")
DIRT_RULES = {"duplicates": 5, "messy_event_type": 3, "unknown_event_type": 3, "null_event_type": 2,
              "null_event_time": 2, "null_product_id": 2, "null_user_id": 2,
              "null_user_session": 2, "price_not_positive": 4, "price_too_high": 4}
"""The contract's silver rule that handles each kind of dirt (rule 3 keeps messy types, after fixing them)."""
_DIRT_RATES = (0.002, 0.0006, 0.0004, 0.0003, 0.0004, 0.0004, 0.001, 0.002, 0.0004)
_MESSY_FUNNEL_RATE = 0.02  # extra mis-casing of cart/remove/purchase rows, so it changes gold numbers
_DUPLICATE_RATE = 0.0101  # of events written twice (only clean or mis-cased ones)
_MIN_ROWS_FOR_EVERY_KIND = 2000  # from this size on, every kind of dirt appears at least once
_UNKNOWN_TYPES = ("wishlist", "compare", "share", "click")
_CHUNK_ROWS = 50_000
PART_ROWS = 5_000_000
"""A file of more rows is built in parts of at most this many, each over its own slice of the time span, one after
the other: memory stays near what one part needs (about 1.5 GB), so the real month's 42 million rows fit on a laptop.
A file of at most this many rows is built in one piece, byte for byte as before."""


@dataclass(frozen=True)
class DirtCounts:
    """Rows written with each kind of dirt (copies included); every kind except duplicates excludes the others."""

    duplicates: int = 0
    """Extra exact copies of a row (silver rule 5 drops exactly these)."""
    messy_event_type: int = 0
    """event_type with surrounding spaces or upper case, e.g. `` View``, ``PURCHASE`` (kept by rule 3)."""
    unknown_event_type: int = 0
    """event_type outside the four the contract keeps (rule 3 drops)."""
    null_event_type: int = 0
    """Empty event_type (rule 2)."""
    null_event_time: int = 0
    """Empty event_time (rule 2)."""
    null_product_id: int = 0
    """Empty product_id (rule 2)."""
    null_user_id: int = 0
    """Empty user_id (rule 2)."""
    null_user_session: int = 0
    """Empty user_session (rule 2)."""
    price_not_positive: int = 0
    """price 0 or negative (rule 4)."""
    price_too_high: int = 0
    """price of 10000 or more (rule 4)."""

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class GenerateResult:
    """What :func:`generate_events` wrote."""

    path: Path
    """The CSV file."""
    rows: int
    """Data rows written (the header not counted)."""
    seed: int
    """Seed the file was generated from."""
    start: date
    """First day of events (UTC)."""
    days: int
    """Number of days the events span."""
    dirt: DirtCounts = field(default_factory=DirtCounts)
    """How many rows carry each kind of deliberate dirt."""

    @property
    def end(self) -> date:
        """Last day of events (inclusive)."""
        return self.start + timedelta(days=self.days - 1)


def generate_events(*, out: Path, rows: int, seed: int, start: date = date(2019, 10, 1), days: int = 1,
                    progress: ProgressCallback | None = None, part_rows: int = PART_ROWS) -> GenerateResult:
    """Write ``rows`` raw events spread over ``days`` days from ``start`` to ``out`` (CSV with header).

    More than ``part_rows`` rows are built in parts (see :data:`PART_ROWS`): same catalogue, one random stream,
    each part's sessions in its own slice of the span, written in time order after the previous part.
    """
    _check_arguments(out=out, rows=rows, seed=seed, start=start, days=days)
    rng = np.random.Generator(np.random.PCG64(seed))
    catalog = Catalog.build(rng, n_products=max(40, min(rows // 12, 60_000)))
    span = days * 86_400
    parts = max(1, math.ceil(rows / max(1, part_rows)))
    counts = dict.fromkeys(DIRT_KINDS, 0)
    copies = written = 0
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8", newline="") as fh:
            fh.write(",".join(RAW_COLUMNS) + "\n")
            for k in range(parts):
                these = rows // parts + (1 if k < rows % parts else 0)
                first, last = span * k // parts, span * (k + 1) // parts
                events = _events(rng, catalog, rows=these, span_seconds=last - first)
                _write(fh, events, catalog, start=start, offset=first, done=written, total=rows, progress=progress)
                for i, kind in enumerate(DIRT_KINDS):
                    counts[kind] += int(np.count_nonzero(events.dirt == i + 1))
                copies += int(np.count_nonzero(events.is_copy))
                written += these
                del events  # before the next part is built: one part in memory at a time
    except OSError as exc:
        raise DataError(f"Could not write {out}: {exc.strerror or exc}.",
                        hint="Choose an --out path in a folder you can write to.") from None
    return GenerateResult(path=out, rows=rows, seed=seed, start=start, days=days,
                          dirt=DirtCounts(duplicates=copies, **counts))


def _check_arguments(*, out: Path, rows: int, seed: int, start: date, days: int) -> None:
    if isinstance(rows, bool) or not isinstance(rows, int) or rows <= 0:
        raise DataError(f"rows must be a positive whole number, got {rows!r}.", hint="Use e.g. --rows 200000.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DataError(f"seed must be a whole number >= 0, got {seed!r}.", hint="Use e.g. --seed 7.")
    if isinstance(days, bool) or not isinstance(days, int) or days <= 0:
        raise DataError(f"days must be a positive whole number, got {days!r}.", hint="Use e.g. --days 1.")
    if not isinstance(start, date):
        raise DataError(f"start must be a date, got {start!r}.", hint="Use e.g. --start 2019-10-01.")
    try:
        start + timedelta(days=days)
    except OverflowError:
        raise DataError(f"start {start} plus {days} days is past the year 9999.",
                        hint="Choose an earlier --start or fewer --days.") from None
    if Path(out).is_dir():
        raise DataError(f"--out {out} is a folder; it must be a file path.", hint="Add a file name, e.g. events.csv.")


@dataclass
class _Events:
    """Raw rows in session order, before times are made absolute."""

    session: np.ndarray
    offset: np.ndarray  # seconds after the session's first event
    kind: np.ndarray  # index into EVENT_TYPES
    product: np.ndarray
    dirt: np.ndarray  # 0 clean, else 1 + index into DIRT_KINDS
    variant: np.ndarray  # uniform in [0, 1) choosing how a dirty value looks
    is_copy: np.ndarray  # the second of an exact duplicate pair
    user: list[str]  # user_id text per session
    uuid: list[str]  # user_session text per session
    start: np.ndarray  # first event of each session, seconds after the start day's midnight


def _sessions(rng: np.random.Generator, catalog: Catalog, n: int) -> dict[str, np.ndarray]:
    """Events of ``n`` sessions, grouped by session, each in time order."""
    views = np.minimum(1 + np.floor(exponential(rng, 1.0 / math.log1p(1.0 / _MEAN_EXTRA_VIEWS), n)), _MAX_VIEWS)
    views = views.astype(np.int64)
    first_view = np.concatenate([[0], np.cumsum(views)[:-1]])
    v_session = np.repeat(np.arange(n), views)
    anchor = pick(rng, catalog.popularity_cum, n)
    v_product = pick(rng, catalog.popularity_cum, len(v_session))
    same_cat = uniform(rng, len(v_session)) < _SAME_CATEGORY
    near = catalog.pick_in_category(rng, catalog.category[anchor[v_session]])
    v_product = np.where(same_cat, near, v_product)
    v_product[first_view] = anchor
    v_seq = np.arange(len(v_session)) - first_view[v_session]

    carting = np.flatnonzero(uniform(rng, n) < _CART_SESSION)
    n_carts = 1 + (uniform(rng, len(carting)) < _SECOND_CART)
    c_session = np.repeat(carting, n_carts)
    chosen_view = first_view[c_session] + np.floor(uniform(rng, len(c_session)) * views[c_session]).astype(np.int64)
    c_product = v_product[chosen_view]
    c_seq = np.arange(len(c_session))
    removed = uniform(rng, len(c_session)) < _REMOVE
    bought = ~removed & (uniform(rng, len(c_session)) < _PURCHASE)

    session = np.concatenate([v_session, c_session, c_session[removed], c_session[bought]])
    kind = np.concatenate([np.zeros(len(v_session), np.int64), np.full(len(c_session), 1),
                           np.full(int(removed.sum()), 2), np.full(int(bought.sum()), 3)])
    product = np.concatenate([v_product, c_product, c_product[removed], c_product[bought]])
    seq = np.concatenate([v_seq, c_seq, c_seq[removed], c_seq[bought]])
    order = np.lexsort((seq, kind, session))
    session, kind, product = session[order], kind[order], product[order]

    gap_mean = np.array([_GAP_MEAN[k] for k in range(4)])[kind]
    gaps = 1 + np.floor(exponential(rng, gap_mean, len(kind))).astype(np.int64)
    first = np.searchsorted(session, np.arange(n))
    gaps[first] = 0
    run = np.cumsum(gaps)
    offset = run - run[first][session]
    return {"session": session, "kind": kind, "product": product, "offset": offset}


def _events(rng: np.random.Generator, catalog: Catalog, *, rows: int, span_seconds: int) -> _Events:
    parts: list[dict[str, np.ndarray]] = []
    have = 0
    n_sessions = 0
    per_session = (1 + _MEAN_EXTRA_VIEWS) * 1.055 * (1 + _DUPLICATE_RATE)
    while have < rows:
        n = max(16, int((rows - have) / per_session * 1.03) + 8)
        part = _sessions(rng, catalog, n)
        part["session"] = part["session"] + n_sessions
        dirt = np.searchsorted(np.cumsum(_DIRT_RATES), uniform(rng, len(part["kind"])), side="right") + 1
        dirt[dirt > len(DIRT_KINDS)] = 0
        funnel = (part["kind"] != 0) & (dirt == 0) & (uniform(rng, len(dirt)) < _MESSY_FUNNEL_RATE)
        dirt[funnel] = 1 + DIRT_KINDS.index("messy_event_type")
        part["dirt"] = dirt
        part["variant"] = uniform(rng, len(dirt))
        dup_ok = (dirt == 0) | (dirt == 1 + DIRT_KINDS.index("messy_event_type"))
        part["dup"] = dup_ok & (uniform(rng, len(dirt)) < _DUPLICATE_RATE)
        parts.append(part)
        n_sessions += n
        have += len(dirt) + int(part["dup"].sum())

    ev = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    times = 1 + ev["dup"].astype(np.int64)
    expanded = {key: np.repeat(ev[key], times)[:rows] for key in ("session", "kind", "product", "offset", "dirt",
                                                                    "variant")}
    first_row = np.cumsum(times) - times  # where each event's first row lands
    is_copy = np.zeros(int(times.sum()), dtype=bool)
    is_copy[first_row[ev["dup"]] + 1] = True
    paired = is_copy.copy()
    paired[first_row[ev["dup"]]] = True
    is_copy, paired = is_copy[:rows], paired[:rows]
    if rows >= _MIN_ROWS_FOR_EVERY_KIND:
        _ensure_every_kind(rng, expanded["dirt"], paired)

    used = int(expanded["session"][-1]) + 1
    last = np.searchsorted(expanded["session"], np.arange(used), side="right") - 1
    room = np.maximum(span_seconds - expanded["offset"][last], 1)
    start = np.floor(uniform(rng, used) * room).astype(np.int64)
    user_count = max(8, used // 2)
    user_ids = unique_ids(rng, user_count, 512_000_000, 566_000_000)
    user_pick = pick(rng, np.cumsum(np.exp(0.9 * normal(rng, user_count))), used)
    words = np.floor(uniform(rng, (used, 4)) * 2**32).astype(np.int64)
    uuid = [f"{a:08x}-{b >> 16:04x}-{0x4000 | (b & 0x0FFF):04x}-{0x8000 | ((c >> 16) & 0x3FFF):04x}-"
            f"{((c & 0xFFFF) << 32) | d:012x}" for a, b, c, d in words.tolist()]
    return _Events(session=expanded["session"], offset=expanded["offset"], kind=expanded["kind"],
                   product=expanded["product"], dirt=expanded["dirt"], variant=expanded["variant"],
                   is_copy=is_copy, user=[str(u) for u in user_ids[user_pick].tolist()], uuid=uuid, start=start)


def _ensure_every_kind(rng: np.random.Generator, dirt: np.ndarray, paired: np.ndarray) -> None:
    """Give each missing kind of dirt to one clean, unduplicated row, so every silver rule matters."""
    for i in range(len(DIRT_KINDS)):
        if np.any(dirt == i + 1):
            continue
        candidates = np.flatnonzero((dirt == 0) & ~paired)
        if len(candidates):
            dirt[candidates[int(uniform(rng, 1)[0] * len(candidates))]] = i + 1


# ── writing ──────────────────────────────────────────────────────────────────────────────────
def _messy(kind: str, u: float) -> str:
    variants = (kind.upper(), kind.capitalize(), f" {kind}", f"{kind} ", f" {kind.capitalize()}",
                f"{kind.upper()} ", f"  {kind}  ")
    return variants[int(u * len(variants))]


def _dirty_row(ev: _Events, i: int, iso: str, catalog: Catalog) -> str:
    kind_name = EVENT_TYPES[int(ev.kind[i])]
    product = int(ev.product[i])
    session = int(ev.session[i])
    dirt = DIRT_KINDS[int(ev.dirt[i]) - 1] if ev.dirt[i] else ""
    u = float(ev.variant[i])
    time_text = iso.replace("T", " ") + " UTC"
    type_text = kind_name
    block = catalog.block[product]
    user, sess = ev.user[session], ev.uuid[session]
    if dirt == "messy_event_type":
        type_text = _messy(kind_name, u)
    elif dirt == "unknown_event_type":
        type_text = _UNKNOWN_TYPES[int(u * len(_UNKNOWN_TYPES))]
    elif dirt == "null_event_type":
        type_text = ""
    elif dirt == "null_event_time":
        time_text = ""
    elif dirt == "null_product_id":
        block = f",{catalog.block_tail[product]}{catalog.price[product]:.2f}"
    elif dirt == "null_user_id":
        user = ""
    elif dirt == "null_user_session":
        sess = ""
    elif dirt == "price_not_positive":
        price = 0.0 if u < 0.6 else -float(catalog.price[product])
        block = f"{catalog.product_id[product]},{catalog.block_tail[product]}{price:.2f}"
    elif dirt == "price_too_high":
        price = 10_000.0 if u < 0.25 else 10_000.0 + round((u - 0.25) / 0.75 * 40_000, 2)
        block = f"{catalog.product_id[product]},{catalog.block_tail[product]}{price:.2f}"
    return f"{time_text},{type_text},{block},{user},{sess}\n"


def _write(fh: TextIO, ev: _Events, catalog: Catalog, *, start: date, offset: int = 0, done: int = 0,
           total: int | None = None, progress: ProgressCallback | None) -> None:
    """Write ``ev``'s rows in time order; ``offset`` seconds after ``start``'s midnight (a later part of a file)."""
    seconds = ev.start[ev.session] + ev.offset
    order = np.lexsort((np.arange(len(seconds)), seconds))  # time order; copies stay next to their original
    base = np.datetime64(start.isoformat(), "s") + np.timedelta64(offset, "s")
    count = len(order)
    total = count if total is None else total
    for lo in range(0, count, _CHUNK_ROWS):
        idx = order[lo:lo + _CHUNK_ROWS]
        iso = np.datetime_as_string(base + seconds[idx].astype("timedelta64[s]"), unit="s").tolist()
        kinds = ev.kind[idx].tolist()
        products = ev.product[idx].tolist()
        sessions = ev.session[idx].tolist()
        dirt = ev.dirt[idx].tolist()
        lines = []
        for j, i in enumerate(idx.tolist()):
            if dirt[j]:
                lines.append(_dirty_row(ev, i, iso[j], catalog))
            else:
                s = sessions[j]
                t = iso[j]
                lines.append(f"{t[:10]} {t[11:]} UTC,{EVENT_TYPES[kinds[j]]},{catalog.block[products[j]]},"
                             f"{ev.user[s]},{ev.uuid[s]}\n")
        fh.write("".join(lines))
        if progress is not None:
            progress(done + min(lo + _CHUNK_ROWS, count), total)
