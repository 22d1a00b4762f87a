"""Silver: the cleaned events, one check per silver rule of docs/contract.md, then the values row by row.

The rule checks read one shared :class:`~checkers.grading.checks.silver_match.SilverMatch`, so a difference is
reported once, by the rule that explains it; what no rule explains is reported by ``silver.kept_rows``
(rows missing) or ``silver.values`` (rows changed).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from checkers.data import EVENT_TYPES, RAW_COLUMNS
from checkers.grading.checks.bronze import TIMESTAMP_TYPES, task_value_outcome
from checkers.grading.checks.common import (
    columns_problem,
    needs_columns,
    plain,
    plural,
    quoted,
    table_written,
    thousands,
    verdict,
)
from checkers.grading.checks.evidence import Evidence
from checkers.grading.checks.registry import CheckFunc, Outcome, check, failed, failed_alone, passed, skipped
from checkers.grading.checks.silver_match import SilverMatch, duplicate_copies, match_silver, null_counts, tiers
from checkers.grading.expect import DEDUP_KEY, SILVER_COLUMNS, UNKNOWN

INTEGRAL = ("tinyint", "smallint", "int", "bigint")
FLOATING = ("float", "double")
COLUMN_KINDS = {"event_time": "timestamp", "event_date": "date", "product_id": "integral",
                "category_id": "integral", "user_id": "integral", "price": "floating"}
"""Silver column types (docs/contract.md); every other column is a string."""
KEY_TEXT = "(" + ", ".join(DEDUP_KEY) + ")"
MATCH_COLUMNS = (*DEDUP_KEY, "price")
"""What matching silver rows to the expected ones reads: without them (in a usable type) no rule can be judged."""
RULES = ("silver.parse_time", "silver.not_null", "silver.event_type", "silver.price", "silver.dedup",
         "silver.unknown_fill", "silver.derived")


MIN_KEPT_SHARE = 0.25
"""The share of the expected rows silver must hold for its rules, and gold on it, to be judged when it lacks rows no
rule explains: below it (an empty silver, a parse that fails nearly everywhere) there is too little to judge."""
RULE_CHECKS = {"rule1": "silver.parse_time", "rule2": "silver.not_null", "rule3": "silver.event_type",
               "rule4": "silver.price", "rule5": "silver.dedup"}


def too_few_rows(ev: Evidence) -> str | None:
    """Why silver's rows are too few to judge the rules (and gold) on, when it lacks rows no rule explains."""
    match = shared_match(ev)
    if not match.missing.get("unexplained", 0):
        return None
    held = 0 if match.matched is None else len(match.matched)
    if held >= MIN_KEPT_SHARE * match.expected_rows:
        return None
    return (f"silver_events holds only {thousands(held)} of the {thousands(match.expected_rows)} rows that pass every "
            "rule (see silver.kept_rows)")


def shared_match(ev: Evidence) -> SilverMatch:
    """The silver matching, computed once per evidence."""
    if "silver_match" not in ev.cache:
        assert ev.expectations is not None, ev.expectations_error
        ev.cache["silver_match"] = match_silver(exp=ev.expectations, frame=_frame(ev))
    return ev.cache["silver_match"]


def _frame(ev: Evidence) -> pd.DataFrame:
    """Silver's rows, ids held as floating point (a pandas round trip makes them so) read as the whole numbers they
    are: the contract asks for numeric ids, and a double holds product_id and user_id exactly."""
    if "silver_frame" not in ev.cache:
        snap = ev.table("silver_events")
        frame = snap.frame
        assert frame is not None
        floating = [c for c, kind in COLUMN_KINDS.items() if kind == "integral" and snap.dtypes.get(c) in FLOATING]
        if floating:
            frame = frame.copy()
            for column in floating:
                values = pd.to_numeric(frame[column], errors="coerce")
                frame[column] = values.where(values % 1 == 0).astype("Int64")
        ev.cache["silver_frame"] = frame
    return ev.cache["silver_frame"]


def _usable(snap_types: dict[str, str], column: str) -> bool:
    """The column is there, in the contract's type (a decimal price too: it holds the same amounts)."""
    have = snap_types.get(column)
    return _kind_ok(have, COLUMN_KINDS.get(column, "string")) or (
        column == "price" and have is not None and have.startswith("decimal("))


