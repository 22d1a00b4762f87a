"""Check a loaded job the way Databricks would, with messages a learner can act on.

:func:`validate_job` reports the schema walk (:mod:`checkers.jobs.schema`) first, then the structure checks
here (tasks, dependencies, notebooks, retries, conditions, cycles, schedule) with the reference checks
(:mod:`checkers.jobs.ref_checks`) in between, all on the raw settings dict. Each finding names the task and
the key path (``tasks[1].depends_on[0].task_key``).
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

from databricks.sdk.service import jobs

from checkers.errors import JobDefinitionError
from checkers.jobs import refs, schedule
from checkers.jobs.findings import Finding, FindingCollector, errors, value_word
from checkers.jobs.load import LoadedJob, load_job
from checkers.jobs.notebook_match import match_notebook, raw_notebook_path
from checkers.jobs.ref_checks import RefChecks
from checkers.jobs.schema import schema_findings
from checkers.jobs.sdk_fields import sdk_fields, task_type_fields
from checkers.jobs.task_graph import TaskEntry, TaskGraph, cycle_through, strongly_connected

#: Databricks' limit on tasks per job.
MAX_TASKS = 1000
_NUMERIC_OPS = ("GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL")
_TRIGGER_KEYS = ("schedule", "trigger", "continuous")
_COMMON_TASK_TYPES = ("notebook_task", "condition_task", "spark_python_task", "run_job_task", "for_each_task")


class _Checker(FindingCollector):
    def __init__(self, job: LoadedJob) -> None:
        super().__init__([])
        self.job = job
        self.raw = job.raw
        graph = TaskGraph(job.raw)
        self.entries, self.by_key, self.upstream = graph.entries, graph.by_key, graph.upstream
        self.refs = RefChecks(raw=job.raw, graph=graph, findings=self.findings)

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
            self.refs.check_task_refs(e)
        self.check_cycles()
        self.check_isolated()
        self.refs.check_parameters()
        self.check_one_trigger()
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

    def check_task_type(self, e: TaskEntry) -> None:
        types = [f for f in task_type_fields() if e.raw.get(f) is not None]
        if not types:
            self.add("error", "no_task_type", "the task has no task type.", task_key=e.key, key=e.where,
                     hint="Give it exactly one of " + ", ".join(f"`{t}`" for t in _COMMON_TASK_TYPES) + ", …")
        elif len(types) > 1:
            self.add("error", "several_task_types",
                     f"the task sets {len(types)} task types ({', '.join(types)}); a task runs exactly one.",
                     task_key=e.key, key=f"{e.where}.{types[1]}", hint="Split it into one task per type.")
        elif types[0] == "for_each_task" and isinstance(e.raw["for_each_task"], dict):
            self.check_for_each(e, e.raw["for_each_task"])
        elif types[0] not in ("notebook_task", "condition_task"):
            self.runs_only_on_databricks(e, types[0], f"{e.where}.{types[0]}")

    def runs_only_on_databricks(self, e: TaskEntry, task_type: str, key: str) -> None:
        self.add("warning", "runs_only_on_databricks",
                 f"`{task_type}` is valid on Databricks, but `day07 run` and the grader run only notebook and "
                 "condition tasks (also inside a for_each_task): locally this task ends FAILED.", task_key=e.key,
                 key=key, hint="Keep it for Databricks, or make it a notebook task to run the job here.")

    def check_for_each(self, e: TaskEntry, loop: dict[str, Any]) -> None:
        """The loop's nested task, its ``inputs`` (a JSON array, or a reference that gives one) and concurrency."""
        where = f"{e.where}.for_each_task"
        nested = loop.get("task")
        inner = [f for f in task_type_fields() if isinstance(nested, dict) and nested.get(f) is not None]
        if not inner:
            self.add("error", "for_each_no_task", "the for_each_task has no nested `task` with a task type.",
                     task_key=e.key, key=f"{where}.task", hint="Give it `task:` with a `notebook_task` (its "
                     "`base_parameters` may use `{{input}}`).")
        elif inner[0] == "for_each_task":
            self.add("error", "for_each_nested", "a for_each_task cannot run another for_each_task.",
                     task_key=e.key, key=f"{where}.task.for_each_task", hint="Nest a notebook task instead.")
        elif inner[0] != "notebook_task":
            self.runs_only_on_databricks(e, inner[0], f"{where}.task.{inner[0]}")
        inputs = loop.get("inputs")
        if not isinstance(inputs, str) or not inputs.strip():
            self.add("error", "for_each_inputs", "the for_each_task has no `inputs`.", task_key=e.key,
                     key=f"{where}.inputs", hint='Set `inputs` to a JSON array such as \'["a", "b"]\', or to a '
                     "reference that gives one, such as `{{tasks.<key>.values.<name>}}`.")
        elif not refs.find_refs(inputs):
            try:
                parsed = json.loads(inputs)
            except ValueError:
                parsed = None
            if not isinstance(parsed, list):
                self.add("error", "for_each_inputs", f"`inputs` is not a JSON array: {inputs[:60]!r}.",
                         task_key=e.key, key=f"{where}.inputs",
                         hint='Write it as JSON, for example \'["bronze", "silver"]\' or \'[{"day": 1}]\'.')
        concurrency = loop.get("concurrency")
        if concurrency is not None and (not isinstance(concurrency, int) or isinstance(concurrency, bool)
                                        or not 1 <= concurrency <= 100):
            self.add("error", "for_each_concurrency", f"`concurrency` is {value_word(concurrency)}; it must be a "
                     "whole number from 1 to 100.", task_key=e.key, key=f"{where}.concurrency",
                     hint="Leave it out to run one iteration at a time.")

    def check_dependencies(self, e: TaskEntry) -> None:
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
                             f"`outcome` is {value_word(dep['outcome'])}; it must be \"true\" or \"false\".",
                             task_key=e.key, key=f"{where}.outcome")

    def check_notebook(self, e: TaskEntry) -> None:
        found = raw_notebook_path(e.raw)
        if found is None:
            return
        path, where = found
        match = match_notebook(notebook_path=path, job_path=self.job.path, root=self.job.root)
        key = f"{e.where}.{where}"
        if match.outside is not None:
            self.add("error", "notebook_outside", f"notebook `{path}` leads out of the submission "
                     f"folder (to {match.outside}); a graded job runs only the submission's own notebooks.",
                     task_key=e.key, key=key, hint="Keep every notebook inside the folder you hand in, and write its "
                     "path relative to the job file (or as a workspace path ending in its name).")
        elif match.file is None:
            looked = ", ".join(str(p) for p in match.searched)
            if match.suggestion is not None:
                rel = match.suggestion.name
                hint = (f"Found {rel} next to the job file: write `./{rel}`" if self.job.shape == "bundle"
                        else f"Found {rel} next to the job file") + "."
            elif self.job.shape == "bundle":
                hint = "Bundle notebook paths are relative to the job file; put the notebook there or fix the path."
            else:
                hint = ("Workspace paths match `<stem>.ipynb`, `.py` or `.sql` beside the job file or in a folder "
                        "below it; put it there.")
            archives = sorted(p.name for p in self.job.path.parent.glob("*.dbc"))
            if archives:
                hint = (f"The notebooks may be in the DBC archive {archives[0]}: `day07 check` opens it, "
                        "`day07 job validate` does not. Grade the folder with `day07 check` to see.")
            self.add("error", "notebook_not_found", f"notebook `{path}` not found (looked for "
                     f"{looked}).", task_key=e.key, key=key, hint=hint)
        elif match.note:
            self.add("warning", "notebook_note", match.note + ".", task_key=e.key, key=key)

    def check_retries(self, e: TaskEntry) -> None:
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

    def check_condition(self, e: TaskEntry) -> None:
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


    # -- graph
    def check_cycles(self) -> None:
        for component in strongly_connected(self.upstream):
            order = sorted(component, key=lambda k: self.by_key[k].index)
            start = order[0]
            if len(component) == 1 and start not in self.upstream[start]:
                continue
            cycle = cycle_through(start, component, self.upstream)
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
    def check_one_trigger(self) -> None:
        """Databricks keeps one trigger per job: a schedule, a ``trigger`` (periodic, file arrival, table update) or
        ``continuous``; the Jobs API refuses settings with more than one."""
        given = [key for key in _TRIGGER_KEYS if self.raw.get(key) is not None]
        if len(given) > 1:
            self.add("error", "several_triggers",
                     f"the job has {' and '.join(f'`{k}`' for k in given)}; a job can have only one trigger.",
                     key=given[1], hint="Keep `schedule` (a Quartz cron expression) for a run at a fixed time each "
                                        "day, and remove the others.")

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
