"""What the checks look at, gathered by the grader process itself.

Tables are read through the grader's own Spark Connect session, the run's shape comes from the runner's
record, and widget declarations from the runtime record of each notebook run: never from anything a
notebook printed. Every check is a function of one :class:`Evidence`, so a test can build one from small
tables and records without running a notebook.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from checkers.grading.quality_rule import THRESHOLD, bad_share_pct

if TYPE_CHECKING:
    import pandas as pd

    from checkers.grading.declared import WrittenDecl
    from checkers.grading.expect import Expectations
    from checkers.jobs.findings import Finding
    from checkers.jobs.load import LoadedJob
    from checkers.jobs.project import Submission
    from checkers.runtime.context import RuntimeRecord

TABLES = ("bronze_events", "silver_events", "gold_product_metrics", "gold_daily_sales")
"""The contract's tables, in pipeline order."""
TABLE_OF = {"01_bronze": ("bronze_events",), "02_silver": ("silver_events",),
            "03_gold": ("gold_product_metrics", "gold_daily_sales")}
"""Which notebook writes which tables."""

RunStatus = Literal["success", "failed", "timeout", "kernel_died", "not_run", "missing", "unreadable"]
_EXERCISE = re.compile(r"^Exercise (?P<id>[A-Za-z0-9_.]+)\s*:")


@dataclass(frozen=True)
class CellError:
    """Where a notebook stopped."""

    ename: str
    """Exception class, e.g. ``NotImplementedError``."""
    evalue: str
    """Exception message."""
    cell: int | None = None
    """1-based cell number, when known."""


@dataclass
class NotebookRun:
    """One run of one contract notebook: as a job task, or run directly by the grader."""

    stem: str
    """Contract stem, e.g. ``02_silver``."""
    status: RunStatus
    """``success``; ``failed`` / ``timeout`` / ``kernel_died`` (it ran and stopped); ``not_run`` (skipped, e.g.
    upstream failed); ``missing`` (no such file); ``unreadable`` (not a valid notebook)."""
    message: str = ""
    """One line: what happened."""
    task_key: str | None = None
    """The job task that ran it, when it ran as a task."""
    result_state: str | None = None
    """The task's result state in the job run (SUCCESS, FAILED, UPSTREAM_FAILED, ...)."""
    error: CellError | None = None
    """The failing cell, when it failed."""
    record: RuntimeRecord | None = None
    """What the runtime recorded (widgets declared, task values, exit value); None when it never started."""
    parameters: dict[str, str] = field(default_factory=dict)
    """Widget values it was given."""
    executed: Path | None = None
    """The saved executed notebook."""
    direct: bool = False
    """The grader ran it directly (not as a task of the learner's job), to grade its tables anyway."""

    @property
    def ok(self) -> bool:
        return self.status == "success"

    @property
    def task_values(self) -> dict[str, Any]:
        return dict(self.record.task_values) if self.record is not None else {}

    @property
    def exit_value(self) -> str | None:
        return self.record.exit_value if self.record is not None else None

    @property
    def exercise(self) -> str | None:
        """The lesson exercise it stopped at (its placeholder raised ``NotImplementedError("Exercise <id>: …")``)."""
        if self.error is None or self.error.ename != "NotImplementedError":
            return None
        match = _EXERCISE.match(self.error.evalue.strip())
        return match.group("id") if match else None

    def explain(self) -> str:
        """Why it did not succeed, in words for the learner ("not done yet: exercise …" for a lesson)."""
        where = f"{self.stem}" + (f", cell {self.error.cell}" if self.error and self.error.cell else "")
        if self.exercise:
            return f"not done yet: exercise {self.exercise} ({where}) still raises NotImplementedError"
        if self.status == "missing":
            return f"{self.stem}.ipynb (or .py, .sql) is not in the submission"
        if self.status == "unreadable":
            return f"{self.stem} is not a valid notebook: {self.message}"
        if self.status == "not_run":
            return f"{self.stem} did not run: {self.message}" if self.message else f"{self.stem} did not run"
        if self.status == "timeout":
            return f"{self.stem} timed out ({self.message})"
        if self.status == "kernel_died":
            return f"{self.stem}: the kernel died ({self.message})"
        if self.error is not None:
            first = (self.error.evalue.strip().splitlines() or [""])[0][:300]
            return f"{self.stem} failed at cell {self.error.cell or '?'}: {self.error.ename}: {first}"
        return f"{self.stem}: {self.message}" if self.message else f"{self.stem} did not succeed"