def _needs(*columns: str) -> Callable[[CheckFunc], CheckFunc]:
    """A check of silver's ``columns``: skipped when silver lacks one or holds it in another type."""
    return needs_columns("silver_events", *columns, usable=lambda snap, column: _usable(snap.dtypes, column),
                         says="silver.columns")


def _kind_ok(spark_type: str | None, kind: str) -> bool:
    if spark_type is None:
        return False
    if kind == "timestamp":
        return spark_type in TIMESTAMP_TYPES
    if kind == "integral":  # "numeric ids stay numeric": a double too (a 64-bit category_id it rounds fails values)
        return spark_type in (*INTEGRAL, *FLOATING) or (spark_type.startswith("decimal(")
                                                        and spark_type.endswith(",0)"))
    if kind == "floating":
        return spark_type in FLOATING
    return spark_type == kind


@check("silver.table", points=1, title="silver_events is written to the job's schema",
       hint="Write the table as f\"{schema}.silver_events\" with saveAsTable (mode overwrite).", docs="silver.md")
def table(ev: Evidence) -> Outcome:
    return table_written(ev, "silver_events", "02_silver")


@check("silver.columns", points=2, title="silver has the contract's 11 columns and types",
       hint="Select exactly the 9 raw columns, event_date and price_tier; cast the ids to BIGINT, price to DOUBLE "
            "and parse event_time to a timestamp.", docs="silver.md", requires=("silver.table",))
def columns(ev: Evidence) -> Outcome:
    snap = ev.table("silver_events")
    problem = columns_problem(snap, SILVER_COLUMNS, what="silver")
    wrong = []
    for column in (c for c in SILVER_COLUMNS if c in snap.columns):
        kind = COLUMN_KINDS.get(column, "string")
        have = snap.dtypes.get(column)
        if not _kind_ok(have, kind):
            words = {"integral": "a number type (BIGINT)", "floating": "floating point (DOUBLE)",
                     "timestamp": "a timestamp", "date": "a date", "string": "a string"}[kind]
            wrong.append(f"{column} is {have}, expected {words}")
    # Rows can still be matched (so the rules judged, each on the columns it needs) when the match columns are usable.
    judgeable = all(_usable(snap.dtypes, c) for c in MATCH_COLUMNS)
    prefix = "" if problem else "silver types: "
    if problem:
        wrong.insert(0, problem)
    if wrong and judgeable:  # one mistake, marked down once: the other silver checks still judge the table
        return failed_alone(prefix + "; ".join(wrong))
    return verdict(wrong, "the 11 columns, event_time a timestamp, event_date a date, ids numbers, price a "
                          "double", prefix=prefix)


@check("silver.kept_rows", points=2, title="silver keeps every row that passes the rules",
       hint="Only drop what a rule says; check each filter on its own (the notebook's check cells show the counts).",
       docs="silver.md", requires=("silver.columns",))
def kept_rows(ev: Evidence) -> Outcome:
    match = shared_match(ev)
    lost = match.missing.get("unexplained", 0)
    if not lost:
        explained = {rule: n for rule, n in match.missing.items() if rule != "unexplained"}
        if explained:  # counted once, under the rule check that names them
            named = ", ".join(f"{thousands(n)} by {RULE_CHECKS.get(rule, rule)}" for rule, n in explained.items())
            return passed(f"no row is missing beyond the {thousands(sum(explained.values()))} that a rule check below "
                          f"names ({named}; of {thousands(match.expected_rows)} rows that pass every rule)")
        return passed(f"all {thousands(match.expected_rows)} rows that pass the rules are kept")
    message = (f"silver lacks {thousands(lost)} of the {thousands(match.expected_rows)} rows that pass every rule "
               f"(e.g. {'; '.join(match.missing_examples.get('unexplained', []))})")
    hint = None
    if too_few_rows(ev) is None:  # one mistake, marked once: each rule check still judges the rows silver kept
        return failed_alone(message + "; the rule checks judge the rows it kept")
    if match.actual_rows == 0:
        message = f"silver is empty; {thousands(match.expected_rows)} rows pass every rule"
        hint = ("Usually the event_time parse: with a pattern that does not match the raw text (`2019-10-01 00:00:04 "
                "UTC`), try_to_timestamp gives null for every row, and the null filter then drops them all. Use "
                "\"yyyy-MM-dd HH:mm:ss 'UTC'\" (or strip ' UTC' and use \"yyyy-MM-dd HH:mm:ss\"). If bronze read "
                "the CSV with inferSchema, event_time is a timestamp already: do not parse it again (as text it has "
                "lost ' UTC').")
    return failed(message, hint=hint)


