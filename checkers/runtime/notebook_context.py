"""The notebook context, in Databricks' shape: ``dbutils.notebook.entry_point.getDbutils().notebook().getContext()``.

On Databricks that is a Scala object reached through Py4J. ``tags()`` is a Scala ``Map`` whose ``get(key)`` returns an
``Option`` (``isDefined()``, ``get()``); ``jobId()``, ``currentRunId()`` and ``notebookPath()`` return ``Option``\\ s;
``safeToJson()`` returns ``{"attributes": {...}}`` as JSON text (the one form shared and serverless compute allow).
In a job run the context carries the job's id and the run's ids (tags ``jobId``, ``runId``, ``multitaskParentRunId``);
interactively they are absent. Code written against that shape runs unchanged on the kit's runtime, which builds
the same context from its :class:`~checkers.runtime.context.RunContext`.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

from checkers.runtime.context import RunContext
from checkers.runtime.missing import ReportsMissing


class NoSuchElementException(LookupError):  # noqa: N818 - Java's name, as Py4J reports it
    """``Option.get()`` on an empty option (``java.util.NoSuchElementException: None.get`` on Databricks)."""


class Option:
    """A Scala ``Option``: ``Some(value)`` or ``None``."""

    def __init__(self, value: Any = None) -> None:
        self._value = value

    def isDefined(self) -> bool:  # noqa: N802 - Scala's name
        return self._value is not None

    def isEmpty(self) -> bool:  # noqa: N802 - Scala's name
        return self._value is None

    def nonEmpty(self) -> bool:  # noqa: N802 - Scala's name
        return self._value is not None

    def get(self) -> Any:
        if self._value is None:
            raise NoSuchElementException("None.get")
        return self._value

    def getOrElse(self, default: Any) -> Any:  # noqa: N802 - Scala's name
        return default if self._value is None else self._value

    def __repr__(self) -> str:
        return "None" if self._value is None else f"Some({self._value})"


class ScalaMap:
    """A Scala ``Map[String, String]``: ``get`` gives an :class:`Option`, ``apply`` the value or an error."""

    def __init__(self, items: dict[str, str]) -> None:
        self._items = dict(items)

    def get(self, key: str) -> Option:
        return Option(self._items.get(key))

    def apply(self, key: str) -> str:
        if key not in self._items:
            raise NoSuchElementException(f"key not found: {key}")
        return self._items[key]

    def contains(self, key: str) -> bool:
        return key in self._items

    def keySet(self) -> set[str]:  # noqa: N802 - Scala's name
        return set(self._items)

    def size(self) -> int:
        return len(self._items)

    def isEmpty(self) -> bool:  # noqa: N802 - Scala's name
        return not self._items

    def __repr__(self) -> str:
        return "Map(" + ", ".join(f"{k} -> {v}" for k, v in self._items.items()) + ")"


class RunId:
    """A run id as ``currentRunId().get()`` returns it (``RunId(123)``; ``id()`` is the number)."""

    def __init__(self, value: int) -> None:
        self._value = int(value)

    def id(self) -> int:
        return self._value

    def toString(self) -> str:  # noqa: N802 - Scala's name
        return f"RunId({self._value})"

    __str__ = toString
    __repr__ = toString


class NotebookContext(ReportsMissing):
    """What ``getContext()`` returns: the job and run ids in a job run, nothing of the kind interactively.

    The user is the local account. What only a workspace has (its URL, a token, a cluster) is an empty ``Option``,
    so ``getOrElse`` works and ``get()`` fails as on a context without it."""

    _OWNER = "getContext()"
    _PROVIDES = ("tags(), userName(), notebookPath(), jobId(), currentRunId(), idInJob(), clusterId(), apiUrl(), "
                 "apiToken(), browserHostName(), workspaceId(), safeToJson() and toJson()")

    def __init__(self, context: RunContext) -> None:
        self._context = context

    def _ids(self) -> dict[str, str]:
        c = self._context
        if not c.in_job:
            return {}
        # A task the kit runs without ids (the grader running a layer directly) is still a job task: id 0.
        return {"jobId": str(c.job_id or 0), "multitaskParentRunId": str(c.job_run_id or 0),
                "runId": str(c.task_run_id or 0)}

    def _path(self) -> str | None:
        path = self._context.notebook_path
        return str(Path(path).with_suffix("")) if path else None

    def tags(self) -> ScalaMap:
        tags = {"user": local_user(), **self._ids()}
        if self._context.task_key:
            tags["taskKey"] = self._context.task_key
        return ScalaMap(tags)

    def jobId(self) -> Option:  # noqa: N802 - Databricks' name
        return Option(self._ids().get("jobId"))

    def currentRunId(self) -> Option:  # noqa: N802 - Databricks' name
        run = self._ids().get("runId")
        return Option(None if run is None else RunId(int(run)))

    def idInJob(self) -> Option:  # noqa: N802 - Databricks' name
        return Option(self._ids().get("runId"))

    def notebookPath(self) -> Option:  # noqa: N802 - Databricks' name
        return Option(self._path())

    def userName(self) -> Option:  # noqa: N802 - Databricks' name
        return Option(local_user())

    # A workspace's own facts: none exists locally.
    def clusterId(self) -> Option:  # noqa: N802 - Databricks' name
        return Option()

    def apiUrl(self) -> Option:  # noqa: N802 - Databricks' name
        return Option()

    def apiToken(self) -> Option:  # noqa: N802 - Databricks' name
        return Option()

    def browserHostName(self) -> Option:  # noqa: N802 - Databricks' name
        return Option()

    def workspaceId(self) -> Option:  # noqa: N802 - Databricks' name
        return Option()

    def safeToJson(self) -> str:  # noqa: N802 - Databricks' name
        attributes: dict[str, object] = {"user": local_user(), **self._ids()}
        if self._ids():
            attributes["currentRunId"] = self._ids()["runId"]
        if self._path():
            attributes["notebook_path"] = self._path()
        return json.dumps({"attributes": attributes})

    def toJson(self) -> str:  # noqa: N802 - Databricks' name
        """Databricks' full shape, which audit cells read: ``tags`` (user, jobId, runId, ...), ``extraContext``
        (``notebook_path``), ``currentRunId`` and ``rootRunId`` (``{"id": n}`` in a job run, else null)."""
        ids = self._ids()
        extra = {"notebook_path": self._path()} if self._path() else {}
        return json.dumps({
            "rootRunId": {"id": int(ids["multitaskParentRunId"])} if ids else None,
            "currentRunId": {"id": int(ids["runId"])} if ids else None,
            "jobGroup": None,
            "tags": self.tags()._items,
            "extraContext": extra,
            "credentialKeys": [],
        })


class _NotebookHandle:
    def __init__(self, context: RunContext) -> None:
        self._context = context

    def getContext(self) -> NotebookContext:  # noqa: N802 - Databricks' name
        return NotebookContext(self._context)


class _JavaDbutils:
    def __init__(self, context: RunContext) -> None:
        self._context = context

    def notebook(self) -> _NotebookHandle:
        return _NotebookHandle(self._context)


class EntryPoint:
    """``dbutils.notebook.entry_point``: only the path to the notebook context is provided."""

    def __init__(self, context: RunContext) -> None:
        self._context = context

    def getDbutils(self) -> _JavaDbutils:  # noqa: N802 - Databricks' name
        return _JavaDbutils(self._context)

    def getCurrentBindings(self) -> dict[str, str]:  # noqa: N802 - Databricks' name
        """The values passed to the notebook (a job's parameters, ``dbutils.notebook.run``'s arguments): what older
        notebooks read their parameters from."""
        return dict(self._context.parameters)

    def __repr__(self) -> str:
        return ("<dbutils.notebook.entry_point (local Day 07 runtime: getDbutils().notebook().getContext(), "
                "getCurrentBindings())>")


def local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "learner"
