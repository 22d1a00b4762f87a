"""Spark errors shaped like Databricks': error class, message, SQLSTATE; no JVM frames, no JSON log lines.

PySpark's Spark Connect client puts the server's Java stack trace into the exception's message and logs a JSON
line to stderr for each error with a query context. On Databricks a cell shows the error class, the message
and the SQLSTATE, under the notebook's own code. In a kit kernel:

* :func:`install` patches the client's error conversion: the message loses the JVM frames, and tables are named
  as the notebook wrote them (``workspace.ecommerce.x``, not ``spark_catalog``.``ecommerce``.``x``). Where the
  kit differs from Databricks, the message links the docs/emulation.md section. The exception's type and
  message stay what ``except`` and the executor (``ename``/``evalue``) see.
* PySpark exceptions, and the kit's own errors, render in a cell as the notebook's frames and the message (IPython's
  ``_render_traceback_``); the full Python and Java trace goes to ``errors.log`` in the run's work folder.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import traceback
import types
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from checkers.runtime.catalog_names import CATALOG

LOG_NAME = "errors.log"
"""The file in a run's work folder that receives the full trace of each error a cell shows."""
_JVM = "\n\nJVM stacktrace:"
_QUOTED = re.compile(r"`spark_catalog`\.")
_PLAIN = re.compile(r"(?<![\w`.])spark_catalog(?=\.|, )")
KIT_DIFFERENCES = {
    "UNSUPPORTED_FEATURE.TIME_TRAVEL": "time-travel",
    "UNSUPPORTED_OVERWRITE.PATH": "tables-that-a-query-overwrites",
    "UNSUPPORTED_OVERWRITE.TABLE": "tables-that-a-query-overwrites",
    "UNSUPPORTED_FEATURE.TABLE_OPERATION": "delta-lake",
    "_LEGACY_ERROR_TEMP_2096": "delta-lake",
    "DATA_SOURCE_NOT_FOUND": "delta-lake",
}
"""Spark error classes that come from a difference between the local stand-ins and Databricks → docs anchor."""
_ONLY_ROUTINE = re.compile(r"routine `(ai_\w+|secret|is_account_group_member|is_member|current_metastore|"
                           r"http_request|vector_search|ai_query)`", re.IGNORECASE)
_ONLY_TVF = re.compile(r"`(table_changes|vector_search|read_kafka|read_kinesis|read_pubsub|read_pulsar|"
                       r"read_statestore)`", re.IGNORECASE)
_ONLY_SYNTAX = re.compile(r"at or near '(MATERIALIZED|REFRESH|LIVE|STREAMING)'|(LANGUAGE\s+PYTHON)", re.IGNORECASE)
_ONLY = {
    "ai": "AI functions call Databricks model serving",
    "secret": "secrets and account groups live in a Databricks workspace",
    "cdf": "the change data feed is a Delta Lake feature the local stand-in does not keep",
    "pipeline": "materialized views and streaming tables are made by Lakeflow pipelines (DLT) and SQL warehouses",
    "python": "SQL functions written in Python run in Unity Catalog",
    "stream": "this streaming source reads a cloud service",
}
"""Why a Databricks-only SQL feature cannot run locally (see docs/emulation.md#databricks-only-sql)."""
_INSTALLED: dict[str, Any] = {}
_WORK_DIR: list[Path] = []
"""The run's work folder (see :func:`log_into`)."""


def workspace_names(text: str) -> str:
    """``spark_catalog``.``s``.``t`` and ``spark_catalog.s.t`` → ``workspace`` names, as the notebook wrote them."""
    return _PLAIN.sub(CATALOG, _QUOTED.sub(f"`{CATALOG}`.", text))


def volume_names(text: str) -> str:
    """The local folder that stands for ``/Volumes`` (``file:/…/volumes/…``) → ``/Volumes/…``, as the notebook wrote
    it."""
    from checkers.runtime.volumes import VOLUMES_PREFIX, volumes_root

    root = volumes_root()
    for local in {str(root.resolve()), str(root)}:
        text = text.replace(f"file:{local}", VOLUMES_PREFIX).replace(local, VOLUMES_PREFIX)
    return text


