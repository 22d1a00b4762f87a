"""``day07 job validate|schedule|export``: check a job definition, preview its schedule, convert its shape.

The job modules load the databricks-sdk (over a second to import), so they are imported by the handlers,
not when ``day07`` builds its parser.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from checkers.cli import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE, console, err_console
from checkers.errors import CheckersError

if TYPE_CHECKING:
    from checkers.grading.job_exercise import ExerciseReport
    from checkers.jobs.findings import Finding
    from checkers.jobs.load import LoadedJob


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "job", help="check, preview and convert a Databricks job definition",
        description="Work with a job definition file: bundle YAML, Jobs API create JSON or `jobs get` JSON.")
    parser.set_defaults(func=lambda _args: _usage(parser))
    sub = parser.add_subparsers(dest="job_command", metavar="SUBCOMMAND")

    p = sub.add_parser("validate", help="list every problem in a job file (exit 2 when there are errors)",
                       description="Check a job file as Databricks would. With --exercise, also run the grader's "
                                   "job checks on it (the Day 07 pipeline, parameters, schedule, fan-out and the "
                                   "stretch goals) and print their messages, as `day07 check` would: exit 1 when "
                                   "one of them fails.")
    p.add_argument("file", type=Path, help="job definition file (.yml / .json)")
    p.add_argument("--job", dest="job_key", metavar="KEY", help="which job of a bundle with several")
    p.add_argument("--exercise", action="store_true",
                   help="also judge it as the Day 07 exercise, with the grader's own job checks")
    p.set_defaults(func=validate_handler)

    p = sub.add_parser("schedule", help="describe the schedule and list its next fire times")
    p.add_argument("file", type=Path, help="job definition file (.yml / .json)")
    p.add_argument("--job", dest="job_key", metavar="KEY", help="which job of a bundle with several")
    p.add_argument("--count", type=int, default=5, metavar="N", help="how many fire times (default 5)")
    p.add_argument("--from", dest="start", metavar="ISO_TIME",
                   help="start after this time (ISO 8601; default now, naive = job's time zone)")
    p.set_defaults(func=schedule_handler)

    p = sub.add_parser("export", help="write the job as bundle YAML or Jobs API create JSON")
    p.add_argument("file", type=Path, help="job definition file (.yml / .json)")
    p.add_argument("--job", dest="job_key", metavar="KEY", help="which job of a bundle with several")
    p.add_argument("--to", choices=("yaml", "json"), required=True, help="output shape")
    p.add_argument("--out", type=Path, metavar="PATH", help="write here instead of standard output")
    p.add_argument("--workspace-dir", metavar="DIR",
                   help="workspace folder for notebook paths in JSON (default /Workspace/Shared/<job key>)")
    p.set_defaults(func=export_handler)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return EXIT_UNUSABLE


def _report(exc: CheckersError) -> int:
    """Print a job-file error whatever characters it quotes (a YAML line may hold ``[`` … ``]``)."""
    err_console.print(Text.assemble(("error: ", "bold red"), exc.message))
    if exc.hint:
        err_console.print(Text.assemble(("  → ", "yellow"), exc.hint))
    return EXIT_UNUSABLE


def _findings_table(findings: list[Finding]) -> Table:
    table = Table(show_header=True, header_style="bold", expand=False)
    table.add_column("level")
    table.add_column("task")
    table.add_column("key", overflow="fold")
    table.add_column("problem", overflow="fold")
    for f in sorted(findings, key=lambda f: f.level != "error"):
        style = "red" if f.level == "error" else "yellow"
        problem = Text(f.message)
        if f.hint:
            problem.append("\n→ " + f.hint, style="dim")
        table.add_row(Text(f.level, style=style), Text(f.task_key or "—"), Text(f.key or "—"), problem)
    return table


def _describe_job(job: LoadedJob) -> Text:
    count = len(job.settings.tasks or [])
    return Text(f"{job.path}  ({job.shape}, job `{job.job_key}`, {count} task{'s' if count != 1 else ''})")


def validate_handler(args: argparse.Namespace) -> int:
    from checkers.jobs.findings import errors
    from checkers.jobs.load import load_job
    from checkers.jobs.validate import validate_job

    try:
        job = load_job(path=args.file, job_key=args.job_key)
    except CheckersError as exc:
        if getattr(args, "exercise", False) and Path(args.file).is_file():  # e.g. a YAML error: job.valid names it
            _print_exercise(args.file)
        return _report(exc)
    findings = validate_job(job)
    console.print(_describe_job(job))
    n_err = len(errors(findings))
    if not findings:
        console.print("[green]✓ valid[/green] Databricks job: no problems found")
    else:
        console.print(_findings_table(findings))
        n_warn = len(findings) - n_err
        summary = f"{n_err} error{'s' if n_err != 1 else ''}, {n_warn} warning{'s' if n_warn != 1 else ''}"
        if n_err:
            err_console.print(Text.assemble(("error: ", "bold red"),
                                            f"{job.path}: the job definition has {summary}."))
        else:
            console.print(f"[green]✓ valid[/green] Databricks job ({escape(summary)})")
    if getattr(args, "exercise", False):
        exercise_ok = _print_exercise(args.file, valid=not n_err)
    else:
        exercise_ok = True
        console.print(Text(f"This says whether Databricks accepts the job. Whether it is right as the Day 07 "
                           f"exercise: day07 job validate --exercise {args.file}", style="dim"), soft_wrap=True)
    if n_err:
        return EXIT_UNUSABLE
    return EXIT_OK if exercise_ok else EXIT_FAILED


_ICONS = {"passed": ("✓", "green"), "failed": ("✗", "red"), "error": ("!", "red"), "skipped": ("–", "yellow")}


def _print_exercise(path: Path, *, valid: bool = False) -> bool:
    """Print the grader's job checks on ``path``; True when none of the required ones would cost points."""
    from checkers.grading.job_exercise import check_job_exercise

    report = check_job_exercise(job_file=path)
    console.print(Text("As the Day 07 exercise (the grader's job checks, word for word):", style="bold"))
    for r in report.results:
        icon, style = _ICONS.get(r.status, ("?", "red"))
        points = f"{r.score:g}/{r.max_score:g}" if r.required else f"stretch {r.score:g}/{r.max_score:g}"
        line = Text.assemble((f"  {icon} ", style), (r.id, "bold"), f" ({points}): ", r.message)
        console.print(line, soft_wrap=True)
        if r.status != "passed":
            console.print(Text(f"      → {r.hint}", style="dim"), soft_wrap=True)
    console.print(_exercise_summary(report, valid=valid))
    return report.ok


