"""Check a loaded job the way Databricks would, with messages a learner can act on.

The SDK's ``from_dict`` drops unknown keys and unknown enum values without a word, so every check here
works on the raw settings dict, walked against the SDK dataclasses' own type hints (no copied schema).
Each finding names the task and the key path (``tasks[1].depends_on[0].task_key``).
"""

from __future__ import annotations

import difflib
import json
import re
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from databricks.sdk.service import jobs

from checkers.errors import JobDefinitionError
from checkers.jobs import refs, schedule
from checkers.jobs.load import (
    BUNDLE_ONLY_JOB_KEYS,
    CREATE_ONLY_JOB_KEYS,
    JobShape,
    is_enum,
    is_sdk_dataclass,
    load_job,
    match_notebook,
    sdk_fields,
    task_type_fields,
    unwrap_optional,
)

if TYPE_CHECKING:
    from checkers.jobs.load import LoadedJob

Level = Literal["error", "warning"]

#: Databricks' limit on tasks per job.
MAX_TASKS = 1000
_PARAM_NAME_RE = re.compile(r"[A-Za-z0-9_.\-]+")
_NUMERIC_OPS = ("GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL")
_COMMON_TASK_TYPES = ("notebook_task", "condition_task", "spark_python_task", "run_job_task", "for_each_task")


@dataclass(frozen=True)
class Finding:
    """One problem (error) or suspicious choice (warning) in a job definition."""

    level: Level
    """``error``: Databricks would refuse the job or the run would fail; ``warning``: legal but suspicious."""
    code: str
    """Stable id for tests and graders, e.g. ``unknown_key``, ``cycle``, ``invalid_cron``."""
    message: str
    """What is wrong, naming the task and key."""
    task_key: str | None = None
    """The task concerned, when the problem is inside one."""
    key: str | None = None
    """Key path inside the job settings, e.g. ``tasks[1].depends_on[0].task_key``."""
    hint: str | None = None
    """What to do about it."""

    def describe(self) -> str:
        """One line: key path and message."""
        return f"{self.key}: {self.message}" if self.key else self.message


def errors(findings: list[Finding]) -> list[Finding]:
    """Only the error-level findings."""
    return [f for f in findings if f.level == "error"]


# --------------------------------------------------------------------------------------------- schema walk

_TYPE_WORDS = {str: "text", int: "a whole number", bool: "true or false", float: "a number"}


def _type_word(hint: Any) -> str:
    hint = unwrap_optional(hint)
    origin = typing.get_origin(hint)
    if origin in (list, typing.List):  # noqa: UP006
        return "a list"
    if origin in (dict, typing.Dict) or is_sdk_dataclass(hint):  # noqa: UP006
        return "a mapping (key: value pairs)"
    if is_enum(hint):
        return "one of " + ", ".join(m.value for m in hint)
    return _TYPE_WORDS.get(hint, getattr(hint, "__name__", str(hint)))


