"""``day07 check [FOLDER]``: grade one submission on unseen data and report (docs/contract.md).

Exit codes: 0 every required check passed, 1 a check failed, 2 the submission could not be graded at all
(bad usage, no Java, no Spark). The grading itself lives in :mod:`checkers.grading.grade`; this module only
parses, shows progress, renders and writes the report files.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from pathlib import Path
from typing import Any

from checkers.cli import EXIT_FAILED, EXIT_OK, console
from checkers.config import PROJECT_ROOT
from checkers.errors import GradingError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check", help="grade a submission: run its job on unseen data and check every table",
        description="Grade one submission: copy it, run its own job locally on generated data it has never "
                    "seen, then check the widgets, the bronze / silver / gold tables, the job and the run. "
                    "Exit code 0 when every required check passes, 1 when one fails, 2 when it cannot grade.")
    parser.add_argument("folder", nargs="?", type=Path,
                        help="the submission folder: five notebooks and a job file, or its .zip, or a Databricks "
                             ".dbc export of it "
                             "(default: my_work/ when it exists, else lessons/)")
    parser.add_argument("--solutions", action="store_true", help="grade solutions/ (must give full marks)")
    parser.add_argument("--json", dest="json_path", type=Path, metavar="FILE", help="write the JSON report here")
    parser.add_argument("--junit", dest="junit_path", type=Path, metavar="FILE",
                        help="write a JUnit XML report (one testcase per check)")
    parser.add_argument("--gradescope", dest="gradescope_path", type=Path, metavar="FILE",
                        help="write Gradescope results.json")
    parser.add_argument("--seed", type=int, help="seed of the unseen data (default: random, never the sample's)")
    parser.add_argument("--rows", type=int, metavar="N", help="rows of unseen data (default 30000)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the schema, the data file and the private copy for inspection")
    parser.add_argument("--work-dir", type=Path, metavar="DIR",
                        help="grading folder (default: a new folder under the kit home's grading/)")
    parser.add_argument("--all-cells", action="store_true",
                        help="also run the kit's unchanged self-check cells (skipped by default: the checks read the "
                             "tables themselves)")
    parser.set_defaults(func=handler)


def submission_folder(args: argparse.Namespace) -> Path:
    """The folder to grade: FOLDER, solutions/ with --solutions, else my_work/ once `day07 start` made it, else
    lessons/ (graded in place)."""
    if args.solutions and args.folder is not None:
        raise GradingError("Give either a FOLDER or --solutions, not both.",
                           hint="`day07 check --solutions` grades solutions/; `day07 check FOLDER` grades FOLDER.")
    if args.solutions:
        return PROJECT_ROOT / "solutions"
    if args.folder is not None:
        return args.folder
    from checkers.workspace import default_submission

    return default_submission()


def handler(args: argparse.Namespace) -> int:
    from checkers.grading.archives import ARCHIVE_SUFFIXES, extract_zip
    from checkers.grading.options import DEFAULT_ROWS, GradeOptions
    from checkers.grading.report import render_console, write_gradescope, write_json, write_junit

    folder = submission_folder(args)
    with contextlib.ExitStack() as stack:
        if folder.is_file() and folder.suffix.lower() in ARCHIVE_SUFFIXES:
            unpacked = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="day07-archive-")))
            graded = extract_zip(archive=folder, dest=unpacked / folder.stem)
        elif folder.is_dir():
            graded = folder
        else:
            raise GradingError(f"Submission folder {folder} does not exist or is not a folder.",
                               hint="Pass the folder holding your five notebooks and job file, or its .zip, or "
                                    "Databricks' export of it (a .dbc archive).")
        with console.status(f"Grading {folder} …", spinner="dots") as status:
            options = GradeOptions(seed=args.seed, rows=args.rows or DEFAULT_ROWS, keep=args.keep,
                                   all_cells=args.all_cells)
            report = _grade_twice_if_the_server_dies(
                graded, options=options, work_dir=args.work_dir, name=str(folder),
                progress=lambda phase: status.update(f"Grading {folder}: {phase} …"))
    render_console(report, console)
    for path, write in ((args.json_path, write_json), (args.junit_path, write_junit),
                        (args.gradescope_path, write_gradescope)):
        if path is not None:
            write(report, path)
            console.print(f"Wrote {path}")
    return EXIT_OK if report.all_passed else EXIT_FAILED


def _grade_twice_if_the_server_dies(folder: Path, *, options: Any, work_dir: Path | None, name: str,
                                    progress: Any) -> Any:
    """Grade; when the Spark server died meanwhile, start it again and grade once more on other data (as a cohort
    does). A second death while this submission runs is its own doing: a report where every check fails, with 0."""
    from dataclasses import replace

    from checkers.grading.grade import grade_submission
    from checkers.grading.servers import (
        error_message,
        restart_server,
        server_changed,
        server_identity,
        stopped_server_report,
    )
    from checkers.spark.server import ensure_server

    why = ""
    for attempt in (1, 2):
        ensure_server()  # up before the grading starts, so a death during it is noticed (a fresh machine has none)
        before = server_identity(None)
        try:
            report = grade_submission(folder=folder, options=options, name=name, progress=progress,
                                      work_dir=work_dir if attempt == 1 or work_dir is None else
                                      work_dir.with_name(f"{work_dir.name}-2"))
        except Exception as exc:
            if not server_changed(before, None):
                raise
            why = f"the Spark server died while grading it ({error_message(exc)})"
        else:
            if report.all_passed or not server_changed(before, None):
                if why:
                    report.notes.append(f"graded a second time: {why}; the first grading does not count")
                return report
            why = "the Spark server died while grading it"
        restart_server(None)
        options = replace(options, seed=None)  # other data: nothing the first attempt saw fits the second
    return stopped_server_report(
        name=name, rows=options.rows,
        reason=f"{why}; it was started again and the submission graded again on other data, and it died again: "
               "its notebooks (or a UDF they ran) stopped the server or ran it out of memory")

