"""Dynamic value references (``{{job.run_id}}``, ``{{tasks.bronze.values.rows}}``) as Databricks resolves them.

Rules reproduced (Databricks "dynamic value references" docs):
- a reference is ``{{ dotted.name }}``; identifiers with characters other than letters, digits and ``_`` are
  wrapped in backticks: ``{{job.parameters.`my-param`}}``;
- a syntax error (a missing brace) or an unknown namespace leaves the text as a literal;
- an unknown name in a known namespace (``{{job.naem}}``) is an error.

The runner calls :func:`resolve` on every parameter value and condition operand before a task starts;
the validator calls :func:`find_refs` and :func:`name_problem` without a run.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from checkers.errors import CheckersError

#: Namespaces Databricks knows; a reference in any other one is passed through as text.
KNOWN_NAMESPACES = ("job", "task", "tasks", "workspace")

#: ``{{job.start_time.<argument>}}`` arguments (UTC), as in the Databricks reference table.
TIME_ARGUMENTS = ("iso_date", "iso_datetime", "year", "month", "day", "hour", "minute", "second",
                  "timestamp_ms", "iso_weekday", "is_weekday")

#: Fixed names (the dotted tail after the namespace), for the "did you mean" of an unknown one.
FIXED_NAMES = (
    "job.id", "job.name", "job.run_id", "job.repair_count", "job.trigger.type",
    *(f"job.start_time.{a}" for a in TIME_ARGUMENTS), *(f"job.trigger.time.{a}" for a in TIME_ARGUMENTS),
    "task.name", "task.run_id", "task.execution_count", "task.notebook_path",
    "workspace.id", "workspace.url",
)
#: Names with a user-chosen part, shown in messages.
PATTERN_NAMES = ("job.parameters.<name>", "tasks.<task_key>.values.<key>", "tasks.<task_key>.result_state",
                 "tasks.<task_key>.run_id", "tasks.<task_key>.execution_count")
_TASK_ATTRIBUTES = ("result_state", "run_id", "execution_count")

NO_INPUT: Any = object()
"""The :attr:`RefContext.iteration_input` of a task that is not an iteration of a ``for_each_task``."""

_SEGMENT = r"(?:[A-Za-z0-9_]+|`[^`]+`)"
_SEGMENT_RE = re.compile(_SEGMENT)
_REF_RE = re.compile(r"\{\{\s*(" + _SEGMENT + r"(?:\." + _SEGMENT + r")*)\s*\}\}")
_PLAIN_RE = re.compile(r"[A-Za-z0-9_]+")


class RefError(CheckersError):
    """A reference in a known namespace names nothing, or names something not available in this run."""

    def __init__(self, message: str, *, reference: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.reference = reference


@dataclass(frozen=True)
class Ref:
    """One well-formed ``{{...}}`` reference found in a text."""

    text: str
    """The reference as written, braces included."""
    start: int
    """Offset of the first ``{`` in the text searched."""
    end: int
    """Offset just past the last ``}``."""
    path: tuple[str, ...]
    """The dotted name split into identifiers, backticks removed."""

    @property
    def namespace(self) -> str:
        """First identifier: ``job``, ``task``, ``tasks``, ``workspace`` or something unknown."""
        return self.path[0]

    @property
    def known(self) -> bool:
        """True when the namespace is one Databricks resolves (otherwise the text stays literal)."""
        return self.namespace in KNOWN_NAMESPACES

    @property
    def name(self) -> str:
        """The dotted name, with backticks where an identifier needs them."""
        return ".".join(p if _PLAIN_RE.fullmatch(p) else f"`{p}`" for p in self.path)

    @property
    def task_key(self) -> str | None:
        """For ``{{tasks.<key>...}}``, the task it reads from."""
        return self.path[1] if self.namespace == "tasks" and len(self.path) > 1 else None

    @property
    def parameter(self) -> str | None:
        """For ``{{job.parameters.<name>}}``, the parameter name."""
        if self.path[:2] == ("job", "parameters") and len(self.path) == 3:
            return self.path[2]
        return None


def find_refs(text: str) -> list[Ref]:
    """Every well-formed ``{{...}}`` in ``text``, known namespace or not, in order."""
    refs = []
    for m in _REF_RE.finditer(text):
        parts = tuple(p[1:-1] if p.startswith("`") else p for p in _SEGMENT_RE.findall(m.group(1)))
        refs.append(Ref(text=m.group(0), start=m.start(), end=m.end(), path=parts))
    return refs


def name_problem(ref: Ref) -> str | None:
    """Why a reference in a known namespace names nothing Databricks has (None when the shape is right).

    Only the shape is checked here: whether ``job.parameters.x`` exists or ``tasks.x`` is upstream needs the
    job, which is the validator's part.
    """
    if not ref.known:
        return None
    p = ref.path
    ok = (
        ".".join(p) in FIXED_NAMES
        or (p[:2] == ("job", "parameters") and len(p) == 3)
        or (p[0] == "tasks" and len(p) == 4 and p[2] == "values")
        or (p[0] == "tasks" and len(p) == 3 and p[2] in _TASK_ATTRIBUTES)
    )
    if ok:
        return None
    close = difflib.get_close_matches(ref.name, [*FIXED_NAMES, *_pattern_guesses(ref)], n=1, cutoff=0.75)
    guess = f" — did you mean `{{{{{close[0]}}}}}`?" if close else "."
    return f"`{ref.text}` is not a dynamic value reference Databricks knows{guess}"


def _pattern_guesses(ref: Ref) -> list[str]:
    """Pattern names filled in with the reference's own identifiers, so typos in fixed parts are caught."""
    p = ref.path
    guesses = []
    if len(p) >= 3:
        guesses.append(f"job.parameters.{p[-1]}")
    if len(p) >= 2:
        guesses += [f"tasks.{p[1]}.{a}" for a in _TASK_ATTRIBUTES]
        if len(p) >= 4:
            guesses.append(f"tasks.{p[1]}.values.{p[-1]}")
    return guesses


