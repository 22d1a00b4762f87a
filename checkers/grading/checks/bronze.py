"""Bronze: every raw row, unchanged, plus where and when it was loaded (docs/contract.md, Bronze)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from checkers.data import RAW_COLUMNS
from checkers.grading.checks.common import (
    as_count,
    columns_problem,
    has_columns,
    needs_columns,
    plural,
    quoted,
    table_written,
    thousands,
    verdict,
)
from checkers.grading.checks.evidence import Evidence
from checkers.grading.checks.registry import Outcome, check, failed, failed_alone, passed, skipped
from checkers.grading.expect import Expectations, parse_event_time

BRONZE_COLUMNS = (*RAW_COLUMNS, "ingestion_ts", "source_file")
READER_COLUMNS = ("_rescued_data",)
"""Columns Databricks' own file readers add to a raw read (``read_files`` and Auto Loader's rescued-data column): a
bronze table may carry them, since the learner did not choose them."""
TIMESTAMP_TYPES = ("timestamp", "timestamp_ntz")
_ID_COLUMNS = ("product_id", "category_id", "user_id")


@check("bronze.table", points=2, title="bronze_events is written to the job's schema",
       hint="Write the table as f\"{schema}.bronze_events\" with saveAsTable, schema read from the `schema` widget.",
       docs="bronze.md")
def table(ev: Evidence) -> Outcome:
    return table_written(ev, "bronze_events", "01_bronze")


@check("bronze.columns", points=2, title="bronze has the 9 raw columns plus ingestion_ts and source_file",
       hint="Keep the 9 raw CSV columns as read and add ingestion_ts (current_timestamp()) and source_file "
            "(_metadata.file_path).", docs="bronze.md", requires=("bronze.table",))
def columns(ev: Evidence) -> Outcome:
    snap = ev.table("bronze_events")
    problem = columns_problem(snap, BRONZE_COLUMNS, what="bronze", allowed=READER_COLUMNS)
    if problem:  # the 9 raw columns are there: the rows and values are still judged (one mistake, marked once)
        return failed_alone(problem) if has_columns(snap, RAW_COLUMNS) else failed(problem)
    return passed("the 9 raw columns plus ingestion_ts and source_file")


@check("bronze.rows", points=2, title="bronze keeps every raw row",
       hint="Bronze drops nothing: no filter, no dropDuplicates, no dropna (cleaning is silver's job), and "
            "mode(\"overwrite\") so a rerun does not add the rows twice.", docs="bronze.md",
       requires=("widgets.parameters_used",))
def rows(ev: Evidence) -> Outcome:
    exp = ev.expectations
    snap = ev.table("bronze_events")
    if exp is None:
        return skipped(f"no expectations: {ev.expectations_error}")
    want, have = exp.bronze.rows, snap.rows
    if have == want:
        return passed(f"{thousands(have)} rows, every row of the raw file")
    diff = have - want
    more = "more" if diff > 0 else "fewer"
    message = (f"expected {thousands(want)} rows (every raw row), found {thousands(have)} — {thousands(abs(diff))} "
               f"{more}")
    hint = None
    if have == 2 * want:
        message += ": every row is there twice"
        hint = "Write bronze with mode(\"overwrite\"), not append, so a rerun replaces the table."
    elif diff < 0:
        dups = int(exp.raw.duplicated().sum())
        if dups and -diff == dups:
            message += f", exactly the {thousands(dups)} duplicate rows"
            hint = "Keep duplicates in bronze; silver removes them."
    return failed(message, hint=hint)


def _whole_numbers(values: pd.Series) -> pd.Series:
    """Ids as exact nullable integers, whatever type bronze stored them in (text, long, double)."""
    if isinstance(values.dtype, pd.Int64Dtype):
        return values
    try:
        if pd.api.types.is_float_dtype(values.dtype):
            return values.astype("Int64")  # raises when a value is not whole
        array = pa.array(values.to_numpy(dtype=object), from_pandas=True)
        if pa.types.is_null(array.type):
            return pd.Series(pd.array([pd.NA] * len(values), dtype="Int64"), index=values.index)
        if not pa.types.is_string(array.type):
            raise TypeError(f"ids stored as {array.type}")
        text = pc.utf8_trim_whitespace(array)
        return pd.Series(pc.cast(text, pa.int64()).to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get).array,
                         index=values.index)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, TypeError, ValueError):
        return _text(values)


def _numbers(values: pd.Series) -> pd.Series:
    """Prices as floats rounded to 6 places (``35.790`` and ``35.79`` are the same price)."""
    try:
        return pd.to_numeric(values, errors="raise").astype("float64").round(6)
    except (TypeError, ValueError):
        return _text(values)


def _text(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), None).map(lambda v: v if v is None else str(v))


def _instants(values: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(values, utc=True).dt.as_unit("ns")
    return pd.Series(stamps.array.asi8, index=values.index).astype("Int64").mask(stamps.isna().to_numpy())


def canonical_raw(exp: Expectations, *, time_as_timestamp: bool) -> pd.DataFrame:
    """The unseen data in :func:`canonical_frame` form, worked out once per expectations (do not change it)."""
    key = f"canonical_raw_{'time' if time_as_timestamp else 'text'}"
    frame = exp.derived.get(key)
    if frame is None:
        raw = exp.raw.copy()
        if time_as_timestamp:
            raw["event_time"] = parse_event_time(raw["event_time"])
        frame = exp.derived[key] = canonical_frame(raw, time_as_timestamp=time_as_timestamp)
    assert isinstance(frame, pd.DataFrame)
    return frame


def canonical_frame(frame: pd.DataFrame, *, time_as_timestamp: bool) -> pd.DataFrame:
    """The 9 raw columns in comparable form: numbers as numbers, the time as text or as a UTC instant."""
    out = {}
    for column in RAW_COLUMNS:
        values = frame[column]
        if column in _ID_COLUMNS:
            out[column] = _whole_numbers(values)
        elif column == "price":
            out[column] = _numbers(values)
        elif column == "event_time" and time_as_timestamp:
            out[column] = _instants(values)
        else:
            out[column] = values.astype(object).where(values.notna(), None)
    return pd.DataFrame(out).reset_index(drop=True)


def _aligned_types(want: pd.DataFrame, have: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Where a column's canonical types differ (a number left as odd text), compare both as text."""
    for column in RAW_COLUMNS:
        if want[column].dtype != have[column].dtype:
            want[column], have[column] = _text(want[column]), _text(have[column])
    return want, have