def _value_word(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "null" if value is None else type(value).__name__


def _child(key: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{key}[{name}]"
    return f"{key}.{name}" if key else str(name)


def _owner_label(cls: type, key: str) -> str:
    if cls is jobs.JobSettings:
        return "a job setting"
    if cls is jobs.Task:
        return "a task field"
    last = key.rsplit(".", 1)[-1]
    if last.endswith("]"):
        return f"a field of a `{last.split('[')[0]}` entry"
    return f"a field of `{last}`"


def _task_prefix(task_key: str | None) -> str:
    return f"Task `{task_key}`: " if task_key else ""


class _SchemaWalker:
    """Walks raw settings against the SDK dataclasses and records unknown keys, wrong types, bad enums."""

    def __init__(self, shape: JobShape) -> None:
        self.shape = shape
        self.findings: list[Finding] = []

    def add(self, level: Level, code: str, message: str, task_key: str | None, key: str,
            hint: str | None = None) -> None:
        self.findings.append(Finding(level, code, _task_prefix(task_key) + message, task_key, key or None, hint))

    def walk(self, value: Any, hint: Any, key: str, task_key: str | None) -> None:
        hint = unwrap_optional(hint)
        origin = typing.get_origin(hint)
        if value is None:
            return
        if is_sdk_dataclass(hint):
            self._walk_dataclass(value, hint, key, task_key)
        elif origin in (list, typing.List):  # noqa: UP006
            if not isinstance(value, list):
                self._wrong_type(value, hint, key, task_key)
                return
            (item,) = typing.get_args(hint) or (Any,)
            for i, v in enumerate(value):
                self.walk(v, item, _child(key, i), task_key)
        elif origin in (dict, typing.Dict):  # noqa: UP006
            if not isinstance(value, dict):
                self._wrong_type(value, hint, key, task_key)
                return
            args = typing.get_args(hint)
            for k, v in value.items():
                self.walk(v, args[1] if len(args) == 2 else Any, _child(key, str(k)), task_key)
        elif is_enum(hint):
            self._check_enum(value, hint, key, task_key)
        elif hint in _TYPE_WORDS:
            ok = isinstance(value, hint) and not (hint is not bool and isinstance(value, bool))
            if hint is float:
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not ok:
                self._wrong_type(value, hint, key, task_key)

    def _walk_dataclass(self, value: Any, cls: type, key: str, task_key: str | None) -> None:
        if not isinstance(value, dict):
            self._wrong_type(value, cls, key, task_key)
            return
        if cls is jobs.Task and isinstance(value.get("task_key"), str):
            task_key = value["task_key"]
        fields = sdk_fields(cls)
        extras: tuple[str, ...] = ()
        if cls is jobs.JobSettings and not key:
            extras = BUNDLE_ONLY_JOB_KEYS if self.shape == "bundle" else (
                CREATE_ONLY_JOB_KEYS if self.shape == "create" else ())
        for k, v in value.items():
            if k in fields:
                self.walk(v, fields[k].hint, _child(key, k), task_key)
            elif k == "access_control_list" and k in extras:
                self.walk(v, list[jobs.JobAccessControlRequest], _child(key, k), task_key)
            elif k not in extras:
                self._unknown_key(str(k), cls, key, task_key, list(fields) + list(extras))
        for name, spec in fields.items():
            if spec.required and value.get(name) is None:
                where = f"under `{key}`" if key else "at the top of the job settings"
                self.add("error", "missing_required", f"`{_child(key, name)}` is required but missing.",
                         task_key, _child(key, name), f"Add `{name}:` {where}.")

    def _unknown_key(self, name: str, cls: type, key: str, task_key: str | None, known: list[str]) -> None:
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        guess = f" — did you mean `{close[0]}`?" if close else ""
        hint = (f"Rename it to `{close[0]}`." if close else
                "Remove it, or check the spelling against the Jobs API reference; Databricks ignores or "
                "refuses keys it does not know.")
        self.add("error", "unknown_key", f"`{name}` is not {_owner_label(cls, key)}{guess}", task_key,
                 _child(key, name), hint)

    def _wrong_type(self, value: Any, hint: Any, key: str, task_key: str | None) -> None:
        wanted = _type_word(hint)
        hint_text = None
        if wanted == "a list" and key.endswith("depends_on") and isinstance(value, str):
            hint_text = f"Write `depends_on:` with a `- task_key: {value}` line below it."
        elif wanted == "a list" and not isinstance(value, (list, dict)):
            shown = json.dumps(value)
            hint_text = (f"Write a list, even for one item: a `- {value}` line below the key in YAML, "
                         f"`[{shown}]` in JSON.")
        elif wanted == "text" and isinstance(value, (int, float, bool)) and self.shape != "bundle":
            hint_text = f"Quote it in JSON: \"{str(value).lower() if isinstance(value, bool) else value}\"."
        self.add("error", "wrong_type", f"`{key}` should be {wanted}, not {_value_word(value)}.", task_key, key,
                 hint_text)

    def _check_enum(self, value: Any, enum_cls: Any, key: str, task_key: str | None) -> None:
        allowed = [m.value for m in enum_cls]
        if isinstance(value, str) and value in allowed:
            return
        name = key.rsplit(".", 1)[-1]
        code = {"run_if": "invalid_run_if", "op": "invalid_condition_op"}.get(name, "invalid_value")
        close = difflib.get_close_matches(str(value).upper(), allowed, n=1, cutoff=0.6)
        guess = f" — did you mean `{close[0]}`?" if close else ""
        self.add("error", code, f"`{name}` is {_value_word(value)}, which is not one of "
                 f"{', '.join(allowed)}{guess}", task_key, key,
                 f"Use `{close[0]}` (upper case, exactly as listed)." if close else
                 f"Use one of {', '.join(allowed)}.")


def schema_findings(raw: dict[str, Any], *, shape: JobShape) -> list[Finding]:
    """Unknown keys (with a close match), wrong types, bad enum values and missing required keys."""
    walker = _SchemaWalker(shape)
    walker.walk(raw, jobs.JobSettings, "", None)
    return walker.findings


# --------------------------------------------------------------------------------------------- structure


@dataclass
class _TaskEntry:
    index: int
    key: str
    raw: dict[str, Any]

    @property
    def where(self) -> str:
        return f"tasks[{self.index}]"

    def deps(self) -> Iterator[tuple[int, dict[str, Any]]]:
        deps = self.raw.get("depends_on")
        for j, dep in enumerate(deps if isinstance(deps, list) else []):
            if isinstance(dep, dict) and isinstance(dep.get("task_key"), str):
                yield j, dep


class _Checker:
    def __init__(self, job: LoadedJob) -> None:
        self.job = job
        self.raw = job.raw
        self.findings: list[Finding] = []
        tasks = self.raw.get("tasks")
        self.entries = [_TaskEntry(i, t["task_key"], t) for i, t in enumerate(tasks if isinstance(tasks, list)
                                                                              else [])
                        if isinstance(t, dict) and isinstance(t.get("task_key"), str)]
        self.by_key: dict[str, _TaskEntry] = {}
        for e in self.entries:
            self.by_key.setdefault(e.key, e)
        # upstream → downstream edges between existing tasks
        self.upstream: dict[str, set[str]] = {k: set() for k in self.by_key}
        for e in self.entries:
            for _, dep in e.deps():
                if dep["task_key"] in self.by_key:
                    self.upstream[e.key].add(dep["task_key"])

    def add(self, level: Level, code: str, message: str, *, task_key: str | None = None,
            key: str | None = None, hint: str | None = None) -> None:
        self.findings.append(Finding(level, code, _task_prefix(task_key) + message, task_key, key, hint))

    def ancestors(self, key: str) -> set[str]:
        seen: set[str] = set()
        todo = list(self.upstream.get(key, ()))
        while todo:
            k = todo.pop()
            if k not in seen:
                seen.add(k)
                todo.extend(self.upstream.get(k, ()))
        return seen

    def run(self) -> list[Finding]:
        self.check_unresolved()
        self.check_wrapper()
        self.check_tasks_present()
        self.check_duplicates()
        for e in self.entries:
            self.check_task_type(e)
            self.check_dependencies(e)
            self.check_notebook(e)
            self.check_retries(e)
            self.check_condition(e)
            self.check_task_refs(e)
        self.check_cycles()
        self.check_isolated()
        self.check_parameters()
        self.check_schedule()
        return self.findings

    # -- load-time facts
    def check_unresolved(self) -> None:
        for u in self.job.unresolved:
            is_var = u.name.startswith("var.")
            self.add("error" if is_var else "warning", "unresolved_variable",
                     f"`${{{u.name}}}` in `{u.key}` cannot be resolved: {u.reason}.", key=u.key,
                     hint=f"Declare it: `variables:` → `{u.name[4:]}:` → `default: …`." if is_var else
                     "Use a `${var.*}` variable with a default, or a literal value.")

    def check_wrapper(self) -> None:
        if self.job.shape != "get":
            return
        known = sdk_fields(jobs.Job)
        for k in self.job.document:
            if k not in known:
                close = difflib.get_close_matches(k, list(known), n=1, cutoff=0.6)
                self.add("warning", "unknown_key", f"`{k}` is not a field of `jobs get` output"
                         + (f" — did you mean `{close[0]}`?" if close else ""), key=k)

    # -- tasks
    def check_tasks_present(self) -> None:
        tasks = self.raw.get("tasks")
        if not isinstance(tasks, list) or not tasks:
            self.add("error", "no_tasks", "The job has no tasks.", key="tasks",
                     hint="Add a `tasks:` list with at least one task (a `task_key` and a `notebook_task`).")
        elif len(tasks) > MAX_TASKS:
            self.add("error", "too_many_tasks", f"The job has {len(tasks)} tasks; Databricks allows {MAX_TASKS}.",
                     key="tasks")

    def check_duplicates(self) -> None:
        for e in self.entries:
            first = self.by_key[e.key]
            if first is not e:
                self.add("error", "duplicate_task_key",
                         f"task key `{e.key}` is used by {first.where} and {e.where}; task keys must be unique.",
                         task_key=e.key, key=f"{e.where}.task_key", hint="Rename one of the two tasks.")

    def check_task_type(self, e: _TaskEntry) -> None:
        types = [f for f in task_type_fields() if e.raw.get(f) is not None]
        if not types:
            self.add("error", "no_task_type", "the task has no task type.", task_key=e.key, key=e.where,
                     hint="Give it exactly one of " + ", ".join(f"`{t}`" for t in _COMMON_TASK_TYPES) + ", …")
        elif len(types) > 1:
            self.add("error", "several_task_types",
                     f"the task sets {len(types)} task types ({', '.join(types)}); a task runs exactly one.",
                     task_key=e.key, key=f"{e.where}.{types[1]}", hint="Split it into one task per type.")

    def check_dependencies(self, e: _TaskEntry) -> None:
        for j, dep in e.deps():
            up = dep["task_key"]
            where = f"{e.where}.depends_on[{j}]"
            if up not in self.by_key:
                close = difflib.get_close_matches(up, list(self.by_key), n=1, cutoff=0.6)
                self.add("error", "missing_dependency",
                         f"depends on `{up}`, but the job has no task with that key"
                         + (f" — did you mean `{close[0]}`?" if close else "."),
                         task_key=e.key, key=f"{where}.task_key",
                         hint=f"Task keys in this job: {', '.join(self.by_key)}.")
                continue
            if "outcome" in dep and dep["outcome"] is not None:
                upstream = self.by_key[up].raw
                if upstream.get("condition_task") is None:
                    self.add("error", "outcome_not_condition",
                             f"`outcome` is set on the dependency on `{up}`, but `{up}` is not a condition task.",
                             task_key=e.key, key=f"{where}.outcome",
                             hint="`outcome: \"true\"`/`\"false\"` only follows a condition_task; remove it.")
                elif dep["outcome"] not in ("true", "false"):
                    self.add("error", "invalid_outcome",
                             f"`outcome` is {_value_word(dep['outcome'])}; it must be \"true\" or \"false\".",
                             task_key=e.key, key=f"{where}.outcome")

    def check_notebook(self, e: _TaskEntry) -> None:
        nb = e.raw.get("notebook_task")
        if not isinstance(nb, dict) or not isinstance(nb.get("notebook_path"), str) or not nb["notebook_path"]:
            return
        match = match_notebook(notebook_path=nb["notebook_path"], job_path=self.job.path)
        key = f"{e.where}.notebook_task.notebook_path"
        if match.file is None:
            looked = ", ".join(str(p) for p in match.searched)
            if match.suggestion is not None:
                rel = match.suggestion.name
                hint = (f"Found {rel} next to the job file: write `./{rel}`" if self.job.shape == "bundle"
                        else f"Found {rel} next to the job file") + "."
            elif self.job.shape == "bundle":
                hint = "Bundle notebook paths are relative to the job file; put the notebook there or fix the path."
            else:
                hint = "Workspace paths match `<stem>.ipynb` or `<stem>.py` next to the job file; put it there."
            self.add("error", "notebook_not_found", f"notebook `{nb['notebook_path']}` not found (looked for "
                     f"{looked}).", task_key=e.key, key=key, hint=hint)
        elif match.note:
            self.add("warning", "notebook_note", match.note + ".", task_key=e.key, key=key)

    def check_retries(self, e: _TaskEntry) -> None:
        retries = e.raw.get("max_retries")
        if isinstance(retries, int) and not isinstance(retries, bool):
            if retries < -1:
                self.add("error", "invalid_value", f"`max_retries` is {retries}; use -1 (retry forever), 0 (never) "
                         "or a positive count.", task_key=e.key, key=f"{e.where}.max_retries")
            elif retries != 0 and not e.raw.get("min_retry_interval_millis"):
                self.add("warning", "retry_immediately",
                         f"`max_retries` is {retries} with no retry interval, so a failed run is retried at once.",
                         task_key=e.key, key=f"{e.where}.min_retry_interval_millis",
                         hint="Set `min_retry_interval_millis` (e.g. 60000) so a passing problem can clear.")
        timeout = e.raw.get("timeout_seconds")
        if isinstance(timeout, int) and not isinstance(timeout, bool) and timeout < 0:
            self.add("error", "invalid_value", f"`timeout_seconds` is {timeout}; use 0 (no timeout) or more.",
                     task_key=e.key, key=f"{e.where}.timeout_seconds")

    def check_condition(self, e: _TaskEntry) -> None:
        cond = e.raw.get("condition_task")
        if not isinstance(cond, dict) or cond.get("op") not in _NUMERIC_OPS:
            return
        for side in ("left", "right"):
            operand = cond.get(side)
            if isinstance(operand, str) and not refs.find_refs(operand) and not _is_number(operand):
                self.add("warning", "condition_not_numeric",
                         f"`{cond['op']}` compares numbers, but `{side}` is the text {operand!r}.",
                         task_key=e.key, key=f"{e.where}.condition_task.{side}",
                         hint="Use a number or a reference such as `{{tasks.<key>.values.<name>}}`.")

    # -- references
    def check_task_refs(self, e: _TaskEntry) -> None:
        for key, text in _strings(e.raw, e.where):
            self._check_text_refs(text, key, e.key)

    def _check_text_refs(self, text: str, key: str, task_key: str | None) -> None:
        found = refs.find_refs(text)
        rest = text
        for ref in reversed(found):
            rest = rest[: ref.start] + rest[ref.end:]
        if "{{" in rest or "}}" in rest:
            self.add("warning", "malformed_reference",
                     f"`{key}` holds {text!r}, which looks like a reference but is not well formed; Databricks "
                     "passes it through as plain text.", task_key=task_key, key=key,
                     hint="Write `{{namespace.name}}` with two braces on each side.")
        params = self._parameter_names()
        for ref in found:
            if ref.namespace == "input":
                continue  # for_each_task's `{{input}}`, resolved per iteration
            if not ref.known:
                self.add("warning", "literal_braces",
                         f"`{ref.text}` is not in a reference namespace ({', '.join(refs.KNOWN_NAMESPACES)}); "
                         "Databricks passes it through as plain text.", task_key=task_key, key=key,
                         hint="For a task value write `{{tasks.<task_key>.values.<name>}}`.")
                continue
            problem = refs.name_problem(ref)
            if problem is not None:
                self.add("error", "unknown_reference", problem, task_key=task_key, key=key,
                         hint="See the list of dynamic value references in the Databricks docs.")
            elif ref.parameter is not None and ref.parameter not in params:
                close = difflib.get_close_matches(ref.parameter, params, n=1, cutoff=0.6)
                self.add("error", "unknown_reference",
                         f"`{ref.text}` names job parameter `{ref.parameter}`, which the job does not define"
                         + (f" — did you mean `{close[0]}`?" if close else "."), task_key=task_key, key=key,
                         hint="Add it under the job's `parameters:` (with a default) or fix the name.")
            elif ref.task_key is not None:
                self._check_task_ref(ref, key, task_key)

    def _check_task_ref(self, ref: refs.Ref, key: str, task_key: str | None) -> None:
        target = ref.task_key or ""
        if target not in self.by_key:
            close = difflib.get_close_matches(target, list(self.by_key), n=1, cutoff=0.6)
            self.add("error", "unknown_reference", f"`{ref.text}` reads from task `{target}`, which the job "
                     "does not have" + (f" — did you mean `{close[0]}`?" if close else "."),
                     task_key=task_key, key=key, hint=f"Task keys in this job: {', '.join(self.by_key)}.")
        elif task_key is None:
            self.add("error", "reference_not_upstream", f"`{ref.text}` in a job parameter: job parameters are "
                     "resolved before any task runs, so they cannot read task values.", key=key,
                     hint="Put the reference in the task's own parameters (base_parameters) instead.")
        elif target not in self.ancestors(task_key):
            self.add("error", "reference_not_upstream",
                     f"`{ref.text}` reads from task `{target}`, which is not upstream of `{task_key}`, so its "
                     "value is not there yet when this task starts.", task_key=task_key, key=key,
                     hint=f"Make `{task_key}` depend on `{target}` (directly or through other tasks).")

    # -- graph
    def check_cycles(self) -> None:
        for component in _strongly_connected(self.upstream):
            order = sorted(component, key=lambda k: self.by_key[k].index)
            start = order[0]
            if len(component) == 1 and start not in self.upstream[start]:
                continue
            cycle = _cycle_through(start, component, self.upstream)
            shown = " → ".join(cycle)
            entry = self.by_key[start]
            back = cycle[-2]  # start depends on this one
            j = next((j for j, dep in entry.deps() if dep["task_key"] == back), 0)
            self.add("error", "cycle", f"the dependencies form a cycle: {shown} (each runs after the one before "
                     "it), so none of these tasks can ever start.", task_key=start,
                     key=f"{entry.where}.depends_on[{j}].task_key",
                     hint="Remove one `depends_on` entry so the tasks run in one direction.")

    def check_isolated(self) -> None:
        if len(self.entries) < 2:
            return
        downstream = {up for ups in self.upstream.values() for up in ups}
        for e in self.entries:
            has_deps = any(True for _ in e.deps())
            if not has_deps and e.key not in downstream and self.by_key[e.key] is e:
                self.add("warning", "isolated_task", "nothing depends on this task and it depends on nothing, "
                         "so it runs on its own in parallel with the rest.", task_key=e.key, key=e.where,
                         hint="If it belongs in the chain, add a `depends_on` entry.")

    # -- job level
    def _parameter_names(self) -> list[str]:
        params = self.raw.get("parameters")
        return [p["name"] for p in params if isinstance(p, dict) and isinstance(p.get("name"), str)] \
            if isinstance(params, list) else []

    def check_parameters(self) -> None:
        params = self.raw.get("parameters")
        if not isinstance(params, list):
            return
        seen: set[str] = set()
        for i, p in enumerate(params):
            if not isinstance(p, dict) or not isinstance(p.get("name"), str):
                continue
            name, key = p["name"], f"parameters[{i}].name"
            if not _PARAM_NAME_RE.fullmatch(name):
                self.add("error", "invalid_parameter_name", f"job parameter name {name!r} may only hold letters, "
                         "digits, `_`, `-` and `.`.", key=key,
                         hint=f"Rename it, e.g. `{re.sub(r'[^A-Za-z0-9_.-]+', '_', name).strip('_') or 'param'}`.")
            if name in seen:
                self.add("error", "duplicate_parameter", f"job parameter `{name}` is defined twice.", key=key)
            seen.add(name)
            if isinstance(p.get("default"), str):
                self._check_text_refs(p["default"], f"parameters[{i}].default", None)

    def check_schedule(self) -> None:
        sched = self.raw.get("schedule")
        if not isinstance(sched, dict):
            return
        cron, tz = sched.get("quartz_cron_expression"), sched.get("timezone_id")
        cron_ok = tz_ok = False
        if isinstance(cron, str):
            try:
                schedule.parse_quartz(cron)
                cron_ok = True
            except schedule.CronNotSupportedError as exc:
                self.add("warning", "cron_not_supported", exc.message, key="schedule.quartz_cron_expression",
                         hint=exc.hint)
            except schedule.CronError as exc:
                self.add("error", "invalid_cron", f"schedule: {exc.message}", key="schedule.quartz_cron_expression",
                         hint=exc.hint)
        if isinstance(tz, str):
            try:
                schedule.zone(tz)
                tz_ok = True
            except schedule.CronError as exc:
                self.add("error", "invalid_timezone", f"schedule: {exc.message}", key="schedule.timezone_id",
                         hint=exc.hint)
        if not (cron_ok and tz_ok and isinstance(cron, str) and isinstance(tz, str)):
            return
        try:
            schedule.check_schedule(cron=cron, timezone_id=tz)
        except schedule.CronError as exc:
            self.add("error", "invalid_cron", f"schedule: {exc.message}", key="schedule.quartz_cron_expression",
                     hint=exc.hint)
            return
        gap = schedule.min_interval(cron=cron)
        if gap is not None and gap < schedule.MIN_INTERVAL:
            self.add("warning", "schedule_too_frequent",
                     f"schedule `{cron}` fires every {gap.total_seconds():g} s; Databricks starts a run at most "
                     f"every {schedule.MIN_INTERVAL.total_seconds():g} s.", key="schedule.quartz_cron_expression",
                     hint="Fire less often (the seconds field is usually a single `0`).")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _strings(value: Any, key: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for k, v in value.items():
            if k not in ("task_key", "depends_on", "description"):
                yield from _strings(v, _child(key, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, _child(key, i))


def _strongly_connected(upstream: dict[str, set[str]]) -> list[set[str]]:
    """Kosaraju, iteratively (a job may have 1000 tasks, deeper than Python's recursion limit)."""
    order: list[str] = []
    seen: set[str] = set()
    for root in upstream:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(sorted(upstream[root])))]
        while stack:
            node, children = stack[-1]
            nxt = next((c for c in children if c not in seen), None)
            if nxt is None:
                order.append(node)
                stack.pop()
            else:
                seen.add(nxt)
                stack.append((nxt, iter(sorted(upstream[nxt]))))
    downstream: dict[str, set[str]] = {k: set() for k in upstream}
    for k, ups in upstream.items():
        for up in ups:
            downstream[up].add(k)
    components: list[set[str]] = []
    assigned: set[str] = set()
    for root in reversed(order):
        if root in assigned:
            continue
        component, todo = set(), [root]
        while todo:
            node = todo.pop()
            if node not in assigned:
                assigned.add(node)
                component.add(node)
                todo.extend(downstream[node] - assigned)
        components.append(component)
    return components


def _cycle_through(start: str, component: set[str], upstream: dict[str, set[str]]) -> list[str]:
    """Shortest cycle start → … → start in run order (upstream before downstream)."""
    downstream: dict[str, list[str]] = {k: [] for k in component}
    for k in component:
        for up in sorted(upstream[k] & component):
            downstream[up].append(k)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for child in downstream[node]:
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if child not in previous:
                    previous[child] = node
                    nxt.append(child)
        frontier = nxt
    return [start, start]


# --------------------------------------------------------------------------------------------- public API


def validate_job(job: LoadedJob) -> list[Finding]:
    """Every problem in the job, errors and warnings, schema first, then structure."""
    findings = schema_findings(job.raw, shape=job.shape)
    findings += _Checker(job).run()
    return findings


def raise_for_errors(findings: list[Finding], *, path: Path | str | None = None) -> None:
    """Raise :class:`JobDefinitionError` listing every error finding (for callers that need a valid job)."""
    errs = errors(findings)
    if not errs:
        return
    lines = "\n".join(f"  - {f.describe()}" for f in errs)
    noun = "problem" if len(errs) == 1 else "problems"
    first_hint = next((f.hint for f in errs if f.hint), None)
    raise JobDefinitionError(f"the job definition has {len(errs)} {noun}:\n{lines}", path=path, findings=errs,
                             hint=first_hint if len(errs) == 1 else "Run `day07 job validate FILE` for hints.")


def load_valid_job(*, path: Path, job_key: str | None = None) -> LoadedJob:
    """Load and validate; raise :class:`JobDefinitionError` when the job has any error."""
    job = load_job(path=path, job_key=job_key)
    raise_for_errors(validate_job(job), path=job.path)
    return job
