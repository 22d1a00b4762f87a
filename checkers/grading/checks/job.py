"""Job: the definition file loads and validates, and has the tasks, parameters and schedule of docs/contract.md."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from databricks.sdk.service import jobs

from checkers.grading.checks.common import plural, verdict
from checkers.grading.checks.evidence import Evidence
from checkers.grading.checks.registry import Outcome, check, failed, passed, skipped
from checkers.grading.quality_rule import QUALITY_STEM, THRESHOLD
from checkers.jobs.load import LoadedJob
from checkers.jobs.notebook_match import stem_of
from checkers.jobs.project import TASK_STEMS

REQUIRED_PARAMETERS = ("source_path", "schema")
REQUIRED_EXERCISES = ("job.parameters", "job.schedule", "job.dependencies", "job.fan_out")
"""The lesson job's required exercises: while all of them are untouched, the file is the lesson as shipped."""
MAX_LISTED = 5
_TODO = re.compile(r"#\s*TODO\s+(job\.[a-z_]+)")


def todo_exercises(ev: Evidence) -> list[str]:
    """Lesson exercises still untouched in the job file: marked ``# TODO job.…`` and their part still absent.

    A TODO comment left above finished (if wrong) work does not make it "not done yet": the message then says
    what is wrong with the work.
    """
    marked = list(dict.fromkeys(_TODO.findall(ev.job.text)))
    job = ev.job.loaded
    if job is None:
        return []
    return [e for e in marked if _untouched(job, e)]


def _untouched(job: LoadedJob, exercise: str) -> bool:
    if exercise == "job.parameters":
        return not job.settings.parameters
    if exercise == "job.schedule":
        return job.settings.schedule is None
    if exercise == "job.dependencies":
        s = structure(job)
        downstream = [k for stem in TASK_STEMS[1:] for k in s.by_stem.get(stem, [])]
        gates = [k for k, t in job.tasks.items() if t.condition_task is not None]
        return not any(job.tasks[k].depends_on for k in downstream + gates)
    if exercise == "job.fan_out":
        return not structure(job).by_stem.get(QUALITY_STEM)
    if exercise == "job.retries":
        return not any(t.max_retries for t in job.tasks.values())
    if exercise == "job.email":
        return job.settings.email_notifications is None and not any(t.email_notifications for t in job.tasks.values())
    if exercise == "job.condition":
        return not any(t.condition_task is not None for t in job.tasks.values())
    return True


def not_done(ev: Evidence, *exercises: str) -> str:
    left = [e for e in todo_exercises(ev) if not exercises or e in exercises]
    if not left:
        return ""
    name = ev.job.file.name if ev.job.file else "the job file"
    return f"not done yet: {name} still has TODO {', '.join(left)}. "


@dataclass
class Structure:
    """The job's notebook tasks by contract stem, and how they depend on each other."""

    job: LoadedJob
    by_stem: dict[str, list[str]]
    """Contract stem → keys of the notebook tasks that run it."""
    tasks: dict[str, jobs.Task]

    def key(self, stem: str) -> str | None:
        """The one task running ``stem`` (None when none or several)."""
        keys = self.by_stem.get(stem, [])
        return keys[0] if len(keys) == 1 else None

    def notebook_parents(self, key: str) -> set[str]:
        """Nearest upstream tasks that are not condition tasks (condition tasks are looked through)."""
        out: set[str] = set()
        seen: set[str] = set()
        todo = [d.task_key for d in (self.tasks[key].depends_on or []) if d.task_key in self.tasks]
        while todo:
            up = todo.pop()
            if up in seen:
                continue
            seen.add(up)
            task = self.tasks[up]
            if task.condition_task is not None:
                todo.extend(d.task_key for d in (task.depends_on or []) if d.task_key in self.tasks)
            else:
                out.add(up)
        return out


def structure(job: LoadedJob) -> Structure:
    tasks = job.tasks
    by_stem: dict[str, list[str]] = {}
    for key, task in tasks.items():
        if task.notebook_task is not None and task.notebook_task.notebook_path:
            match = job.notebook_matches.get(key)
            stem = match.file.stem if match is not None and match.file is not None else \
                stem_of(task.notebook_task.notebook_path)
            by_stem.setdefault(stem, []).append(key)
    return Structure(job=job, by_stem=by_stem, tasks=tasks)


def loaded(ev: Evidence) -> LoadedJob | Outcome:
    if ev.job.loaded is None:
        return skipped(f"the job definition could not be loaded ({ev.job.problem})")
    return ev.job.loaded


def on_loaded_job(judge: Callable[[Evidence, LoadedJob], Outcome]) -> Callable[[Evidence], Outcome]:
    """A check of the loaded job: skipped, saying why, when the job file could not be loaded."""

    @functools.wraps(judge)
    def run(ev: Evidence) -> Outcome:
        job = loaded(ev)
        return job if isinstance(job, Outcome) else judge(ev, job)

    return run