@dataclass
class TaskState:
    """One task of the job run, as the run checks need it."""

    task_key: str
    kind: str
    """``notebook``, ``condition`` or another task type."""
    result_state: str | None
    depends_on: list[str] = field(default_factory=list)
    notebook: str | None = None
    """Contract stem of the notebook it runs, when it is a notebook task."""
    start_time: datetime | None = None
    end_time: datetime | None = None
    message: str = ""
    outcome: str | None = None
    """A condition task's outcome, "true" / "false"."""
    parameters: dict[str, str] = field(default_factory=dict)
    """Widget values it was given (references resolved)."""


@dataclass
class PipelineRun:
    """How the pipeline ran: the submission's own job, or its notebooks one by one when the job could not run."""

    mode: Literal["job", "notebooks", "none"]
    """``job`` (the runner ran the job), ``notebooks`` (the grader ran the notebooks in contract order
    because the job could not run as required), ``none`` (nothing could run)."""
    result_state: str | None = None
    """The job run's result (job mode), or SUCCESS / FAILED for the notebooks run."""
    tasks: list[TaskState] = field(default_factory=list)
    """Tasks in job order (job mode) or the notebooks run (notebooks mode)."""
    run_dir: Path | None = None
    """The run folder (run record, executed notebooks)."""
    note: str = ""
    """Why the notebooks were run directly, or why nothing ran."""
    parameters: dict[str, str] = field(default_factory=dict)
    """Job parameters the run resolved (job mode)."""
    message: str = ""
    """The runner's one-line summary."""

    def task(self, key: str) -> TaskState | None:
        return next((t for t in self.tasks if t.task_key == key), None)


@dataclass
class TableSnapshot:
    """One table as the grader read it after the run."""

    name: str
    """Contract name, e.g. ``silver_events``."""
    qualified: str
    """``<schema>.<name>`` as read."""
    exists: bool
    dtypes: dict[str, str] = field(default_factory=dict)
    """Column → Spark type (``simpleString``), in table order."""
    frame: pd.DataFrame | None = None
    """The rows (ids as nullable Int64, timestamps UTC-aware, dates as ``datetime.date``)."""
    error: str | None = None
    """Why the table could not be read although it exists."""

    @property
    def rows(self) -> int:
        return 0 if self.frame is None else len(self.frame)

    @property
    def columns(self) -> list[str]:
        return list(self.dtypes)

    @property
    def readable(self) -> bool:
        return self.exists and self.frame is not None


@dataclass
class JobEvidence:
    """The job definition as found, loaded and validated."""

    file: Path | None
    """The job file (None when none was found)."""
    loaded: LoadedJob | None = None
    """The loaded job (None when it could not be loaded)."""
    findings: list[Finding] = field(default_factory=list)
    """The validator's findings (errors and warnings)."""
    problem: str | None = None
    """Why there is no loaded job: no file, several, or the load error."""
    hint: str | None = None
    """What to do about ``problem``."""
    text: str = ""
    """The job file's text (for ``# TODO`` markers a lesson leaves)."""

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]


