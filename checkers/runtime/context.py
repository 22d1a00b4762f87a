"""The bridge between a runner and the notebook kernel it starts.

The runner writes a :class:`RunContext` to a JSON file and passes its path in the signal
:data:`checkers.signals.RUN_CONTEXT`; the kernel extension reads it. The kernel reports back as it goes: each
``dbutils`` call (a widget declared or read, a task value set, the exit value) is sent to the executor as a Jupyter
message the moment it happens (see :mod:`checkers.runtime.events`), and the executor builds the
:class:`RuntimeRecord` from those messages. Nothing the notebook writes later (a file, an object in the kernel) can
change what was already reported, and the record survives a kernel that dies.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from checkers.files import atomic_write
from checkers.signals import RUN_CONTEXT


@dataclass
class RunContext:
    """What a notebook run knows about the job run around it."""

    parameters: dict[str, str] = field(default_factory=dict)
    """Widget values passed by the job or caller; they win over widget defaults."""
    in_job: bool = False
    """True when run as a job task: ``taskValues.get`` reads upstream values instead of ``debugValue``."""
    task_key: str | None = None
    """The running task's key, if any."""
    job_id: int | None = None
    """The job's id (``{{job.id}}``) when run as a job task; the notebook context reports it as tag ``jobId``."""
    job_run_id: int | None = None
    """The job run's id (``{{job.run_id}}``): the context's ``multitaskParentRunId``."""
    task_run_id: int | None = None
    """This task run's id (``{{task.run_id}}``): the context's ``currentRunId`` / tag ``runId``."""
    task_values: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Task values already set by earlier tasks of this run: task key → key → value."""
    notebook_path: str | None = None
    """The notebook file being run; relative ``%run`` and ``dbutils.notebook.run`` paths start here."""
    report_events: bool = False
    """True when an executor runs the notebook and listens for its ``dbutils`` events."""
    work_dir: str | None = None
    """Folder for nested runs (``dbutils.notebook.run``) and other by-products."""
    cell_timeout: float | None = None
    """Per-cell timeout inherited by nested notebook runs."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunContext:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def write(self, path: Path) -> Path:
        atomic_write(path, self.to_json())
        return path


def load_context(environ: dict[str, str] | None = None) -> RunContext:
    """The context this kernel was started with; an interactive session (no file) gets an empty one."""
    env = os.environ if environ is None else environ
    raw = env.get(RUN_CONTEXT)
    if not raw:
        return RunContext()
    return RunContext.from_dict(json.loads(Path(raw).read_text(encoding="utf-8")))


@dataclass
class WidgetDecl:
    """One widget a notebook declared, as the grader's widget checks see it."""

    name: str
    kind: str
    """``text``, ``dropdown``, ``combobox`` or ``multiselect``."""
    default: str
    choices: list[str] | None = None
    label: str | None = None
    cell: int | None = None
    """Index of the notebook cell that was running when it was declared (set by the executor)."""


@dataclass
class RuntimeRecord:
    """What the kernel reports about one notebook run."""

    widgets: list[WidgetDecl] = field(default_factory=list)
    """Widgets declared, in declaration order (a re-declaration replaces the earlier entry)."""
    widgets_read: list[str] = field(default_factory=list)
    """Names passed to ``dbutils.widgets.get`` (first read first)."""
    task_values: dict[str, Any] = field(default_factory=dict)
    """Values set with ``dbutils.jobs.taskValues.set``."""
    exited: bool = False
    """True once ``dbutils.notebook.exit`` was called."""
    exit_value: str | None = None
    """The string passed to ``dbutils.notebook.exit``: the task's output."""
    notices: list[str] = field(default_factory=list)
    """One-time notices shown to the learner (e.g. Delta emulated)."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, default=str)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RuntimeRecord:
        widgets = [WidgetDecl(**w) for w in data.get("widgets", [])]
        rest = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "widgets"}
        return cls(widgets=widgets, **rest)

    def apply(self, event: dict[str, Any], *, cell: int | None = None) -> None:
        """Add one ``dbutils`` event (as :mod:`checkers.runtime.events` sends it); unknown or malformed ones are
        ignored, so a notebook cannot break the executor by sending rubbish."""
        kind = event.get("kind")
        try:
            if kind == "widget":
                name = str(event["name"])
                choices = event.get("choices")
                decl = WidgetDecl(name=name, kind=str(event["type"]), default=str(event.get("default", "")),
                                  choices=[str(c) for c in choices] if isinstance(choices, list) else None,
                                  label=None if event.get("label") is None else str(event["label"]), cell=cell)
                self.widgets = [w for w in self.widgets if w.name != name] + [decl]
            elif kind == "widget_read":
                name = str(event["name"])
                if name not in self.widgets_read:
                    self.widgets_read.append(name)
            elif kind == "task_value":
                self.task_values[str(event["key"])] = event.get("value")
            elif kind == "exit":
                self.exited = True
                self.exit_value = str(event.get("value", ""))
            elif kind == "notice":
                text = str(event["text"])
                if text not in self.notices:
                    self.notices.append(text)
        except (KeyError, TypeError, ValueError):
            return
