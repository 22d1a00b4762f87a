"""What a check cell knows, turned into the grader's evidence: the notebook's variables and tables, what the runtime
recorded, and expectations worked out from the raw file the notebook reads.

The raw file is read through the notebook's own Spark session, every column as text (as the grader reads it), and
its expectations are worked out once per kernel. Raw data over :data:`MAX_ROWS` rows (the real month has 42 million)
is not pulled into the notebook: only the checks that need no expected values run then, on the tables' columns and
row counts.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from checkers.data import RAW_COLUMNS
from checkers.grading.checks.evidence import (
    Evidence,
    JobEvidence,
    NotebookRun,
    PipelineRun,
    TableSnapshot,
    snapshot_frame,
    snapshot_table,
)
from checkers.grading.expect import Expectations
from checkers.runtime.context import RuntimeRecord, WidgetDecl

MAX_ROWS = 300_000
"""Raw data with more rows gets only the checks that need no expected values (the rest would read it all)."""
DEFAULT_SCHEMA = "day07"


class FeedbackProblem(Exception):  # noqa: N818 - a message for the learner, not a crash
    """Something the learner can fix before the checks can run (a missing table, a variable that is no DataFrame)."""


@dataclasses.dataclass
class CountedSnapshot(TableSnapshot):
    """A table's columns and row count, without its rows (for data too big to pull into the notebook)."""

    counted: int = 0

    @property
    def rows(self) -> int:
        return self.counted


@dataclasses.dataclass
class RawData:
    """The raw file a notebook reads, and what the grader's checks expect from it."""

    paths: tuple[str, ...]
    expectations: Expectations | None = None
    problem: str | None = None
    """Why there are no expectations (too big, unreadable): only the light checks run."""


_DATA: dict[tuple[str, ...], RawData] = {}
"""Raw data read in this kernel, by path: worked out once, reused by every check cell."""


