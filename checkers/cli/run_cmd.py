"""``day07 run [FILE]``: run a job locally the way Databricks runs it, or repair a run (``--repair RUN_ID``).

The job modules load the databricks-sdk (over a second to import), so they are imported by the handler,
not when ``day07`` builds its parser.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text

from checkers.cli import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE, console, err_console, parse_params
from checkers.config import PROJECT_ROOT
from checkers.errors import CheckersError

if TYPE_CHECKING:
    from checkers.jobs.load import LoadedJob

DEFAULT_JOB = Path("solutions") / "job.yml"
"""The job ``day07 run`` runs without FILE, relative to the project root."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run", help="run a job locally the way Databricks runs it (or repair a run)",
        description="Run every task of a job definition locally: dependencies, parallel branches, job "
                    "parameters, task values, run_if, condition tasks, retries and timeouts, as on Databricks. "
                    "Each run gets a folder with run.json and every executed notebook.")
    parser.add_argument("file", nargs="?", type=Path,
                        help=f"job definition (.yml / .json); default: {DEFAULT_JOB} in the kit, or the job "
                             "of the run given to --repair")
    parser.add_argument("--job", dest="job_key", metavar="KEY", help="which job of a bundle with several")
    parser.add_argument("--param", action="append", metavar="KEY=VALUE",
                        help="a job parameter for this run (repeatable); overrides the job's default")
    parser.add_argument("--max-parallel", type=int, default=2, metavar="N",
                        help="notebook tasks that may run at once (default 2)")
    parser.add_argument("--repair", metavar="RUN_ID",
                        help="re-run the failed, timed-out and canceled tasks of run RUN_ID (or `last`) and "
                             "everything downstream of them, keeping the rest")
    parser.add_argument("--cell-timeout", type=float, metavar="S",
                        help="seconds one cell may run (default: DAY07_CELL_TIMEOUT or 600)")
    parser.add_argument("--no-tables", dest="show_tables", action="store_false",
                        help="do not list the tables in the run's `schema` afterwards")
    parser.set_defaults(func=handler)


def _error(message: str, hint: str | None = None) -> None:
    """Print an error whatever characters it quotes (a YAML line may hold ``[`` … ``]``)."""
    err_console.print(Text.assemble(("error: ", "bold red"), message))
    if hint:
        err_console.print(Text.assemble(("  → ", "yellow"), hint))


def _load_checked(path: Path, job_key: str | None) -> LoadedJob | None:
    """The job, or None after printing one message per problem (load error or validation errors)."""
    from checkers.jobs.findings import errors
    from checkers.jobs.load import load_job
    from checkers.jobs.validate import validate_job

    try:
        job = load_job(path=path, job_key=job_key)
    except CheckersError as exc:
        _error(exc.message, exc.hint)
        return None
    findings = validate_job(job)
    problems = errors(findings)
    for finding in problems:
        _error(f"{job.path}: {finding.describe()}", finding.hint)
    if problems:
        noun = "problem" if len(problems) == 1 else "problems"
        err_console.print(Text(f"The job was not run: fix the {len(problems)} {noun} above "
                               f"(`day07 job validate {path}` lists them too).", style="red"))
        return None
    for finding in findings:
        err_console.print(Text.assemble(("warning: ", "yellow"), finding.describe()))
    return job


def _announce_spark(job: LoadedJob) -> None:
    """Say why nothing happens for a while when the run has to start the Spark server first."""
    from checkers.jobs.run import needs_spark
    from checkers.spark.server import server_status

    if needs_spark(job) and not server_status().running:
        console.print(Text("Starting the local Spark server first (it can take a minute)…", style="dim"))


def _show_tables(schema: str | None) -> None:
    """What the run left in its schema: each table's rows and columns, read back from Spark."""
    from rich.table import Table

    from checkers.config import settings
    from checkers.spark.server import connect, server_status

    if not schema or not (settings().spark_remote or server_status().running):
        return
    spark = connect()
    try:
        names = sorted(row.tableName for row in spark.sql(f"SHOW TABLES IN `{schema}`").collect()
                       if not row.isTemporary)
        table = Table(title=f"Tables in schema {schema}", title_justify="left")
        table.add_column("table")
        table.add_column("rows", justify="right")
        table.add_column("columns")
        for name in names:
            frame = spark.table(f"`{schema}`.`{name}`")
            table.add_row(name, f"{frame.count():,}", ", ".join(frame.columns))
        if names:
            console.print(table)
    except Exception as exc:  # a summary must never turn a finished run into a crash
        console.print(Text(f"(could not list the tables of {schema}: {exc})", style="dim"))
    finally:
        spark.stop()


def handler(args: argparse.Namespace) -> int:
    from checkers.jobs.live import LiveView, result_line, summary
    from checkers.jobs.record import SUCCESS, load_run
    from checkers.jobs.run import repair_run, run_job

    if args.max_parallel < 1:
        _error(f"--max-parallel {args.max_parallel}: at least 1 task must be able to run.")
        return EXIT_UNUSABLE
    if args.cell_timeout is not None and args.cell_timeout <= 0:
        _error(f"--cell-timeout {args.cell_timeout:g}: give a number of seconds above 0.")
        return EXIT_UNUSABLE
    try:
        params = parse_params(args.param)
        previous = load_run(run_id=args.repair) if args.repair else None
        path = args.file or (Path(previous.job_path) if previous else PROJECT_ROOT / DEFAULT_JOB)
        if previous is None and args.file is None and not path.is_file():
            _error(f"no job file given, and the kit's default {path} does not exist.",
                   "Pass the job file: day07 run path/to/job.yml")
            return EXIT_UNUSABLE
        job = _load_checked(path, args.job_key)
        if job is None:
            return EXIT_UNUSABLE
        _announce_spark(job)
        with LiveView(console) as view:
            if previous is not None:
                record = repair_run(run_id=previous.run_id, job=job, parameters=params,
                                    max_parallel=args.max_parallel, cell_timeout=args.cell_timeout,
                                    on_event=view.on_event, validate=False)
            else:
                record = run_job(job=job, parameters=params, max_parallel=args.max_parallel,
                                 cell_timeout=args.cell_timeout, on_event=view.on_event, validate=False)
    except CheckersError as exc:
        _error(exc.message, exc.hint)
        return EXIT_UNUSABLE
    console.print(summary(record))
    console.print(result_line(record))
    if args.show_tables:
        _show_tables(record.parameters.get("schema"))
    console.print(Text.assemble(("Run folder: ", "dim"), record.run_dir))
    if record.result_state != SUCCESS:
        console.print(Text(f"Repair it after a fix: day07 run --repair {record.run_id}", style="dim"))
    return EXIT_OK if record.result_state == SUCCESS else EXIT_FAILED