@check("job.valid", points=5, title="the job file loads and validates",
       hint="Run `day07 job validate job.yml` and fix what it lists.", docs="job-workflow.md")
def valid(ev: Evidence) -> Outcome:
    job = ev.job
    if job.loaded is None:
        return failed(f"{not_done(ev)}{job.problem}", hint=job.hint)
    errs = job.errors
    name = job.file.name if job.file else "the job file"
    if errs:
        listed = "; ".join(f.describe() for f in errs[:MAX_LISTED])
        more = f" (and {len(errs) - MAX_LISTED} more)" if len(errs) > MAX_LISTED else ""
        hint = errs[0].hint if len(errs) == 1 and errs[0].hint else None
        return failed(f"{not_done(ev)}{name} has {plural(len(errs), 'error')}: {listed}{more}",
                      hint=(f"{hint} " if hint else "") + f"Run `day07 job validate {name}` for every detail.")
    left = todo_exercises(ev)
    if set(REQUIRED_EXERCISES) <= set(left):  # valid, but nothing in it is the learner's work yet
        return failed(f"not done yet: {name} is the lesson's job as shipped: it still has TODO {', '.join(left)}",
                      hint="Do the job exercises in job.yml, then run `day07 job validate --exercise job.yml`.")
    warnings = len(job.findings) - len(errs)
    loaded_job = job.loaded
    tasks = len(loaded_job.settings.tasks or [])
    return passed(f"{name} loads ({loaded_job.shape} shape, job `{loaded_job.job_key}`, {plural(tasks, 'task')}) "
                  f"with no errors" + (f" ({plural(warnings, 'warning')}; see `day07 job validate`)" if warnings
                                       else ""))


def structure_problems(job: LoadedJob) -> list[str]:
    """What keeps the job from running 01_bronze → 02_silver → 03_gold as the contract asks (empty: nothing)."""
    s = structure(job)
    problems = []
    for stem in TASK_STEMS:
        keys = s.by_stem.get(stem, [])
        if not keys:
            problems.append(f"no notebook task runs {stem}")
        elif len(keys) > 1:
            problems.append(f"tasks {', '.join(keys)} all run {stem}; run it once")
    for up, down in zip(TASK_STEMS, TASK_STEMS[1:], strict=False):
        up_key, down_key = s.key(up), s.key(down)
        if up_key is None or down_key is None:
            continue
        parents = s.notebook_parents(down_key)
        if up_key not in parents:
            after = f"it depends on {', '.join(sorted(parents))}" if parents else "it depends on nothing"
            problems.append(f"task {down_key} ({down}) does not run after {up_key} ({up}): {after}")
    return problems


def parameter_problems(job: LoadedJob) -> list[str]:
    """Which of the job parameters source_path / schema are missing or lack a default (empty: none)."""
    defined = {p.name: p for p in (job.settings.parameters or []) if p.name}
    problems = []
    for name in REQUIRED_PARAMETERS:
        p = defined.get(name)
        if p is None:
            problems.append(f"no job parameter {name}")
        elif p.default is None:
            problems.append(f"job parameter {name} has no default")
    if problems:
        problems[-1] += f" (it defines {', '.join(defined)})" if defined else " (it defines none)"
    return problems


@check("job.tasks", points=6, title="notebook tasks 01_bronze → 02_silver → 03_gold, in that order",
       hint="One notebook task per notebook; silver depends_on bronze (directly or through a condition task), gold "
            "depends_on silver.", docs="dependencies.md")
@on_loaded_job
def tasks(ev: Evidence, job: LoadedJob) -> Outcome:
    return verdict(structure_problems(job), lambda: _tasks_message(job), prefix=not_done(ev, "job.dependencies"))


def _tasks_message(job: LoadedJob) -> str:
    s = structure(job)
    keys = [s.key(stem) for stem in TASK_STEMS]
    return f"{keys[0]} → {keys[1]} → {keys[2]} run 01_bronze, 02_silver, 03_gold in that order"


@check("job.parameters", points=5, title="job parameters source_path and schema, with defaults",
       hint="Add under the job: parameters: [{name: source_path, default: …}, {name: schema, default: day07}]; "
            "Databricks pushes them down to every notebook's widgets.", docs="job-workflow.md")
@on_loaded_job
def parameters(ev: Evidence, job: LoadedJob) -> Outcome:
    return verdict(parameter_problems(job), lambda: _parameters_message(job), prefix=not_done(ev, "job.parameters"))


def _parameters_message(job: LoadedJob) -> str:
    defined = {p.name: p for p in (job.settings.parameters or []) if p.name}
    shown = ", ".join(f"{name} (default {defined[name].default!r})" for name in REQUIRED_PARAMETERS)
    return f"job parameters {shown}"