def _same_multiset(a: pd.Series | pd.DataFrame, b: pd.Series | pd.DataFrame) -> bool:
    if len(a) != len(b):
        return False
    ha = np.sort(pd.util.hash_pandas_object(a, index=False).to_numpy())
    hb = np.sort(pd.util.hash_pandas_object(b, index=False).to_numpy())
    return bool(np.array_equal(ha, hb))


@check("bronze.values", points=2, title="bronze values are the raw values, unchanged",
       hint="Read the CSV with its header and write it as it is: no trimming, casing, renaming or filling in "
            "bronze. Inferred number types are fine.", docs="bronze.md", requires=("bronze.rows",))
def values(ev: Evidence) -> Outcome:
    exp = ev.expectations
    snap = ev.table("bronze_events")
    assert exp is not None and snap.frame is not None
    as_time = snap.dtypes.get("event_time") in TIMESTAMP_TYPES
    want, have = _aligned_types(canonical_raw(exp, time_as_timestamp=as_time).copy(),
                                canonical_frame(snap.frame, time_as_timestamp=as_time))
    changed = []
    for column in RAW_COLUMNS:
        if _same_multiset(want[column], have[column]):
            continue
        w = _text(want[column]).fillna("<null>").value_counts()
        h = _text(have[column]).fillna("<null>").value_counts()
        both = pd.concat([w, h], axis=1, keys=["want", "have"]).fillna(0)
        lost = both.index[both["want"] > both["have"]].tolist()
        gained = both.index[both["have"] > both["want"]].tolist()
        changed.append((column, int((both["want"] - both["have"]).clip(lower=0).sum()), lost, gained))
    if not changed:
        if _same_multiset(want, have):
            return passed(f"all {thousands(snap.rows)} rows hold the raw values"
                          + (" (event_time as a timestamp)" if as_time else ""))
        return failed("some rows mix values of different raw rows (each column holds the right values, but not "
                      "in the right rows)")
    parts = []
    for column, count, lost, gained in changed[:4]:
        example = f" (e.g. raw {quoted(lost, 2)} became {quoted(gained, 2)})" if lost and gained else ""
        parts.append(f"{column} differs in {plural(max(count, 1), 'row')}{example}")
    return failed("bronze must hold the raw values: " + "; ".join(parts))


