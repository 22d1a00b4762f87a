"""``day07 lessons``: build the learner's lessons from the solutions, or check they are in sync."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from checkers.cli import EXIT_FAILED, EXIT_OK, console, err_console
from checkers.config import PROJECT_ROOT

if TYPE_CHECKING:
    from checkers.authoring.lessons import BuildResult


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("lessons", help="build lessons/ from solutions/ (exercise cells with TODOs)",
                                   description="Lessons are generated from the solutions: every "
                                               "'# BEGIN SOLUTION <id>: <prompt>' ... '# END SOLUTION' region "
                                               "becomes a TODO that raises NotImplementedError.")
    sub = parser.add_subparsers(dest="lessons_command", metavar="COMMAND", required=True)

    build = sub.add_parser("build", help="Write lessons/ from solutions/ (--check: only report what is stale).")
    _folders(build)
    build.add_argument("--check", action="store_true",
                       help="Write nothing; exit 1 when lessons/ is out of date with solutions/.")
    build.set_defaults(func=_build)

    listing = sub.add_parser("list", help="List the exercises marked in solutions/.")
    listing.add_argument("--solutions", type=Path, default=PROJECT_ROOT / "solutions", metavar="FOLDER",
                         help="Solutions folder (default: solutions/ of this kit).")
    listing.set_defaults(func=_list)


def _folders(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--solutions", type=Path, default=PROJECT_ROOT / "solutions", metavar="FOLDER",
                        help="Solutions folder (default: solutions/ of this kit).")
    parser.add_argument("--lessons", type=Path, default=PROJECT_ROOT / "lessons", metavar="FOLDER",
                        help="Lessons folder to write (default: lessons/ of this kit).")


def _build(args: argparse.Namespace) -> int:
    from checkers.authoring.lessons import build_lessons  # nbformat and the job loader: only when building

    result = build_lessons(solutions=args.solutions, lessons=args.lessons, check=args.check)
    _render(result)
    return EXIT_OK if result.up_to_date else EXIT_FAILED


def _render(result: BuildResult) -> None:
    for path in result.written:
        console.print(f"[green]wrote[/green]     {path}")
    for path in result.stale:
        err_console.print(f"[red]stale[/red]     {path}")
    for path in result.extra:
        err_console.print(f"[yellow]extra[/yellow]     {path} (no solution produces it; remove it)")
    files = len(result.written) + len(result.unchanged) + len(result.stale)
    summary = f"{len(result.exercises)} exercises in {files} files"
    if result.check and result.stale:
        err_console.print(f"[red]lessons are out of date[/red] ({summary}): run `day07 lessons build`.")
    elif result.extra:
        err_console.print(f"[yellow]lessons hold files no solution produces[/yellow] ({summary}).")
    elif result.check:
        console.print(f"[green]lessons are up to date[/green] ({summary}).")
    else:
        console.print(f"[green]built[/green] {result.lessons} ({summary}; {len(result.written)} changed).")


def _list(args: argparse.Namespace) -> int:
    from checkers.authoring.lessons import find_exercises

    for exercise in find_exercises(solutions=args.solutions):
        where = exercise.file + (f" [{exercise.cell_id}]" if exercise.cell_id else "")
        console.print(f"[bold]{exercise.id}[/bold]  {where}\n    {exercise.prompt}  (docs: {exercise.docs})")
    return EXIT_OK