@dataclass
class QualityRun:
    """What the grader's orchestration run showed (evidence for stretch.quality_gate, .overrides and .repair)."""

    status: Literal["ran", "not_run"]
    note: str = ""
    """Why it did not run, or what went wrong in it."""
    quality_key: str | None = None
    gold_key: str | None = None
    seed: int | None = None
    """Seed of the failing file."""
    rows: int = 0
    """Rows in the failing file."""
    bad_rows: int = 0
    """Bad rows in it, counted by the grader from its bytes."""
    bronze_rows: int | None = None
    bronze_bad_rows: int | None = None
    """The same counts in the learner's bronze table of that run, read by the grader (None: no such table)."""
    fail_at: str = ""
    """The ``max_bad_pct`` the run was given (below the share)."""
    again_at: str = ""
    """The ``max_bad_pct`` of the extra failing repair, when one was drawn (below the share too)."""
    pass_at: str = ""
    """The ``max_bad_pct`` the repair was given (above it)."""
    first: PipelineRun | None = None
    """The run before the repair, as it ended."""
    first_values: dict[str, Any] = field(default_factory=dict)
    """Task values the quality task set in that run (streamed by the runtime as they were set)."""
    again: PipelineRun | None = None
    """The run after the extra failing repair, when one was drawn."""
    repair: PipelineRun | None = None
    """The same run after the repair."""
    rerun: list[str] = field(default_factory=list)
    """Tasks the repair ran again."""
    gold_rows: int | None = None
    """Rows of gold_daily_sales in that run's schema after the repair, read by the grader (None: none)."""

    @property
    def share(self) -> float:
        return bad_share_pct(self.bad_rows, self.rows)

    def summary(self) -> str:
        """One line for the report's notes: enough to make the same run again."""
        tries = ", ".join(v for v in (self.fail_at, self.again_at) if v)
        made = (f"the grader's orchestration run: a file with seed {self.seed} ({self.bad_rows} of {self.rows} rows "
                f"bad, {self.share:.1f} %), {THRESHOLD} {tries} (must fail), then a repair with {self.pass_at} (must "
                "pass)")
        return made + (f"; {self.note}" if self.note else "")

    def task(self, when: Literal["first", "again", "repair"], key: str | None) -> TaskState | None:
        run = {"first": self.first, "again": self.again, "repair": self.repair}[when]
        return run.task(key) if run is not None and key is not None else None


@dataclass
class Evidence:
    """Everything the checks of one submission look at."""

    submission: Submission
    """The files found."""
    schema: str
    """The per-submission schema the job was given."""
    source_path: Path
    """The unseen raw data file the job was given."""
    seed: int | None
    """The seed that file was generated from (None in the in-notebook feedback, which reads the learner's file)."""
    job: JobEvidence
    """The job definition."""
    run: PipelineRun
    """How the pipeline ran."""
    notebooks: dict[str, NotebookRun] = field(default_factory=dict)
    """Contract stem → the run of that task notebook (01–03)."""
    widget_runs: dict[str, NotebookRun] = field(default_factory=dict)
    """``passed`` / ``defaults`` → the two direct runs of ``00_widgets``."""
    widget_parameters: dict[str, str] = field(default_factory=dict)
    """The values given to the ``passed`` run of ``00_widgets``."""
    tables: dict[str, TableSnapshot] = field(default_factory=dict)
    """Contract table name → snapshot."""
    expectations: Expectations | None = None
    """What the tables must hold, from the raw file."""
    expectations_error: str | None = None
    """Why the expectations could not be computed."""
    written: dict[str, list[WrittenDecl]] = field(default_factory=dict)
    """Contract stem → the widget declarations its source writes with a literal name (read before any code ran)."""
    quality: QualityRun | None = None
    """The grader's own run of the job on a file that must fail its quality gate, and its repair (None: not made)."""
    gold_on_expected_silver: bool = False
    """Gold ran on the grader's expected silver, as silver failed (:mod:`checkers.grading.layers_alone`): its basis is
    the raw data."""
    cache: dict[str, Any] = field(default_factory=dict)
    """Shared by checks that derive the same thing (e.g. the silver row matching)."""

    def table(self, name: str) -> TableSnapshot:
        return self.tables.get(name) or TableSnapshot(name=name, qualified=f"{self.schema}.{name}", exists=False)

    def notebook_run(self, stem: str) -> NotebookRun:
        return self.notebooks.get(stem) or NotebookRun(stem=stem, status="not_run", message="it was not run")


# --------------------------------------------------------------------------------------------- reading tables