def _extra_text(match: SilverMatch, rule: str, what: str) -> str | None:
    count = match.extra.get(rule, 0)
    if not count:
        return None
    examples = match.extra_examples.get(rule) or []
    return f"kept {plural(count, 'row')} {what}" + (f" (e.g. {quoted(examples, 3)})" if examples else "")


def _missing_text(match: SilverMatch, rule: str, what: str) -> str | None:
    count = match.missing.get(rule, 0)
    if not count:
        return None
    examples = match.missing_examples.get(rule) or []
    return f"dropped {plural(count, 'row')} {what}" + (f" (e.g. {quoted(examples, 3)})" if examples else "")


def _drop_count(ev: Evidence, rule: int) -> int:
    assert ev.expectations is not None
    return ev.expectations.silver.drop(rule).rows


@check("silver.parse_time", points=2, title="rule 1: event_time parsed as a UTC timestamp",
       hint="F.to_timestamp(\"event_time\", \"yyyy-MM-dd HH:mm:ss 'UTC'\") reads the raw shape (quotes make UTC "
            "literal text); stripping ' UTC' first and using \"yyyy-MM-dd HH:mm:ss\" works too. Times are UTC: do not "
            "convert them.", docs="silver.md",
       requires=("silver.kept_rows",))
def parse_time(ev: Evidence) -> Outcome:
    match = shared_match(ev)
    problems = [p for p in (_extra_text(match, "rule1", "whose raw event_time is not `yyyy-MM-dd HH:mm:ss UTC`"),
                            _missing_text(match, "rule1", "whose event_time parses as `yyyy-MM-dd HH:mm:ss UTC`, all "
                                          "at hours 00 and 12-23: a 12-hour `hh` in the pattern? Hours need `HH`"))
                if p]
    if match.shift is not None:
        hours = match.shift / pd.Timedelta(hours=1)
        problems.append(f"event_time is {hours:+g} h off the raw UTC time in most rows: parse it as UTC "
                        "(the session time zone is UTC; do not shift it)")
    return verdict(problems, lambda: _parsed_message(ev))


def _parsed_message(ev: Evidence) -> str:
    unparsable = _drop_count(ev, 1)
    dropped = f"; the {thousands(unparsable)} rows whose time does not parse are dropped" if unparsable else ""
    return f"event_time parsed as UTC, every time equal to the raw text{dropped}"


@check("silver.not_null", points=2, title="rule 2: rows missing a required value are dropped",
       hint="dropna(subset=[\"event_time\", \"event_type\", \"product_id\", \"user_id\", \"user_session\"]): only "
            "these five are required; brand and category_code may be null (rule 6 fills them).", docs="silver.md",
       requires=("silver.kept_rows",))
@_needs("event_type", "product_id", "user_id", "user_session")
def not_null(ev: Evidence) -> Outcome:
    match = shared_match(ev)
    frame = _frame(ev)
    problems: list[str | None] = []
    nulls = null_counts(frame, ("event_type", "product_id", "user_id", "user_session"))
    if nulls:
        problems.append("silver has nulls in " + ", ".join(f"{c} ({thousands(k)} rows)" for c, k in nulls.items()))
    if match.null_times.get("rule2"):
        problems.append(f"kept {plural(match.null_times['rule2'], 'row')} with a null event_time")
    problems.append(_missing_text(match, "rule2", "that only lack brand or category_code, which are not required"))
    return verdict(problems, lambda: f"no nulls in the 5 required columns; {thousands(_drop_count(ev, 2))} rows with "
                                     "one were dropped")


@check("silver.event_type", points=1, title="rule 3: event_type trimmed, lower-cased, only the 4 known types",
       hint="First F.lower(F.trim(\"event_type\")), then keep event_type in (view, cart, remove_from_cart, "
            "purchase): trimming after the filter loses ' View'.", docs="silver.md", requires=("silver.kept_rows",))
