"""``day07 deploy [FOLDER]``: import the notebooks and the job into a Databricks workspace, optionally run it.

The deploy modules load the databricks-sdk (over a second to import), so they are imported by the handler,
not when ``day07`` builds its parser.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from rich.text import Text

from checkers.cli import EXIT_FAILED, EXIT_OK, console, err_console, parse_params
from checkers.config import PROJECT_ROOT
from checkers.errors import CheckersError

DEFAULT_FOLDER = Path("solutions")
"""The folder ``day07 deploy`` deploys without FOLDER, relative to the project root."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "deploy", help="import the notebooks and the job into a Databricks workspace (and run it)",
        description="Import the folder's notebooks into your workspace folder (overwriting), create the job or "
                    "update the one with the same name, and with --run start it and follow it. Logs in the "
                    "Databricks SDK's standard ways: DATABRICKS_HOST/DATABRICKS_TOKEN, a ~/.databrickscfg "
                    "profile, or `databricks auth login`. Writes only under /Users/<you>.")
    parser.add_argument("folder", nargs="?", type=Path,
                        help=f"submission folder with the notebooks and job file (default: {DEFAULT_FOLDER}/ in "
                             "the kit)")
    parser.add_argument("--job", dest="job_file", type=Path, metavar="FILE",
                        help="job definition file (default: the folder's job.yml / job file)")
    parser.add_argument("--workspace-dir", metavar="DIR",
                        help="workspace folder for the notebooks, under /Users/<you> (default /Users/<you>/day07)")
    parser.add_argument("--run", action="store_true", help="start the job after deploying and wait for it")
    parser.add_argument("--param", action="append", metavar="KEY=VALUE",
                        help="a job parameter for the --run (repeatable)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the API calls with their JSON bodies and send nothing (no credentials needed)")
    parser.add_argument("--profile", metavar="NAME", help="~/.databrickscfg profile (default: DEFAULT, or the "
                                                          "DATABRICKS_* variables)")
    parser.add_argument("--poll", type=float, default=5.0, metavar="S",
                        help="seconds between run state checks with --run (default 5)")
    parser.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    from checkers.deploy import deploy
    from checkers.deploy.render import ConsoleProgress, print_dry_run, print_summary

    folder: Path = args.folder if args.folder is not None else PROJECT_ROOT / DEFAULT_FOLDER
    params = parse_params(args.param)
    if args.poll < 0:
        raise CheckersError(f"--poll {args.poll} must not be negative.", hint="Use e.g. --poll 5 (seconds).")
    # the SDK logs its own retries and probes as warnings; the errors below say what matters
    sdk_logger = logging.getLogger("databricks.sdk")
    if not any(isinstance(h, logging.NullHandler) for h in sdk_logger.handlers):
        sdk_logger.addHandler(logging.NullHandler())
    with ConsoleProgress(console) as progress:
        try:
            result = deploy(folder=folder, job_file=args.job_file, workspace_dir=args.workspace_dir, run=args.run,
                            params=params, dry_run=args.dry_run, profile=args.profile, progress=progress,
                            poll_seconds=args.poll)
        except KeyboardInterrupt:
            if progress.last is not None:
                err_console.print(Text(f"Stopped waiting; run {progress.last.run_id} goes on in the workspace: "
                                       f"{progress.last.run_page_url or ''}", style="yellow"))
            raise
    if result.dry_run:
        print_dry_run(result, console)
        return EXIT_OK
    print_summary(result, console)
    return EXIT_OK if result.ok else EXIT_FAILED