@dataclass(kw_only=True)
class RefContext:
    """What a running task can see; every field a reference may read."""

    job_id: int | str = 0
    """``{{job.id}}``."""
    job_name: str = ""
    """``{{job.name}}``."""
    run_id: int | str = 0
    """``{{job.run_id}}``."""
    repair_count: int = 0
    """``{{job.repair_count}}``: 0 for the first run, +1 per repair."""
    start_time: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    """Job run start; ``{{job.start_time.*}}`` reads it in UTC."""
    trigger_type: str = "one_time"
    """``{{job.trigger.type}}``: periodic, one_time, run_job_task, file_arrival, continuous, table."""
    trigger_time: datetime | None = None
    """``{{job.trigger.time.*}}``; None means the start time."""
    job_parameters: Mapping[str, str] = field(default_factory=dict)
    """``{{job.parameters.<name>}}``: defaults overlaid with run-now values."""
    task_name: str = ""
    """``{{task.name}}``: the task key of the task being started."""
    task_run_id: int | str = 0
    """``{{task.run_id}}``."""
    execution_count: int = 1
    """``{{task.execution_count}}``: 1 on the first attempt, +1 per retry."""
    notebook_path: str | None = None
    """``{{task.notebook_path}}``; None for a task without a notebook."""
    task_values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """task_key → values it set with ``dbutils.jobs.taskValues.set`` (``{{tasks.<k>.values.<name>}}``)."""
    task_result_states: Mapping[str, str] = field(default_factory=dict)
    """task_key → result state of a finished task (``{{tasks.<k>.result_state}}``)."""
    task_run_ids: Mapping[str, int | str] = field(default_factory=dict)
    """task_key → its run id (``{{tasks.<k>.run_id}}``)."""
    task_execution_counts: Mapping[str, int] = field(default_factory=dict)
    """task_key → attempts it made (``{{tasks.<k>.execution_count}}``)."""
    workspace_id: int | str = 0
    """``{{workspace.id}}``."""
    workspace_url: str = "http://localhost"
    """``{{workspace.url}}``."""
    iteration_input: Any = NO_INPUT
    """A ``for_each_task`` iteration's element (``{{input}}``, ``{{input.<field>}}``); ``NO_INPUT`` outside a loop,
    where ``{{input}}`` stays literal text."""


def _time_argument(moment: datetime, argument: str) -> str:
    utc = moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    values: dict[str, Any] = {
        "iso_date": utc.date().isoformat(),
        "iso_datetime": utc.strftime("%Y-%m-%dT%H:%M:%S"),
        "year": utc.year, "month": utc.month, "day": utc.day,
        "hour": utc.hour, "minute": utc.minute, "second": utc.second,
        "timestamp_ms": int(utc.timestamp() * 1000),
        "iso_weekday": utc.isoweekday(),
        "is_weekday": "true" if utc.isoweekday() <= 5 else "false",
    }
    return str(values[argument])


