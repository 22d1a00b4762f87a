"""``day07 grade COHORT_DIR``: grade a class, one submission per sub-folder, ``.zip`` or ``.dbc``.

Exit codes: 0 every submission was graded (whatever its score), 1 some submission could not be graded (status
``error`` or ``infrastructure_error``), 2 the cohort could not be graded at all. Ctrl-C exits 130 with the
gradebook saved; run the same command again to finish. The work lives in :mod:`checkers.grading.cohort`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from checkers.cli import EXIT_FAILED, EXIT_OK, console
from checkers.errors import GradingError

_STYLES = {"passed": "green", "failed": "yellow", "error": "magenta", "infrastructure_error": "red",
           "interrupted": "dim", "pending": "dim", "running": "dim"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "grade", help="grade a cohort: every sub-folder (or .zip / .dbc archive) of a folder, in parallel, with a "
                      "gradebook",
        description="Grade every submission of COHORT_DIR (one sub-folder, .zip or Databricks .dbc archive each) on "
                    "the same unseen data, "
                    "N at a time, sharing one Spark server. Writes gradebook.json/.csv (saved after every "
                    "submission; a re-run skips what is graded), per-submission JSON / JUnit / Gradescope reports "
                    "and a cohort summary. Exit 0 when every submission was graded, 1 when some could not be, "
                    "2 when the cohort could not be graded at all.")
    parser.add_argument("cohort_dir", type=Path, metavar="COHORT_DIR", help="folder of submissions")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="where the gradebook, reports and summary go (default: COHORT_DIR-graded next to it)")
    parser.add_argument("--workers", type=int, default=2, metavar="N", help="submissions graded at once (default 2)")
    parser.add_argument("--force", action="store_true", help="grade every submission again, even graded ones")
    parser.add_argument("--seed", type=int, help="seed of the unseen data for the whole cohort (default: random, "
                                                 "or the one the gradebook in --out used)")
    parser.add_argument("--rows", type=int, metavar="N", help="rows of unseen data (default 30000)")
    parser.add_argument("--cell-timeout", type=float, metavar="SECONDS",
                        help="seconds one cell may run (default: DAY07_CELL_TIMEOUT, 600)")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="grade without the bubblewrap sandbox (the submissions' code then runs with your rights; "
                             "every report says so). Without bubblewrap, grading a class is refused otherwise")
    parser.set_defaults(func=handler)


def default_out(cohort_dir: Path) -> Path:
    cohort_dir = Path(cohort_dir).resolve()
    return cohort_dir.parent / f"{cohort_dir.name}-graded"


def handler(args: argparse.Namespace) -> int:
    from checkers.grading.cohort import grade_cohort

    if not args.cohort_dir.is_dir():
        raise GradingError(f"Cohort folder {args.cohort_dir} does not exist or is not a folder.",
                           hint="Pass a folder holding one sub-folder (or .zip or .dbc archive) per submission.")
    out = args.out or default_out(args.cohort_dir)
    from checkers.grading.options import SandboxPolicy, sandbox_note

    policy: SandboxPolicy = "off" if args.no_sandbox else "required"
    note = sandbox_note(policy)  # refuses here, naming what to install, when the sandbox is missing
    console.print(f"[dim]{escape(note[0].upper() + note[1:])}.[/dim]")
    columns = (TextColumn("[bold]Grading"), BarColumn(), MofNCompleteColumn(), TextColumn("·"), TimeElapsedColumn(),
               TextColumn("· ETA"), TimeRemainingColumn(), TextColumn("{task.description}"))
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("", total=None)

        def on_start(todo: list[Any]) -> None:
            bar.update(task, total=len(todo), description=f"{len(todo)} to grade")

        def on_done(entry: Any, done: int, total: int) -> None:
            style = _STYLES.get(entry.status, "")
            score = f" {entry.score:g}/{entry.max_score:g}" if entry.score is not None else ""
            bar.console.print(f"[{style}]{entry.status:>20}[/{style}]  {entry.id}{score}"
                              + (f"  [dim]{entry.message[:100]}[/dim]" if entry.status not in ("passed", "failed")
                                 else ""))
            bar.update(task, completed=done, description=f"last: {entry.id}")

        result = grade_cohort(cohort_dir=args.cohort_dir, out_dir=out, workers=args.workers, force=args.force,
                              seed=args.seed, rows=args.rows, cell_timeout=args.cell_timeout, sandbox=policy,
                              progress=on_done, on_start=on_start)
    render_summary(result.summary)
    if result.skipped:
        console.print(f"[dim]{len(result.skipped)} already graded by an earlier run were kept (--force to regrade).")
    console.print(f"Gradebook: [bold]{out / 'gradebook.csv'}[/bold] · reports in {out / 'reports'} · "
                  f"summary in {out / 'summary.md'} · {result.wall_seconds:.0f} s")
    problems = [e for e in result.entries if e.status not in ("passed", "failed")]
    return EXIT_FAILED if problems else EXIT_OK


def render_summary(summary: dict[str, Any]) -> None:
    """The instructor's view: statuses, the score histogram, and what the class gets wrong most."""
    score = summary["score"]
    statuses = ", ".join(f"[{_STYLES.get(s, '')}]{n} {s}[/]" for s, n in sorted(summary["statuses"].items()))
    console.print(f"\n[bold]{summary['submissions']} submissions[/bold] (seed {summary['seed']}): {statuses}")
    if score["mean"] is not None:
        console.print(f"Score %: mean {score['mean']}, median {score['median']}, min {score['min']}, "
                      f"max {score['max']}")
    hist = Table(title="Score histogram", box=None, show_header=True, header_style="bold")
    hist.add_column("score %", justify="right")
    hist.add_column("n", justify="right")
    hist.add_column("")
    for b in summary["histogram"]:
        hist.add_row(b["range"], str(b["count"]), "█" * b["count"])
    console.print(hist)
    if summary["most_failed"]:
        fails = Table(title="Checks that fail most", box=None, show_header=True, header_style="bold")
        fails.add_column("check")
        fails.add_column("submissions", justify="right")
        fails.add_column("share", justify="right")
        for f in summary["most_failed"]:
            fails.add_row(f["check"], str(f["submissions"]), f"{f['share']:.0%}")
        console.print(fails)
    if summary.get("most_skipped"):
        skips = Table(title="Checks skipped most (they need a check that did not pass)", box=None, show_header=True,
                      header_style="bold")
        skips.add_column("check")
        skips.add_column("submissions", justify="right")
        skips.add_column("share", justify="right")
        for f in summary["most_skipped"]:
            skips.add_row(f["check"], str(f["submissions"]), f"{f['share']:.0%}")
        console.print(skips)
    for e in summary["not_graded"]:
        console.print(f"[{_STYLES.get(e['status'], '')}]{e['status']}[/]: {e['id']} — {e['message']}")