@check("job.schedule", points=4, title="scheduled daily at 02:00 with a valid Quartz cron and time zone",
       hint="schedule: {quartz_cron_expression: \"0 0 2 * * ?\", timezone_id: UTC}: Quartz puts seconds first "
            "and `?` in one day field.", docs="scheduling.md")
@on_loaded_job
def schedule_check(ev: Evidence, job: LoadedJob) -> Outcome:
    from checkers.jobs import schedule

    sched = job.settings.schedule
    if sched is None:
        return failed(not_done(ev, "job.schedule") + "the job has no schedule")
    cron, tz = sched.quartz_cron_expression, sched.timezone_id
    problems = []
    hint = None
    try:
        schedule.parse_quartz(cron)
    except schedule.CronError as exc:
        problems.append(f"`{cron}` is not a valid Quartz cron: {exc.message}")
        hint = exc.hint
    else:
        if not schedule.fires_daily_at(cron=cron, hour=2):
            try:
                words = schedule.describe(cron=cron, timezone_id=tz or "UTC")
            except schedule.CronError:
                words = f"`{cron}`"
            problems.append(f"`{cron}` means: {words}; it must fire once a day at 02:00")
    if not tz:
        problems.append("the schedule has no timezone_id")
    else:
        try:
            schedule.zone(tz)
        except schedule.CronError as exc:
            problems.append(f"timezone_id {exc.message}")
            hint = hint or exc.hint
    return verdict(problems, lambda: f"`{cron}` in {tz}: {schedule.describe(cron=cron, timezone_id=tz)}", hint=hint,
                   prefix=not_done(ev, "job.schedule"))


def ancestors(s: Structure, key: str) -> set[str]:
    """Every task ``key`` waits for, directly or not."""
    seen: set[str] = set()
    todo = [d.task_key for d in s.tasks[key].depends_on or [] if d.task_key in s.tasks]
    while todo:
        up = todo.pop()
        if up not in seen:
            seen.add(up)
            todo.extend(d.task_key for d in s.tasks[up].depends_on or [] if d.task_key in s.tasks)
    return seen


def fan_out_problems(job: LoadedJob) -> list[str]:
    """What keeps the job from the fan-out of docs/contract.md: 04_quality after bronze, beside silver, gold after
    both, and a job parameter max_bad_pct with a default (empty: nothing)."""
    s = structure(job)
    keys = s.by_stem.get(QUALITY_STEM, [])
    if not keys:
        return [f"no notebook task runs {QUALITY_STEM}"]
    if len(keys) > 1:
        return [f"tasks {', '.join(keys)} all run {QUALITY_STEM}; run it once"]
    quality = keys[0]
    bronze, silver, gold = (s.key(stem) for stem in TASK_STEMS)
    problems = []
    if bronze is not None and bronze not in s.notebook_parents(quality):
        parents = s.notebook_parents(quality)
        problems.append(f"task {quality} ({QUALITY_STEM}) does not run after {bronze} (01_bronze): it depends on "
                        + (", ".join(sorted(parents)) if parents else "nothing"))
    if silver is not None and silver in ancestors(s, quality):
        problems.append(f"task {quality} waits for {silver} (02_silver); it checks bronze, so it runs beside silver")
    if gold is not None and quality not in s.notebook_parents(gold):
        problems.append(f"task {gold} (03_gold) does not depend on {quality}, so bad data would still reach gold")
    defined = {p.name: p for p in job.settings.parameters or [] if p.name}
    if THRESHOLD not in defined:
        problems.append(f"no job parameter {THRESHOLD} (the share of bad rows, in percent, that still passes)")
    elif defined[THRESHOLD].default is None:
        problems.append(f"job parameter {THRESHOLD} has no default")
    return problems


@check("stretch.fan_out", points=4, title="a 04_quality task beside silver, gold after both, and max_bad_pct",
       hint="Add a notebook task running 04_quality that depends_on the bronze task, make gold depend_on both silver "
            "and it, and add the job parameter max_bad_pct (default \"5\").", docs="orchestration.md")
@on_loaded_job
def fan_out(ev: Evidence, job: LoadedJob) -> Outcome:
    return verdict(fan_out_problems(job), lambda: _fan_out_message(job), prefix=not_done(ev, "job.fan_out"))


def _fan_out_message(job: LoadedJob) -> str:
    s = structure(job)
    quality, gold = s.key(QUALITY_STEM), s.key("03_gold")
    default = next(p.default for p in job.settings.parameters or [] if p.name == THRESHOLD)
    return f"{quality} checks bronze beside silver, {gold} waits for both; {THRESHOLD} defaults to {default!r}"