def event_type(ev: Evidence) -> Outcome:
    match = shared_match(ev)
    frame = _frame(ev)
    problems: list[str | None] = []
    types = frame["event_type"].dropna()
    odd = types[~types.isin(EVENT_TYPES)]
    if len(odd):
        problems.append(f"{plural(len(odd), 'row')} have an event_type outside {', '.join(EVENT_TYPES)} "
                        f"({quoted(odd.value_counts().index, 4)})")
    problems.append(_missing_text(match, "rule3", "whose event_type only needed trimming or lower-casing"))
    return verdict(problems, lambda: _event_types_message(ev))


def _event_types_message(ev: Evidence) -> str:
    exp = ev.expectations
    assert exp is not None
    return (f"only the 4 event types; {thousands(exp.silver.normalized_event_types)} mis-cased or padded types "
            f"fixed, {thousands(_drop_count(ev, 3))} unknown types dropped")


@check("silver.price", points=2, title="rule 4: only 0 < price < 10000 kept",
       hint="filter((F.col(\"price\") > 0) & (F.col(\"price\") < 10000)): both bounds strict.", docs="silver.md",
       requires=("silver.kept_rows",))
def price(ev: Evidence) -> Outcome:
    match = shared_match(ev)
    frame = _frame(ev)
    p = frame["price"].astype("float64")
    bad = p[~((p > 0) & (p < 10_000))]
    problems: list[str | None] = []
    if len(bad):
        shown = sorted({float(v) for v in bad.dropna()})
        extremes = ([shown[0]] if shown else []) + ([shown[-1]] if len(shown) > 1 else [])
        nulls = int(bad.isna().sum())
        problems.append(f"kept {plural(len(bad), 'row')} outside 0 < price < 10000"
                        + (f" (prices {' … '.join(f'{v:g}' for v in extremes)})" if extremes else "")
                        + (f", {thousands(nulls)} of them with no price" if nulls else ""))
    problems.append(_missing_text(match, "rule4", "whose price is inside 0 < price < 10000"))
    return verdict(problems, lambda: f"every price is in 0 < price < 10000; {thousands(_drop_count(ev, 4))} rows "
                                     "outside were dropped")


@check("silver.dedup", points=2, title="rule 5: one row per (user_session, event_time, event_type, product_id)",
       hint="dropDuplicates([\"user_session\", \"event_time\", \"event_type\", \"product_id\"]) after event_type is "
            "cleaned: exactly these four columns, no fewer.", docs="silver.md", requires=("silver.kept_rows",))
def dedup(ev: Evidence) -> Outcome:
    match = shared_match(ev)
    frame = _frame(ev)
    copies = duplicate_copies(frame)
    problems: list[str | None] = []
    if copies:
        if match.actual_rows - match.expected_rows == copies:
            problems.append(f"expected {thousands(match.expected_rows)} rows, found {thousands(match.actual_rows)} — "
                            f"{thousands(copies)} duplicates on {KEY_TEXT}")
        else:
            problems.append(f"{thousands(copies)} extra copies of rows sharing {KEY_TEXT}")
    problems.append(_missing_text(match, "rule5", "that are not duplicates: rows are duplicates only when all of "
                                  f"{KEY_TEXT} are equal"))
    return verdict(problems, lambda: f"one row per {KEY_TEXT}; {thousands(_drop_count(ev, 5))} duplicates dropped")


@check("silver.unknown_fill", points=1, title="rule 6: null brand and category_code become 'unknown'",
       hint="fillna(\"unknown\", subset=[\"brand\", \"category_code\"]): exactly the text unknown, nothing else "
            "changed.", docs="silver.md", requires=("silver.kept_rows",))
@_needs("brand", "category_code")
def unknown_fill(ev: Evidence) -> Outcome:
    match = shared_match(ev)
    frame = _frame(ev)
    exp = ev.expectations
    assert exp is not None and match.matched is not None
    problems: list[str | None] = []
    nulls = null_counts(frame, ("brand", "category_code"))
    if nulls:
        problems.append("silver still has null " + ", ".join(f"{c} ({thousands(k)} rows)" for c, k in nulls.items()))
    for column in ("brand", "category_code"):
        want = exp.silver.frame[column].to_numpy()[match.matched["e_pos"].to_numpy(dtype=int)]
        have = frame.loc[match.matched["s_index"], column].to_numpy()
        should = want == UNKNOWN
        wrong = should & (have != UNKNOWN) & pd.notna(have)
        if wrong.any():
            problems.append(f"{plural(int(wrong.sum()), 'row')} with no {column} hold {quoted(set(have[wrong]), 3)} "
                            f"instead of {UNKNOWN!r}")
    return verdict(problems, f"{thousands(exp.silver.unknown_brands)} null brands and "
                             f"{thousands(exp.silver.unknown_category_codes)} null category codes became 'unknown'")