def as_path(text: str) -> str:
    """``file:/x/y.csv`` or ``dbfs:/Volumes/x.csv`` → the path part; a plain path as it is."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:", text):  # a URI (two letters at least: not a Windows drive)
        return unquote(urlparse(text).path) or text
    return text


def arrow_ready(frame: Any) -> Any:
    """``frame``, or a stand-in with ``schema`` and ``toArrow()`` on PySpark versions before 4 (no ``toArrow``)."""
    if hasattr(frame, "toArrow"):
        return frame
    return _ArrowFrame(frame)


class _ArrowFrame:
    def __init__(self, frame: Any) -> None:
        self._frame = frame
        self.schema = frame.schema

    def toArrow(self) -> Any:  # noqa: N802 - PySpark's name
        import pyarrow as pa

        if hasattr(self._frame, "_collect_as_arrow"):  # classic PySpark 3.x
            return pa.Table.from_batches(self._frame._collect_as_arrow())
        return self._frame._to_table()[0]  # Spark Connect 3.5


def read_raw_data(spark: Any, paths: tuple[str, ...]) -> RawData:
    """The raw file(s) at ``paths`` and their expectations; worked out once per kernel (a failure is not kept)."""
    known = _DATA.get(paths)
    if known is not None:
        return known
    import numpy as np

    from checkers.grading.expect import expectations_from_raw

    shown = paths[0] if len(paths) == 1 else f"{paths[0]} (and {len(paths) - 1} more)"
    try:
        reader = spark.read.option("header", True).csv(list(paths))
        if reader.limit(MAX_ROWS + 1).count() > MAX_ROWS:  # stops early on a big file
            data = RawData(paths, problem=f"the raw data has more than {MAX_ROWS:,} rows".replace(",", " "))
            _DATA[paths] = data
            return data
        frame = arrow_ready(reader).toArrow().to_pandas()
    except Exception as exc:  # noqa: BLE001 - said in one line; the light checks still run
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        return RawData(paths, problem=f"the raw file {shown} cannot be read ({type(exc).__name__}: {first})")
    columns = tuple(frame.columns)
    if columns != RAW_COLUMNS:
        return RawData(paths, problem=f"the raw file {shown} has columns {', '.join(columns)}, not the contract's 9")
    raw = frame.astype(object).where(frame.notna(), np.nan)
    # the checks work out what else they need from it when they first need it (kept in expectations.derived)
    expectations = expectations_from_raw(raw=raw, path=Path(as_path(paths[0])))
    data = RawData(paths, expectations=expectations)
    _DATA[paths] = data
    return data


class Session:
    """One check cell's view of its notebook."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace
        self.dbutils = namespace.get("dbutils")

    @property
    def spark(self) -> Any:
        spark = self.namespace.get("spark")
        if spark is None:
            raise FeedbackProblem("this notebook has no `spark` session")
        return spark

    def widget(self, name: str) -> str | None:
        if self.dbutils is None:
            return None
        try:
            return str(self.dbutils.widgets.get(name))
        except Exception:  # noqa: BLE001 - a widget not declared (yet)
            return None

    @property
    def schema(self) -> str:
        value = self.namespace.get("schema")
        return str(value) if isinstance(value, str) and value else (self.widget("schema") or DEFAULT_SCHEMA)

    def frame(self, name: str) -> Any:
        value = self.namespace.get(name)
        if not (hasattr(value, "schema") and hasattr(value, "select")):
            raise FeedbackProblem(f"`{name}` is not a DataFrame")
        return value

    # --- what the runtime recorded --------------------------------------------------------------------------------

    def record(self) -> RuntimeRecord | None:
        """The widgets and task values of this notebook so far: the kit's runtime record, or on Databricks what the
        cells run so far declare (read from the notebook's input history); None when neither is there."""
        record = getattr(self.dbutils, "record", None)
        if dataclasses.is_dataclass(record) and not isinstance(record, type):
            return RuntimeRecord.from_dict(dataclasses.asdict(record))
        return history_record(self.namespace)

    def notebook_run(self, stem: str, record: RuntimeRecord | None = None) -> NotebookRun:
        return NotebookRun(stem=stem, status="success", record=record if record is not None else self.record())

    # --- tables and raw data --------------------------------------------------------------------------------------

    def frame_snapshot(self, frame: Any, *, name: str, qualified: str, light: bool) -> TableSnapshot:
        """A DataFrame as the grader would read the table it becomes (only its columns when ``light``)."""
        return snapshot_frame(arrow_ready(frame.limit(0) if light else frame), name=name, qualified=qualified)

    def table_snapshot(self, name: str, *, light: bool) -> TableSnapshot:
        """``<schema>.<name>`` as the grader reads it (only its columns and row count when ``light``)."""
        if not light:
            return snapshot_table(self.spark, schema=self.schema, name=name)
        qualified = f"{self.schema}.{name}"
        try:
            frame = self.spark.table(qualified)
            frame.schema  # noqa: B018 - resolving the schema is what tells a missing table
        except Exception:  # noqa: BLE001 - the grader's reader says what is wrong
            return snapshot_table(self.spark, schema=self.schema, name=name)
        empty = snapshot_frame(arrow_ready(frame.limit(0)), name=name, qualified=qualified)
        return CountedSnapshot(name=name, qualified=qualified, exists=True, dtypes=empty.dtypes, frame=empty.frame,
                               counted=int(frame.count()))

    def source_path(self) -> str:
        """The notebook's ``source_path``: its widget, else its variable."""
        value = self.widget("source_path") or self.namespace.get("source_path")
        if not isinstance(value, str) or not value:
            raise FeedbackProblem("there is no `source_path` widget yet: run the parameters cell first")
        return value

    def raw_from_widget(self) -> RawData:
        return read_raw_data(self.spark, (self.source_path(),))

    def raw_from_bronze(self) -> RawData:
        """The raw file bronze was loaded from (its ``source_file``): where silver's and gold's expectations start."""
        table = f"{self.schema}.bronze_events"
        try:
            rows = self.spark.table(table).select("source_file").where("source_file IS NOT NULL").limit(1).collect()
        except Exception:  # noqa: BLE001 - no bronze table, or no source_file column
            return RawData((), problem=f"the raw file is not known: {table} is missing or has no source_file (run "
                                       "01_bronze first, or fill the tables with `day07 run`)")
        if not rows:
            return RawData((), problem=f"the raw file is not known: {table} has no source_file value")
        return read_raw_data(self.spark, (str(rows[0][0]),))

    def evidence(self, *, data: RawData | None, tables: dict[str, TableSnapshot] | None = None,
                 notebooks: dict[str, NotebookRun] | None = None, widget_runs: dict[str, NotebookRun] | None = None,
                 widget_parameters: dict[str, str] | None = None) -> Evidence:
        source = as_path(data.paths[0]) if data is not None and data.paths else ""
        return Evidence(submission=None, schema=self.schema, source_path=Path(source), seed=None,  # type: ignore[arg-type]
                        job=JobEvidence(file=None), run=PipelineRun(mode="none"), notebooks=notebooks or {},
                        widget_runs=widget_runs or {}, widget_parameters=widget_parameters or {},
                        tables=tables or {}, expectations=data.expectations if data is not None else None,
                        expectations_error=(data.problem if data is not None else "no raw data"))


