"""``day07 kernel install``: the "Day 07 (local Databricks)" Jupyter kernel for interactive work."""

from __future__ import annotations

import argparse

from checkers.cli import EXIT_OK, console


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("kernel", help="install the Jupyter kernel that provides spark and dbutils")
    nested = parser.add_subparsers(dest="kernel_command", metavar="ACTION", required=True)
    install = nested.add_parser("install", help="Install the 'Day 07 (local Databricks)' kernel for Jupyter.")
    install.add_argument("--prefix", help="Install into this environment prefix instead of the user's folder.")
    install.set_defaults(func=_install)


def _install(args: argparse.Namespace) -> int:
    from checkers.runtime.kernel import DISPLAY_NAME, install_kernel

    dest = install_kernel(prefix=args.prefix)
    console.print(f"[green]✓[/green] Installed kernel [bold]{DISPLAY_NAME}[/bold] in {dest}")
    console.print("  Open a lesson in Jupyter and pick this kernel: spark, dbutils and display are ready, "
                  "and widgets use their defaults.")
    return EXIT_OK