def _exercise_summary(report: ExerciseReport, *, valid: bool) -> Text:
    total = sum(r.max_score for r in report.required)
    if report.ok:
        return Text(f"✓ right as the exercise: every job check passes ({total:g} of {total:g} points). The run "
                    "checks need a run: `day07 check`.", style="green")
    names = ", ".join(r.id for r in report.failing)
    lead = "a valid Databricks job, but not yet right as the exercise" if valid else "not right as the exercise"
    return Text(f"✗ {lead}: {names} would cost {report.lost:g} of {total:g} points.", style="red")


def _start(raw: str | None) -> datetime:
    if raw is None:
        return datetime.now(timezone.utc)
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise CheckersError(f"--from {raw!r} is not an ISO 8601 time.",
                            hint="Write it like 2026-03-28T00:00 or 2026-03-28T00:00+01:00.") from None


def schedule_handler(args: argparse.Namespace) -> int:
    from checkers.jobs import schedule
    from checkers.jobs.load import load_job
    from checkers.jobs.validate import raise_for_errors, validate_job

    if args.count < 1:
        raise CheckersError(f"--count {args.count} must be at least 1.")
    start = _start(args.start)
    try:
        job = load_job(path=args.file, job_key=args.job_key)
        # only the schedule has to be right to preview it; `job validate` reports the rest
        raise_for_errors([f for f in validate_job(job) if (f.key or "").startswith("schedule")], path=job.path)
    except CheckersError as exc:
        return _report(exc)
    sched = job.settings.schedule
    console.print(_describe_job(job))
    if sched is None:
        console.print("No schedule: the job runs only when triggered.")
        return EXIT_OK
    cron, tz = sched.quartz_cron_expression, sched.timezone_id
    try:
        words = schedule.describe(cron=cron, timezone_id=tz)
        fires = schedule.next_fire_times(cron=cron, timezone_id=tz, start=start, count=args.count)
    except CheckersError as exc:
        return _report(exc)
    paused = " [yellow](paused)[/yellow]" if sched.pause_status and sched.pause_status.value == "PAUSED" else ""
    console.print(Text.assemble((words, "bold"), f"   `{cron}`"), end="")
    console.print(paused)
    table = Table(show_header=True, header_style="bold")
    table.add_column("#", justify="right")
    table.add_column(f"fire time ({tz})")
    table.add_column("UTC")
    for i, fire in enumerate(fires, 1):
        table.add_row(str(i), fire.strftime("%a %Y-%m-%d %H:%M:%S %Z"),
                      fire.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"))
    console.print(table)
    return EXIT_OK


def export_handler(args: argparse.Namespace) -> int:
    from checkers.jobs.export import export_job
    from checkers.jobs.validate import load_valid_job

    try:
        job = load_valid_job(path=args.file, job_key=args.job_key)
    except CheckersError as exc:
        return _report(exc)
    out: Path | None = args.out
    if out is not None and out.resolve() == job.path.resolve():
        raise CheckersError(f"--out {out} is the job file itself.", hint="Write the export to another file.")
    text = export_job(job, to=args.to, relative_to=out.parent if out is not None else None,
                      workspace_dir=args.workspace_dir)
    if out is None:
        console.out(text, end="", highlight=False)
        return EXIT_OK
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    console.print(Text(f"wrote {out} ({args.to}, job `{job.job_key}`)"))
    return EXIT_OK