_MISSING_VOLUME_FILE = (
    "\nThe kit's sample files are in /Volumes/workspace/ecommerce/ecommerce_data/ (2019-Oct.csv, 2019-Nov.csv). "
    "To put a file of your own at a /Volumes path, run `day07 volumes cp FILE /Volumes/<catalog>/<schema>/<volume>/` "
    "in a terminal. See docs/emulation.md.")


def clean(exc: BaseException) -> BaseException:
    """Databricks-shaped message on a PySpark exception, in place (the full trace is kept on it)."""
    if getattr(exc, "_day07_clean", False):
        return exc
    message = getattr(exc, "_message", None)
    if isinstance(message, str):
        text = volume_names(workspace_names(message.split(_JVM, 1)[0]))
        condition = _condition(exc)
        if condition == "PATH_NOT_FOUND" and "/Volumes/" in text and "day07 volumes cp" not in text:
            text += _MISSING_VOLUME_FILE
        anchor = KIT_DIFFERENCES.get(condition or "")
        if anchor and "docs/emulation.md" not in text:
            text += f"\nThe local Day 07 kit differs from Databricks here. See docs/emulation.md#{anchor}."
        only = databricks_only(condition, text)
        if only and "docs/emulation.md" not in text:
            text += (f"\nThis runs only on Databricks: {only}. The local Day 07 kit cannot run it; see "
                     "docs/emulation.md#databricks-only-sql.")
        exc._message = text  # type: ignore[attr-defined]
    params = getattr(exc, "_messageParameters", None)
    if isinstance(params, dict):
        exc._messageParameters = {k: volume_names(workspace_names(v)) if isinstance(v, str) else v  # type: ignore[attr-defined]
                                  for k, v in params.items()}
    if hasattr(exc, "_display_stacktrace"):
        exc._display_stacktrace = False
    exc._day07_clean = True  # type: ignore[attr-defined]
    return exc


def databricks_only(condition: str | None, text: str) -> str | None:
    """Why the failing statement uses a feature only Databricks has (None when it does not)."""
    condition = condition or ""
    if condition.startswith("UNRESOLVED_ROUTINE") and (m := _ONLY_ROUTINE.search(text)):
        name = m.group(1).lower()
        return f"`{name}`: " + _ONLY["ai" if name.startswith(("ai_", "vector")) else "secret"]
    if condition.startswith("UNRESOLVABLE_TABLE_VALUED_FUNCTION") and (m := _ONLY_TVF.search(text)):
        name = m.group(1).lower()
        return f"`{name}`: " + _ONLY["cdf" if name == "table_changes" else "ai" if name == "vector_search"
                                    else "stream"]
    if condition.startswith("COLUMN_IS_NOT_VARIANT_TYPE"):
        return ("`col:path` on a STRING column is Databricks SQL; Spark takes `:` on VARIANT only (write "
                "`parse_json(col):path` or `get_json_object(col, '$.path')`, which Databricks runs too)")
    if condition.startswith("PARSE_SYNTAX_ERROR") and (m := _ONLY_SYNTAX.search(text)):
        return _ONLY["python" if m.group(2) else "pipeline"]
    return None


def _condition(exc: BaseException) -> str | None:
    getter = getattr(exc, "getCondition", None)
    try:
        return getter() if getter is not None else None
    except Exception:  # noqa: BLE001 - a malformed exception still gets shown
        return None


def short_message(exc: BaseException) -> str:
    """One message for the CLI: the error class, message and SQLSTATE of a Spark error, without JVM frames."""
    text = str(exc).split(_JVM, 1)[0]
    return workspace_names(text).strip()


def is_spark_error(exc: BaseException) -> bool:
    """True for PySpark's exceptions (without importing PySpark when it is not loaded)."""
    base = sys.modules.get("pyspark.errors.exceptions.base")
    return base is not None and isinstance(exc, base.PySparkException)