def snapshot_frame(df: Any, *, name: str, qualified: str | None = None) -> TableSnapshot:
    """A snapshot of a Spark DataFrame (Arrow keeps 64-bit ids exact and nulls as nulls)."""
    import pandas as pd
    import pyarrow as pa

    dtypes = {field.name: field.dataType.simpleString() for field in df.schema.fields}
    table = df.toArrow()
    mapper = {pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int64Dtype(), pa.int16(): pd.Int64Dtype(),
              pa.int8(): pd.Int64Dtype()}
    frame = table.to_pandas(types_mapper=mapper.get)
    return days_as_dates(TableSnapshot(name=name, qualified=qualified or name, exists=True, dtypes=dtypes,
                                       frame=frame))


_SERVER_GONE = ("INVALID_HANDLE", "UNAVAILABLE", "failed to connect", "RETRIES_EXCEEDED")
"""Signs that the server, not the table, is the problem (it died or restarted): no learner is judged on that."""


def snapshot_table(spark: Any, *, schema: str, name: str) -> TableSnapshot:
    """Read ``<schema>.<name>``; a table that does not exist, or cannot be read, is a snapshot saying so."""
    qualified = f"{schema}.{name}"
    try:
        df = spark.table(qualified)
        df.schema  # noqa: B018 - resolving the schema is what tells a missing table
    except Exception as exc:  # noqa: BLE001 - a missing table is evidence, anything else is reported
        text = str(exc)
        if any(sign in text for sign in _SERVER_GONE):
            from checkers.errors import SparkServerError

            raise SparkServerError(f"The Spark server stopped answering while the grader read {qualified}: "
                                   f"{_first_line(exc)}",
                                   hint="Nothing was graded. Run `day07 spark status`, then grade again.") from None
        if "TABLE_OR_VIEW_NOT_FOUND" in text or "SCHEMA_NOT_FOUND" in text or "not found" in text.lower():
            return TableSnapshot(name=name, qualified=qualified, exists=False)
        return TableSnapshot(name=name, qualified=qualified, exists=False, error=_first_line(exc))
    try:
        return snapshot_frame(df, name=name, qualified=qualified)
    except Exception as exc:  # noqa: BLE001 - an unreadable table is evidence, not a crash
        return TableSnapshot(name=name, qualified=qualified, exists=True, error=_first_line(exc))


DAY_COLUMNS = {"gold_daily_sales": "event_date"}
"""Columns the contract calls "the day" without a type: a date, an ISO ``yyyy-MM-dd`` string (``date_format``) or a
timestamp at midnight (``date_trunc``) all name one day, so each is read as that date."""
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def days_as_dates(snap: TableSnapshot) -> TableSnapshot:
    """``snap`` with its day column as dates when every value names a day; otherwise unchanged (the checks say why)."""
    import datetime as dt

    import pandas as pd

    column = DAY_COLUMNS.get(snap.name)
    kind = snap.dtypes.get(column or "")
    if column is None or snap.frame is None or kind not in ("string", "timestamp", "timestamp_ntz"):
        return snap
    values = snap.frame[column]
    present = values.dropna()
    try:
        if kind == "string":
            if not all(isinstance(v, str) and _ISO_DAY.fullmatch(v) for v in present):
                return snap
            days = [dt.date.fromisoformat(v) for v in present]
        else:
            stamps = pd.to_datetime(present)
            if len(stamps) and not (stamps == stamps.dt.normalize()).all():
                return snap
            days = [stamp.date() for stamp in stamps]
    except (TypeError, ValueError):
        return snap
    out = pd.Series([None] * len(values), index=values.index, dtype=object)
    out[present.index] = days
    frame = snap.frame.copy()
    frame[column] = out
    return TableSnapshot(name=snap.name, qualified=snap.qualified, exists=snap.exists,
                         dtypes={**snap.dtypes, column: "date"}, frame=frame)


def snapshot_tables(spark: Any, *, schema: str, names: tuple[str, ...] = TABLES) -> dict[str, TableSnapshot]:
    """Every table at once (one thread each: Spark Connect clients may share a session across threads)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="day07-read") as pool:
        futures = {name: pool.submit(snapshot_table, spark, schema=schema, name=name) for name in names}
        return {name: future.result() for name, future in futures.items()}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300] if text else ''}"
