"""``day07 data``: write raw events with the generator, or show the sample the kit ships."""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from checkers.cli import EXIT_OK, EXIT_UNUSABLE, console, err_console
from checkers.data import SAMPLE_DAYS, SAMPLE_ROWS, SAMPLE_SEED, SAMPLE_START, sample_path
from checkers.errors import CheckersError

DEFAULT_ROWS = 200_000
DEFAULT_SEED = 7


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("data", help="generate raw e-commerce events; show the shipped sample",
                                   description="Raw events in the contract's CSV shape, dirty on purpose.")
    parser.set_defaults(func=lambda args: _usage(parser))
    actions = parser.add_subparsers(dest="data_command", metavar="ACTION")

    gen = actions.add_parser("generate", help="write a raw events CSV (same arguments → same bytes)",
                             description="Write a raw events CSV. Same arguments give a byte-identical file.")
    gen.add_argument("--rows", type=int, default=DEFAULT_ROWS, help=f"data rows to write (default {DEFAULT_ROWS})")
    gen.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    gen.add_argument("--start", default=SAMPLE_START.isoformat(), metavar="YYYY-MM-DD",
                     help=f"first day of events, UTC (default {SAMPLE_START.isoformat()})")
    gen.add_argument("--days", type=int, default=1, help="number of days the events span (default 1)")
    gen.add_argument("--out", type=Path, required=True, metavar="PATH", help="CSV file to write (overwritten)")
    gen.add_argument("--edges", action="store_true",
                     help="set a few rows on the rules' edges, as the grader's unseen data has them (prices of exactly "
                          "10.00 and 50.00, two products in one second of a session)")
    gen.set_defaults(func=_generate)

    sample = actions.add_parser("sample", help="print the shipped sample's path and row count")
    sample.set_defaults(func=_sample)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return EXIT_UNUSABLE


def _parse_start(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CheckersError(f"--start {text!r} is not a date.", hint="Write it as YYYY-MM-DD, e.g. 2019-10-01.") \
            from None


def _generate(args: argparse.Namespace) -> int:
    from checkers.data.generate import DIRT_RULES, generate_events  # numpy only when generating

    start = _parse_start(args.start)
    began = time.perf_counter()
    with Progress(TextColumn("[bold]writing[/bold] {task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task(str(args.out), total=max(args.rows, 1))
        result = generate_events(out=args.out, rows=args.rows, seed=args.seed, start=start, days=args.days,
                                 progress=lambda done, total: bar.update(task, completed=done, total=total))
    if args.edges:
        from checkers.data.edges import set_edges

        set_edges(result.path, seed=result.seed)
    seconds = time.perf_counter() - began

    size_mb = result.path.stat().st_size / 1e6
    span = f"{result.start}" if result.days == 1 else f"{result.start} to {result.end}"
    console.print(f"Wrote [bold]{result.rows:,}[/bold] rows to [bold]{result.path}[/bold] "
                  f"({size_mb:.1f} MB, {seconds:.1f} s): seed {result.seed}, {span} UTC.", soft_wrap=True)
    table = Table(title="Deliberate dirt", title_justify="left")
    table.add_column("kind")
    table.add_column("rows", justify="right")
    table.add_column("silver rule", justify="right")
    for kind, count in result.dirt.as_dict().items():
        table.add_row(kind.replace("_", " "), f"{count:,}", str(DIRT_RULES[kind]))
    console.print(table)
    return EXIT_OK


def _sample(args: argparse.Namespace) -> int:
    path = sample_path()
    with path.open("rb") as fh:
        rows = sum(1 for _ in fh) - 1
    console.print(str(path), soft_wrap=True)
    console.print(f"{rows:,} rows; generated with --rows {SAMPLE_ROWS} --seed {SAMPLE_SEED} "
                  f"--start {SAMPLE_START.isoformat()} --days {SAMPLE_DAYS}", soft_wrap=True)
    return EXIT_OK
