"""Layers graded on their own when the layer before them failed: one mistake, marked once.

When ``01_bronze`` or ``02_silver`` stops with an error, the job never runs the layers after it, and every check of
theirs would fail for a mistake made before them. So the grader writes the table it expects from the failed layer
(from its own reading of the unseen data, see :mod:`checkers.grading.expect`) into a schema of its own, runs the
next notebook there with the job's values, and grades the tables that notebook wrote; and so on down the line:

- ``01_bronze`` failed: the expected bronze goes into ``<schema>_b`` and ``02_silver`` runs there; then ``03_gold``
  runs in ``<schema>_g`` on a copy of the silver table that run wrote, or on the expected silver when silver
  failed too;
- ``02_silver`` failed: the expected silver goes into ``<schema>_g`` and ``03_gold`` runs there.

Each schema holds the one table its notebook reads, nothing else: a notebook never sees an expected table of any
layer but the one it would have read anyway (gold never sees the expected bronze), so this can only give back the
points a layer's own work earns. The replaced layer's task value (``bronze_rows``, ``silver_rows``) is the row count
of the table written in its place. The checks of the failed layer still fail: its own tables are the job's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checkers.grading.checks import NotebookRun, TableSnapshot, snapshot_tables
from checkers.grading.runs import run_layers_directly

LAYERS = ("01_bronze", "02_silver", "03_gold")
READS = {"02_silver": ("bronze_events", "bronze_rows", "_b"), "03_gold": ("silver_events", "silver_rows", "_g")}
"""What each later layer reads: the table, the task value of the task before it, and its schema's suffix."""
WRITES = {"02_silver": ("silver_events",), "03_gold": ("gold_product_metrics", "gold_daily_sales")}
_RAW = ("event_time", "event_type", "product_id", "category_id", "category_code", "brand", "price", "user_id",
        "user_session")
_SILVER_SCHEMA = ("event_time timestamp, event_type string, product_id bigint, category_id bigint, "
                  "category_code string, brand string, price double, user_id bigint, user_session string, "
                  "event_date date, price_tier string")


@dataclass
class Downstream:
    """The layers the grader ran on its own tables, and what they wrote."""

    runs: dict[str, NotebookRun] = field(default_factory=dict)
    """Contract stem → its run on the grader's table (replacing the job's ``not_run``)."""
    tables: dict[str, TableSnapshot] = field(default_factory=dict)
    """Contract table name → the table that run wrote."""
    notes: list[str] = field(default_factory=list)
    """What the report says about it."""
    gold_on_expected_silver: bool = False
    """03_gold read the grader's expected silver (so its basis is the raw data)."""


def failed_layer(runs: dict[str, NotebookRun], *, present: Callable[[str], bool]) -> str | None:
    """The layer that ran and failed while a later one, which the submission has, never ran; else None."""
    for index, stem in enumerate(LAYERS[:-1]):
        run = runs.get(stem)
        if run is None or run.status == "not_run":
            return None  # never reached (a condition task): runs.py grades what follows by running it directly
        if not run.ok:
            later = [s for s in LAYERS[index + 1:] if present(s)]
            return stem if any(runs.get(s) is None or runs[s].status == "not_run" for s in later) else None
    return None