def install() -> None:
    """Patch PySpark once: clean messages, quiet loggers, short cell rendering. Needs PySpark imported."""
    if _INSTALLED:
        return
    from pyspark.errors.exceptions.base import PySparkException
    from pyspark.logger import PySparkLogger
    from pyspark.sql.connect.client import core

    original = core.convert_exception

    @functools.wraps(original)
    def convert_exception(*args: Any, **kwargs: Any) -> Any:
        return clean(original(*args, **kwargs))

    _INSTALLED["convert_exception"] = original
    core.convert_exception = convert_exception
    for name in ("DataFrameQueryContextLogger", "SQLQueryContextLogger"):
        PySparkLogger.getLogger(name).disabled = True
    _INSTALLED["render"] = getattr(PySparkException, "_render_traceback_", None)
    PySparkException._render_traceback_ = render_traceback  # type: ignore[attr-defined]
    # The kit's own errors in a cell (a catalog that does not exist here, a statement it does not emulate, a failed
    # dbutils.notebook.run) show the notebook's frames and the message with its hint, not the kit's code.
    from checkers.errors import CheckersError
    from checkers.runtime.dbutils import WorkflowException

    for kind in (CheckersError, WorkflowException):
        setattr(kind, "_render_traceback_", render_traceback)  # noqa: B010 - IPython's hook, not a known attribute


# --- rendering in a cell ---------------------------------------------------------------------------------------

def _library_roots() -> tuple[str, ...]:
    import checkers

    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(checkers.__file__).parent)}
    return tuple(str(Path(r).resolve()) + os.sep for r in roots)


def user_frames(tb: types.TracebackType | None) -> types.TracebackType | None:
    """The notebook's own frames (cells, ``%run`` cells, functions they define), without library frames."""
    roots = _library_roots()

    def library(frame: types.TracebackType) -> bool:
        filename = frame.tb_frame.f_code.co_filename
        return not filename.startswith("<") and str(Path(filename).resolve()).startswith(roots)

    while tb is not None and library(tb):  # IPython's own frames, before the cell's
        tb = tb.tb_next
    kept: list[types.TracebackType] = []
    while tb is not None and not library(tb):
        kept.append(tb)
        tb = tb.tb_next
    new: types.TracebackType | None = None
    for frame in reversed(kept):
        line = (traceback.extract_tb(frame, limit=1)[0].line or "") if frame is not None else ""
        if "get_ipython().run_" in line:
            continue  # the IPython call behind a %sql cell: nothing the learner wrote
        new = types.TracebackType(new, frame.tb_frame, frame.tb_lasti, frame.tb_lineno)
    return new


def log_into(work_dir: str | None) -> None:
    """Write full traces to ``errors.log`` in ``work_dir``: the kernel passes its run's work folder as it is set up
    (an interactive kernel has none, and logs nothing)."""
    _WORK_DIR[:] = [Path(work_dir)] if work_dir else []


def log_path() -> Path | None:
    """``errors.log`` in the work folder the runner gave this kernel (None in an interactive kernel)."""
    return _WORK_DIR[0] / LOG_NAME if _WORK_DIR else None


def write_full_trace(exc: BaseException, path: Path) -> bool:
    """Append the full Python trace and the server's Java trace to ``path``; False when it cannot be written."""
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    parts = [f"=== {stamp} {type(exc).__name__}\n", *traceback.format_exception(exc)]
    getter = getattr(exc, "getStackTrace", None)
    java = getter() if getter is not None else None
    if java:
        parts.append(f"JVM stacktrace:\n{java}\n")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as out:
            out.write("".join(parts) + "\n")
    except OSError:
        return False
    return True


def render_traceback(self: BaseException) -> list[str]:
    """IPython's hook: the notebook's frames and the Databricks-shaped message; the full trace to the log."""
    clean(self)
    lines: list[str] = []
    shell = None
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        pass
    frames = user_frames(self.__traceback__)
    if shell is not None:
        try:
            lines = list(shell.InteractiveTB.structured_traceback(type(self), self, frames))
        except Exception:  # noqa: BLE001 - fall back to plain text
            lines = []
    if not lines:
        lines = [line.rstrip("\n") for line in traceback.format_exception(type(self), self, frames)]
    path = log_path()
    if path is not None and write_full_trace(self, path):
        lines.append(f"Full trace (with the Spark server's): {path}")
    else:
        lines.append("Full trace: run %tb in the next cell.")
    return lines
