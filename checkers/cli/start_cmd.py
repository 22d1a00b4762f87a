"""``day07 start [FOLDER]``: copy the lessons and the job into the learner's own folder (default ``my_work/``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from checkers.cli import EXIT_OK, console


def register(subparsers: argparse._SubParsersAction) -> None:
    from checkers.workspace import MY_WORK

    parser = subparsers.add_parser(
        "start", help="copy the lessons and the job into your own folder (default my_work/) to work in",
        description="Copy the lesson notebooks and the job file into your own folder, and install the Jupyter "
                    "kernel into this environment. Work there: `lessons/` stays as `day07 lessons build` makes it, "
                    "and `day07 check` grades my_work/ once it exists. A file that is already in the folder is "
                    "never overwritten.")
    parser.add_argument("folder", nargs="?", type=Path, default=MY_WORK,
                        help="where to copy them (default: my_work/ in the kit's folder)")
    parser.add_argument("--no-kernel", dest="kernel", action="store_false",
                        help="do not install the Jupyter kernel into this environment (`day07 kernel install`)")
    parser.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    from checkers.workspace import MY_WORK, start_folder

    result = start_folder(folder=args.folder)
    for name in result.copied:
        console.print(f"[green]copied[/green]  {result.folder / name}")
    for name in result.kept:
        console.print(f"[yellow]kept[/yellow]    {result.folder / name} (already there: your version stays)")
    if result.feedback is not None:
        from checkers.jobs.project import BUNDLE_DIR

        console.print(f"[green]{result.feedback}[/green] {result.folder / BUNDLE_DIR}/ (the check cells' code)")
    if args.kernel:
        from checkers.cli.kernel_cmd import show_install
        from checkers.kernelspec import DISPLAY_NAME, install

        show_install(install(), display_name=DISPLAY_NAME)
    console.print(f"Work in {result.folder}: open its notebooks in Jupyter (`uv run jupyter lab`) and pick the "
                  "kernel 'Day 07 (local Databricks)'.")
    grade = "day07 check" if args.folder.resolve() == MY_WORK.resolve() else f"day07 check {args.folder}"
    console.print(f"Grade it with `{grade}`.")
    return EXIT_OK