@check("bronze.metadata", points=1, title="ingestion_ts and source_file are filled in on every row",
       hint="Add F.current_timestamp().alias(\"ingestion_ts\") and F.col(\"_metadata.file_path\")"
            ".alias(\"source_file\").", docs="bronze.md", requires=("bronze.columns", "widgets.parameters_used"))
@needs_columns("bronze_events", "ingestion_ts", "source_file", says="bronze.columns")
def metadata(ev: Evidence) -> Outcome:
    snap = ev.table("bronze_events")
    frame = snap.frame
    assert frame is not None
    problems = []
    ts_type = snap.dtypes.get("ingestion_ts")
    if ts_type not in TIMESTAMP_TYPES:
        problems.append(f"ingestion_ts is a {ts_type}, not a timestamp")
    null_ts = int(frame["ingestion_ts"].isna().sum())
    if null_ts:
        problems.append(f"ingestion_ts is null in {plural(null_ts, 'row')}")
    if snap.dtypes.get("source_file") != "string":
        problems.append(f"source_file is a {snap.dtypes.get('source_file')}, not a string")
    files = frame["source_file"]
    null_files = int(files.isna().sum())
    if null_files:
        problems.append(f"source_file is null in {plural(null_files, 'row')}")
    if ev.expectations is not None:
        wrong = [v for v in files.dropna().astype(str).unique() if not ev.expectations.bronze.matches_source_file(v)]
        if wrong:
            problems.append(f"source_file names {quoted(wrong, 2)}, not the file read ({ev.source_path.name})")
    return verdict(problems, f"ingestion_ts is a timestamp and source_file names {ev.source_path.name} on every row")


@check("bronze.task_value", points=1, title="01_bronze sets the task value bronze_rows",
       hint="After writing, count the table and set it: dbutils.jobs.taskValues.set(key=\"bronze_rows\", "
            "value=spark.table(bronze_table).count()).", docs="dependencies.md", requires=("bronze.table",))
def task_value(ev: Evidence) -> Outcome:
    return task_value_outcome(ev, stem="01_bronze", key="bronze_rows", table_name="bronze_events")


def task_value_outcome(ev: Evidence, *, stem: str, key: str, table_name: str) -> Outcome:
    """Shared by bronze_rows and silver_rows: the task value equals the table's row count."""
    run = ev.notebook_run(stem)
    values = run.task_values
    snap = ev.table(table_name)
    if key not in values:
        where = "" if run.ok else f" ({run.explain()})"
        return failed(f"{stem} set no task value {key}{where}")
    value = as_count(values[key])
    if value is None:
        value = values[key]
        return failed(f"task value {key} is {value!r} ({type(value).__name__}); it must be the row count, a number")
    if value != snap.rows:
        return failed(f"task value {key} is {thousands(value)}, but {snap.qualified} has {thousands(snap.rows)} rows")
    return passed(f"task value {key} = {thousands(value)}, the row count of {snap.qualified}")