def value_text(value: Any) -> str:
    """A task value as it appears once substituted: text as is, anything else as JSON (``true``, ``12``)."""
    return value if isinstance(value, str) else json.dumps(value)


def _input_lookup(ref: Ref, ctx: RefContext) -> str:
    """``{{input}}`` is the iteration's element; ``{{input.a.b}}`` a field of an element that is an object."""
    value = ctx.iteration_input
    for i, part in enumerate(ref.path[1:], start=1):
        if not isinstance(value, dict) or part not in value:
            shown = ".".join(ref.path[:i]) or "input"
            fields = ", ".join(value) if isinstance(value, dict) else "none: it is not an object"
            raise RefError(f"`{ref.text}`: this iteration's `{shown}` has no field `{part}` (its fields: {fields}).",
                           reference=ref.text, hint="Each element of the for_each_task's `inputs` array is one "
                           "iteration's `{{input}}`; give every element the field, or fix the name.")
        value = value[part]
    return value_text(value)


def _lookup(ref: Ref, ctx: RefContext) -> str:
    p = ref.path
    if p[0] == "input":
        return _input_lookup(ref, ctx)
    dotted = ".".join(p)
    simple: dict[str, Any] = {
        "job.id": ctx.job_id, "job.name": ctx.job_name, "job.run_id": ctx.run_id,
        "job.repair_count": ctx.repair_count, "job.trigger.type": ctx.trigger_type,
        "task.name": ctx.task_name, "task.run_id": ctx.task_run_id, "task.execution_count": ctx.execution_count,
        "workspace.id": ctx.workspace_id, "workspace.url": ctx.workspace_url,
    }
    if dotted in simple:
        return str(simple[dotted])
    if p[:2] == ("job", "start_time"):
        return _time_argument(ctx.start_time, p[2])
    if p[:3] == ("job", "trigger", "time"):
        return _time_argument(ctx.trigger_time or ctx.start_time, p[3])
    if dotted == "task.notebook_path":
        if ctx.notebook_path is None:
            raise RefError(f"`{ref.text}`: task `{ctx.task_name}` runs no notebook.", reference=ref.text)
        return ctx.notebook_path
    if ref.parameter is not None:
        if ref.parameter not in ctx.job_parameters:
            known = ", ".join(ctx.job_parameters) or "none"
            raise RefError(f"`{ref.text}`: the job has no parameter `{ref.parameter}` (it has: {known}).",
                           reference=ref.text, hint="Add it under the job's `parameters:` or fix the name.")
        return str(ctx.job_parameters[ref.parameter])
    key = ref.task_key or ""
    if p[2] == "values":
        values = ctx.task_values.get(key, {})
        if p[3] not in values:
            raise RefError(f"`{ref.text}`: task `{key}` set no task value `{p[3]}`.", reference=ref.text,
                           hint=f"Call dbutils.jobs.taskValues.set(\"{p[3]}\", …) in `{key}`, and make "
                                f"`{key}` an upstream dependency of task `{ctx.task_name}`.")
        return value_text(values[p[3]])
    by_attribute: dict[str, Mapping[str, Any]] = {
        "result_state": ctx.task_result_states, "run_id": ctx.task_run_ids,
        "execution_count": ctx.task_execution_counts,
    }
    table = by_attribute[p[2]]
    if key not in table:
        raise RefError(f"`{ref.text}`: task `{key}` has not run before task `{ctx.task_name}`.",
                       reference=ref.text, hint=f"Make `{key}` an upstream dependency of `{ctx.task_name}`.")
    return str(table[key])


def resolve(text: str, *, context: RefContext) -> str:
    """Replace every reference in ``text``; malformed ones and unknown namespaces stay literal.

    Raises :class:`RefError` naming the reference when a known-namespace name is wrong or has no value.
    """
    out: list[str] = []
    last = 0
    for ref in find_refs(text):
        if not ref.known and not (ref.namespace == "input" and context.iteration_input is not NO_INPUT):
            continue
        problem = name_problem(ref)
        if problem is not None:
            raise RefError(problem, reference=ref.text,
                           hint="Known references: " + ", ".join(f"{{{{{n}}}}}" for n in (
                               "job.id", "job.name", "job.run_id", "job.start_time.iso_date", *PATTERN_NAMES[:2],
                               "task.name", "workspace.url")) + " …")
        out.append(text[last:ref.start])
        out.append(_lookup(ref, context))
        last = ref.end
    out.append(text[last:])
    return "".join(out)
