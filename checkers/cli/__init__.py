"""The ``day07`` command: parse, call the Python API, render, exit.

Each command group lives in its own module with a ``register(subparsers)`` function; this module
owns what they share: the console, the error boundary and the exit codes.

The top of the house: may import every other package of the kit; nothing imports it (``checkers/cli/mkdocs_hook.py``
composes the docs site's hook from it and :mod:`checkers.authoring`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from rich.console import Console
from rich.markup import escape

from checkers import __version__
from checkers.errors import CheckersError

EXIT_OK = 0
"""Everything passed / ran."""
EXIT_FAILED = 1
"""A check or the job failed."""
EXIT_UNUSABLE = 2
"""Could not run at all: bad usage, bad input file, no Java, no Spark."""

#: Command-group modules, in the order ``day07 --help`` lists them.
COMMAND_MODULES = (
    "checkers.cli.start_cmd",
    "checkers.cli.check_cmd",
    "checkers.cli.grade_cmd",
    "checkers.cli.run_cmd",
    "checkers.cli.notebook_cmd",
    "checkers.cli.job_cmd",
    "checkers.cli.lessons_cmd",
    "checkers.cli.data_cmd",
    "checkers.cli.volumes_cmd",
    "checkers.cli.spark_cmd",
    "checkers.cli.kernel_cmd",
    "checkers.cli.deploy_cmd",
    "checkers.cli.docs_cmd",
)

console = Console(highlight=False)
# Messages name files and paths: let the terminal wrap them, so they stay whole when copied or searched.
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        """Usage errors exit 2 like everything else that cannot run, with the usage line."""
        self.print_usage(sys.stderr)
        err_console.print(f"[red]error:[/red] {message}")
        raise SystemExit(EXIT_UNUSABLE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="day07", description="Databricks Day 07 kit: run notebooks and jobs locally, "
                     "and grade them.")
    parser.add_argument("--version", action="version", version=f"day07 {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def parse_params(pairs: Sequence[str] | None) -> dict[str, str]:
    """``["k=v", ...]`` → dict; a pair without ``=`` is a usage error that names it."""
    params: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CheckersError(f"--param {pair!r} is not KEY=VALUE.", hint="Write it like --param layer=silver.")
        params[key] = value
    return params


OPTIONAL_IMPORTS_SKIPPED = ("rfc3987_syntax",)
"""Optional packages a dependency imports when installed, at a cost no command of the kit repays.

``jsonschema`` (through nbformat) imports ``rfc3987_syntax`` when present, to check the ``iri`` format, which no
notebook schema uses; the import compiles a grammar: ~0.8 s of every ``day07`` process that reads a notebook.
JupyterLab brings it in (jupyter-events). Marked absent, jsonschema skips that one format check.
"""


def main(argv: Sequence[str] | None = None) -> int:
    for name in OPTIONAL_IMPORTS_SKIPPED:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "func", None)
    if handler is None:
        parser.print_help()
        return EXIT_UNUSABLE
    try:
        return handler(args)
    except CheckersError as exc:
        err_console.print(f"[red bold]error:[/red bold] {escape(exc.message)}")
        if exc.hint:
            err_console.print(f"  [yellow]→[/yellow] {escape(exc.hint)}")
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/yellow]")
        return 130
    except Exception as exc:
        from checkers.runtime.errors_display import is_spark_error, short_message

        if not is_spark_error(exc):
            raise
        # A Spark error: its class, message and SQLSTATE, as Databricks shows them, without the JVM stack frames.
        err_console.print(f"[red bold]error:[/red bold] {escape(short_message(exc))}")
        return EXIT_UNUSABLE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