@check("silver.derived", points=2, title="rule 7: event_date is the UTC date; price_tier by price",
       hint="event_date = F.to_date(\"event_time\"); price_tier = F.when(price < 10, \"budget\").when(price < 50, "
            "\"mid\").otherwise(\"premium\").", docs="silver.md", requires=("silver.kept_rows",))
@_needs("event_time", "price", "event_date", "price_tier")
def derived(ev: Evidence) -> Outcome:
    frame = _frame(ev)
    problems: list[str | None] = []
    timed = frame[frame["event_time"].notna()]
    dates = pd.to_datetime(timed["event_time"], utc=True).dt.date
    wrong_dates = (timed["event_date"].astype(object) != dates.astype(object)).to_numpy()
    if wrong_dates.any():
        bad = timed[wrong_dates].iloc[0]
        problems.append(f"event_date is not the UTC date of event_time in {plural(int(wrong_dates.sum()), 'row')} "
                        f"(e.g. {bad['event_time']} has {bad['event_date']})")
    priced = frame[frame["price"].notna()]
    want = tiers(priced["price"])
    wrong_tiers = (priced["price_tier"].astype(object) != want).to_numpy()
    if wrong_tiers.any():
        bad = priced[wrong_tiers].iloc[0]
        problems.append(f"price_tier is wrong in {plural(int(wrong_tiers.sum()), 'row')} (e.g. price "
                        f"{float(bad['price']):g} has {bad['price_tier']!r}, expected {want[wrong_tiers].iloc[0]!r})")
    return verdict(problems, "event_date is the UTC date of event_time and price_tier follows the price in every row")


@check("silver.values", points=2, title="silver holds exactly the expected rows and values",
       hint="Change nothing but what a rule says: keep ids, category_id, brand and price as the raw values.",
       docs="silver.md", requires=RULES)
@_needs(*RAW_COLUMNS)
def values(ev: Evidence) -> Outcome:
    match = shared_match(ev)
    if match.missing.get("unexplained", 0):  # silver.kept_rows marks the lost rows down, once
        return skipped("needs silver.kept_rows (silver keeps every row that passes the rules), which failed")
    frame = _frame(ev)
    exp = ev.expectations
    assert exp is not None and match.matched is not None
    problems: list[str | None] = []
    if match.unexplained_extra:
        problems.append(f"{plural(match.unexplained_extra, 'row')} match no raw row (a key column was changed)")
    want = exp.silver.frame.iloc[match.matched["e_pos"].to_numpy(dtype=int)].reset_index(drop=True)
    have = frame.loc[match.matched["s_index"]].reset_index(drop=True)
    for column in [c for c in RAW_COLUMNS if c not in ("event_time", "event_type", "user_session", "product_id")]:
        w, h = want[column], have[column]
        if column == "price":
            differs = ~((w.astype("float64") - h.astype("float64")).abs() <= 1e-6 * w.abs().clip(lower=1))
        else:
            differs = ~((w.astype(object) == h.astype(object)) | (pd.isna(w) & pd.isna(h)))
        differs = differs.fillna(True).to_numpy()
        if differs.any():
            i = int(differs.nonzero()[0][0])
            problems.append(f"{column} differs in {plural(int(differs.sum()), 'row')} (e.g. expected "
                            f"{plain(w.iloc[i])!r}, found {plain(h.iloc[i])!r})")
    if not problems and match.actual_rows != match.expected_rows:
        problems.append(f"expected {thousands(match.expected_rows)} rows, found {thousands(match.actual_rows)}")
    return verdict(problems, f"all {thousands(match.expected_rows)} rows and their values are as expected")


@check("silver.task_value", points=1, title="02_silver sets the task value silver_rows",
       hint="After writing, set dbutils.jobs.taskValues.set(key=\"silver_rows\", value=spark.table(silver_table)"
            ".count()).", docs="dependencies.md", requires=("silver.table",))
def task_value(ev: Evidence) -> Outcome:
    return task_value_outcome(ev, stem="02_silver", key="silver_rows", table_name="silver_events")
