"""The local ``dbutils``: widgets, jobs.taskValues and notebook, with Databricks signatures and errors.

Everything a notebook does through ``dbutils`` is kept in its in-kernel :class:`RuntimeRecord` and sent to the
executor as it happens (:mod:`checkers.runtime.events`): that is how the runner and the grader learn about
widgets, task values and the exit value, without trusting printed output or a file the notebook could rewrite.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from checkers.runtime.context import RunContext, RuntimeRecord
from checkers.runtime.events import Emit, no_events
from checkers.runtime.missing import ReportsMissing
from checkers.runtime.notebook_context import EntryPoint
from checkers.runtime.widgets import LocalWidgets

TASK_VALUE_LIMIT = 48 * 1024
"""Databricks' limit on one task value, as JSON."""

NotebookRunner = Callable[..., str]
"""``(path, timeout_seconds, arguments, caller_context) -> exit value``; supplied by the kernel extension."""


class NotebookExit(BaseException):  # noqa: N818 - Databricks ends the notebook; not an error
    """Raised by ``dbutils.notebook.exit`` to end the notebook, like Databricks does.

    A ``BaseException`` so a learner's ``except Exception`` does not swallow the exit.
    """

    def __init__(self, value: str) -> None:
        super().__init__(value)
        self.value = value


class WorkflowException(Exception):  # noqa: N818 - Databricks' name
    """``dbutils.notebook.run`` failed: the child notebook raised, timed out or could not start."""


class TaskValues(ReportsMissing):
    """``dbutils.jobs.taskValues``."""

    _OWNER = "dbutils.jobs.taskValues"
    _PROVIDES = "set and get"

    def __init__(self, *, context: RunContext, record: RuntimeRecord, emit: Emit) -> None:
        self._context = context
        self._record = record
        self._emit = emit

    def set(self, key: str, value: Any) -> None:
        if not isinstance(key, str) or not key:
            raise TypeError(f"Task value key must be a non-empty string, got {key!r}.")
        try:
            encoded = json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"Task value '{key}' must be JSON-serialisable (numbers, strings, lists, dicts): "
                            f"{exc}. Convert it first, e.g. int(df.count()).") from None
        if len(encoded.encode("utf-8")) > TASK_VALUE_LIMIT:
            raise ValueError(f"Task value '{key}' is {len(encoded.encode('utf-8'))} bytes as JSON; "
                             f"Databricks allows at most {TASK_VALUE_LIMIT} (48 KiB). Store a summary instead.")
        self._record.task_values[key] = json.loads(encoded)
        self._emit("task_value", key=key, value=self._record.task_values[key])

    def get(self, taskKey: str, key: str, default: Any = None, debugValue: Any = None) -> Any:
        if not self._context.in_job:
            if debugValue is None:
                raise TypeError(
                    f"taskValues.get('{taskKey}', '{key}') ran outside a job and no debugValue was given. "
                    "Pass debugValue=... to run this cell interactively.")
            return debugValue
        values = self._context.task_values.get(taskKey)
        if values is not None and key in values:
            return values[key]
        if default is not None:
            return default
        if values is None:
            known = ", ".join(sorted(self._context.task_values)) or "none"
            raise ValueError(f"No task values from task '{taskKey}' in this run (tasks with values: {known}). "
                             "Check the task key and that the task runs upstream of this one.")
        raise ValueError(f"Task '{taskKey}' set no value named '{key}' "
                         f"(it set: {', '.join(sorted(values)) or 'nothing'}).")


class Jobs(ReportsMissing):
    """``dbutils.jobs``."""

    _OWNER = "dbutils.jobs"
    _PROVIDES = "taskValues"

    def __init__(self, task_values: TaskValues) -> None:
        self.taskValues = task_values


