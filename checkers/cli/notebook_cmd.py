"""``day07 notebook run``: run one notebook locally, the way a Databricks notebook task would."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.markup import escape

from checkers.cli import EXIT_FAILED, EXIT_OK, console, err_console, parse_params


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("notebook", help="run one notebook locally, as a Databricks notebook task would")
    nested = parser.add_subparsers(dest="notebook_command", metavar="ACTION", required=True)
    run = nested.add_parser("run", help="Run a notebook (.ipynb or Databricks .py) with widget parameters.",
                            description="Run a notebook in a fresh kernel with spark, dbutils and display, "
                                        "like a Databricks notebook task. The executed notebook is saved.")
    run.add_argument("path", type=Path, help="Notebook file (.ipynb or Databricks source .py).")
    run.add_argument("--param", "-p", action="append", metavar="KEY=VALUE",
                     help="Widget value, as a job parameter would pass it (repeatable).")
    run.add_argument("--out", type=Path, help="Where to save the executed notebook (default: next to the kit's runs).")
    run.add_argument("--cell-timeout", type=float, help="Seconds one cell may run (default 600).")
    run.add_argument("--timeout", type=float, help="Seconds the whole notebook may run (default: no limit).")
    run.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from checkers.config import settings
    from checkers.notebooks.execute import execute_notebook

    params = parse_params(args.param)
    out = args.out or settings().runs_dir / "notebooks" / f"{args.path.stem}.ipynb"
    # The kernel starts (or reuses) the kit's Spark server itself, on first use of `spark` only.
    with console.status(f"Running {args.path.name}…"):
        result = execute_notebook(path=args.path, parameters=params, output_path=out,
                                  cell_timeout=args.cell_timeout, timeout=args.timeout, saved_widgets=True)
    if result.ok:
        console.print(f"[green]✓[/green] {escape(result.message)} in {result.duration:.1f} s")
        if result.exit_value is not None:
            console.print(f"  exit value: {escape(result.exit_value)}")
    else:
        err_console.print(f"[red]✗[/red] {escape(result.message)}")
        if result.failure and result.failure.traceback:
            err_console.print("\n".join(result.failure.traceback[-8:]), markup=False)
    console.print(f"  executed notebook: {result.output_path}")
    return EXIT_OK if result.ok else EXIT_FAILED