def run_downstream(*, spark: Any, exp: Any, schema: str, submission: Any, unreadable: dict[str, str],
                   parameters: dict[str, str], runs: dict[str, NotebookRun], out_dir: Path, env: dict[str, str],
                   cell_timeout: float | None, skip_kit_checks: bool, owned: list[str],
                   say: Callable[[str], None] = lambda _phase: None) -> Downstream:
    """Run the layers after the one that failed, each on the grader's table of the layer before it.

    Never raises: what cannot be run stays not run, and a note says why. The schemas made are added to ``owned``
    (the grading drops them).
    """
    done = Downstream()
    present = lambda stem: submission.notebook(stem) is not None  # noqa: E731
    failed = failed_layer(runs, present=present)
    if failed is None:
        return done
    in_job = {stem: run for stem, run in runs.items() if run.task_key}
    keys = {stem: run.task_key for stem, run in in_job.items() if run.task_key}
    values = {run.task_key: dict(run.task_values) for run in in_job.values() if run.task_key}
    common = {"submission": submission, "unreadable": unreadable, "out_dir": out_dir, "env": env,
              "cell_timeout": cell_timeout, "skip_kit_checks": skip_kit_checks, "task_keys": keys}
    learner_silver: str | None = None  # the silver table 02_silver wrote in its own run here
    for stem in LAYERS[LAYERS.index(failed) + 1:]:
        if not present(stem) or stem in done.runs or (stem in runs and runs[stem].status != "not_run"):
            continue
        table, value, suffix = READS[stem]
        before = LAYERS[LAYERS.index(stem) - 1]
        own = f"{schema}{suffix}"
        expected = learner_silver is None
        say(f"Running {stem} on the grader's {table} ({failed} failed, so the job never ran it)")
        try:
            rows = _write_input(spark, exp=exp, table=table, schema=own, copy_of=learner_silver, owned=owned)
            values[keys.get(before, before)] = {**values.get(keys.get(before, before), {}), value: rows}
            _tasks, direct = run_layers_directly(parameters={**parameters, "schema": own}, stems=(stem,),
                                                 task_values=values, **common)
            written = snapshot_tables(spark, schema=own, names=WRITES[stem])
        except Exception as exc:  # noqa: BLE001 - the layer then stays not run, with the reason
            done.notes.append(f"{stem} could not be run on the grader's {table}: {type(exc).__name__}: {exc}")
            return done
        run = done.runs[stem] = direct[stem]
        values[keys.get(stem, stem)] = dict(run.task_values)
        done.tables.update(written)
        source = (f"its own expected {table.split('_')[0]}" if expected else
                  f"a copy of the {table} that 02_silver wrote in {str(learner_silver).split('.')[0]}")
        also = " (02_silver failed there too)" if expected and before in done.runs else ""
        done.notes.append(f"{failed} failed, so the job never ran {stem}: the grader ran it on {source}{also} "
                          f"(schema {own}), so {stem.split('_')[1]} is graded on its own")
        if stem == "02_silver":
            silver = written.get("silver_events")
            learner_silver = f"{own}.silver_events" if run.ok and silver is not None and silver.readable else None
        else:
            done.gold_on_expected_silver = expected
    return done


def _write_input(spark: Any, *, exp: Any, table: str, schema: str, copy_of: str | None, owned: list[str]) -> int:
    """Make ``schema`` holding only ``table``: the expected one, or a copy of ``copy_of``; its row count."""
    spark.sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    spark.sql(f"CREATE SCHEMA {schema}")
    owned.append(schema)
    if copy_of is not None:
        spark.sql(f"CREATE TABLE {schema}.{table} AS SELECT * FROM {copy_of}")
        # the silver run's input, read and copied: the gold run must not find the expected bronze
        spark.sql(f"DROP TABLE IF EXISTS {copy_of.rsplit('.', 1)[0]}.bronze_events")
        return int(spark.table(f"{schema}.{table}").count())
    frame = expected_bronze(spark, exp) if table == "bronze_events" else expected_silver(spark, exp)
    frame.write.mode("overwrite").saveAsTable(f"{schema}.{table}")
    return int(exp.bronze.rows if table == "bronze_events" else exp.silver.rows)


def expected_bronze(spark: Any, exp: Any) -> Any:
    """Bronze as the contract has it: every raw row as the text Spark's CSV reader gives (null where empty), with
    ``ingestion_ts`` and ``source_file`` (the file's URI, as ``_metadata.file_path`` names it)."""
    from pyspark.sql import functions as F

    raw = exp.raw.loc[:, list(_RAW)].astype(object)
    raw = raw.where(raw.notna(), None)
    frame = spark.createDataFrame(raw, ", ".join(f"{c} string" for c in _RAW))
    return frame.select("*", F.current_timestamp().alias("ingestion_ts"),
                        F.lit(Path(exp.source_file).resolve().as_uri()).alias("source_file"))


def expected_silver(spark: Any, exp: Any) -> Any:
    """The expected silver (:class:`~checkers.grading.expect.SilverExpectation`) in the contract's types."""
    frame = exp.silver.frame.loc[:, [c.split()[0] for c in _SILVER_SCHEMA.split(", ")]].copy()
    frame["category_id"] = frame["category_id"].astype(object).where(frame["category_id"].notna(), None)
    frame["event_time"] = frame["event_time"].dt.tz_convert("UTC").dt.tz_localize(None)
    return spark.createDataFrame(frame, _SILVER_SCHEMA)