class NotebookUtils(ReportsMissing):
    """``dbutils.notebook``."""

    _OWNER = "dbutils.notebook"
    _PROVIDES = "exit, run and entry_point"

    def __init__(self, *, context: RunContext, record: RuntimeRecord, emit: Emit,
                 runner: NotebookRunner | None) -> None:
        self._context = context
        self._record = record
        self._emit = emit
        self._runner = runner
        self.entry_point = EntryPoint(context)
        """``entry_point.getDbutils().notebook().getContext()``: the job and run ids in a job run, as on Databricks."""

    def exit(self, value: Any) -> None:
        text = "" if value is None else str(value)
        self._record.exited = True
        self._record.exit_value = text
        self._emit("exit", value=text)
        raise NotebookExit(text)

    def run(self, path: str, timeout_seconds: int = 0, arguments: dict[str, Any] | None = None) -> str:
        if self._runner is None:
            raise WorkflowException("dbutils.notebook.run is not available in this session: the kernel was started "
                                    "without the kit's notebook executor. Run `day07 kernel install`, then restart "
                                    "the kernel.")
        args = {str(k): str(v) for k, v in (arguments or {}).items()}
        return self._runner(path, timeout_seconds, args, self._context)


class DataUtils(ReportsMissing):
    """``dbutils.data``: ``summarize(df)`` shows each column's summary statistics, as Databricks' does (as a table,
    not its charts)."""

    _OWNER = "dbutils.data"
    _PROVIDES = "summarize"

    def summarize(self, df: Any, precise: bool = False) -> None:  # noqa: ARG002 - Databricks' signature
        from checkers.runtime.display import display

        display(df.summary())


class SecretsUtils(ReportsMissing):
    """``dbutils.secrets``: secret scopes live in a Databricks workspace; none exists locally."""

    _OWNER = "dbutils.secrets"
    _PROVIDES = "listScopes, list, get and getBytes, with no scopes"

    def listScopes(self) -> list[Any]:  # noqa: N802 - Databricks' name
        return []

    def list(self, scope: str) -> list[Any]:
        raise self._missing(scope)

    def get(self, scope: str, key: str) -> str:
        raise self._missing(scope, key)

    def getBytes(self, scope: str, key: str) -> bytes:  # noqa: N802 - Databricks' name
        raise self._missing(scope, key)

    @staticmethod
    def _missing(scope: str, key: str | None = None) -> Exception:
        from checkers.errors import CheckersError

        what = f"secret {key!r} of scope {scope!r}" if key is not None else f"secret scope {scope!r}"
        return CheckersError(f"No {what}: secret scopes live in a Databricks workspace, and none exists locally.",
                             hint="Pass the value as a widget (a job parameter) instead; keep real secrets out of "
                                  "the notebook.")


class DBUtils(ReportsMissing):
    """The ``dbutils`` object a notebook sees."""

    _PROVIDES = "widgets, jobs.taskValues, notebook, fs, data, library, secrets and help"

    def __init__(self, *, context: RunContext | None = None, notebook_runner: NotebookRunner | None = None,
                 fs: Any = None, emit: Emit | None = None, shell: Any = None, widget_bar: bool = False) -> None:
        self.context = context or RunContext()
        self.record = RuntimeRecord()
        self._emit = emit or no_events
        self.widgets = LocalWidgets(parameters=self.context.parameters, record=self.record, emit=self._emit,
                                    shell=shell, interactive=widget_bar)
        self.jobs = Jobs(TaskValues(context=self.context, record=self.record, emit=self._emit))
        self.notebook = NotebookUtils(context=self.context, record=self.record, emit=self._emit,
                                      runner=notebook_runner)
        self.data = DataUtils()
        self.secrets = SecretsUtils()
        if fs is not None:
            self.fs = fs

    def notice(self, text: str) -> bool:
        """Remember a one-time notice; True the first time it is seen (so the caller shows it once)."""
        if text in self.record.notices:
            return False
        self.record.notices.append(text)
        self._emit("notice", text=text)
        return True

    def help(self) -> None:
        print("Local dbutils (Day 07 kit): widgets, jobs.taskValues, notebook, data.summarize, secrets (none here)"
              + (", fs" if hasattr(self, "fs") else "") + ". See the docs page 'Reference'.")

    def __repr__(self) -> str:
        return "<dbutils (local Day 07 runtime)>"