# --------------------------------------------------------------------------------------- Databricks: the history


def history_record(namespace: dict[str, Any]) -> RuntimeRecord | None:
    """Widgets and task values as the cells run so far declare them (Databricks keeps no record to read); None when
    the notebook keeps no input history either.

    Each input in the notebook's history is parsed; a declaration whose arguments are literals or variables of the
    notebook counts, in the order the cells ran (a later one replaces an earlier one of the same name).
    """
    history = namespace.get("In") or namespace.get("_ih")
    if not isinstance(history, list):
        return None
    record = RuntimeRecord()
    for source in history:
        try:
            tree = ast.parse(str(source))
        except SyntaxError:
            continue
        calls = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)),
                       key=lambda n: (n.lineno, n.col_offset))
        for call in calls:
            _apply_call(record, call, namespace)
    return record


_WIDGET_ARGS = {"text": ("name", "defaultValue", "label"), "dropdown": ("name", "defaultValue", "choices", "label"),
                "combobox": ("name", "defaultValue", "choices", "label"),
                "multiselect": ("name", "defaultValue", "choices", "label")}
_UNKNOWN = object()


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _value(node: ast.AST | None, namespace: dict[str, Any]) -> Any:
    if node is None:
        return _UNKNOWN
    if isinstance(node, ast.Name):
        return namespace.get(node.id, _UNKNOWN)
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        return _UNKNOWN


def _apply_call(record: RuntimeRecord, call: ast.Call, namespace: dict[str, Any]) -> None:
    target = _dotted(call.func)
    kind = target.rsplit(".", 1)[-1]
    if target.startswith("dbutils.widgets.") and kind in _WIDGET_ARGS:
        values: dict[str, ast.AST] = dict(zip(_WIDGET_ARGS[kind], call.args, strict=False))
        values.update({k.arg: k.value for k in call.keywords if k.arg})
        name, default = _value(values.get("name"), namespace), _value(values.get("defaultValue"), namespace)
        choices = _value(values.get("choices"), namespace) if kind != "text" else None
        if not isinstance(name, str) or default is _UNKNOWN or choices is _UNKNOWN:
            return
        record.widgets = [w for w in record.widgets if w.name != name] + [WidgetDecl(
            name=name, kind=kind, default="" if default is None else str(default),
            choices=[str(c) for c in choices] if isinstance(choices, (list, tuple)) else None)]
    elif target == "dbutils.widgets.remove" and call.args:
        name = _value(call.args[0], namespace)
        record.widgets = [w for w in record.widgets if w.name != name]
    elif target == "dbutils.widgets.removeAll":
        record.widgets = []
    elif target == "dbutils.jobs.taskValues.set":
        values = dict(zip(("key", "value"), call.args, strict=False))
        values.update({k.arg: k.value for k in call.keywords if k.arg})
        key, value = _value(values.get("key"), namespace), _value(values.get("value"), namespace)
        if isinstance(key, str) and value is not _UNKNOWN:
            record.task_values[key] = value
