"""``day07 kernel install``: the "Day 07 (local Databricks)" Jupyter kernel for interactive work."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from checkers.cli import EXIT_OK, console, err_console

if TYPE_CHECKING:
    from checkers.kernelspec import KernelInstall


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("kernel", help="install the Jupyter kernel that provides spark and dbutils")
    nested = parser.add_subparsers(dest="kernel_command", metavar="ACTION", required=True)
    install = nested.add_parser(
        "install", help="Install the 'Day 07 (local Databricks)' kernel into this environment (for Jupyter).",
        description="Installs the kernel spec into this environment (like jupyter's --sys-prefix), so "
                    "`uv run jupyter lab` offers it and nothing outside the project changes. `day07 start` does "
                    "this too.")
    where = install.add_mutually_exclusive_group()
    where.add_argument("--sys-prefix", dest="user", action="store_false",
                       help="into this environment's prefix (the default)")
    where.add_argument("--user", dest="user", action="store_true",
                       help="into your user-wide Jupyter folder instead; refused when a kernel of the same name "
                            "there runs another environment's Python")
    where.add_argument("--prefix", help="into this environment prefix instead")
    install.set_defaults(func=_install, user=False)


def _install(args: argparse.Namespace) -> int:
    from checkers.kernelspec import DISPLAY_NAME, install

    done = install(user=args.user, prefix=args.prefix)
    show_install(done, display_name=DISPLAY_NAME)
    console.print("  Open a lesson in Jupyter (`uv run jupyter lab`) and pick this kernel: spark, dbutils and "
                  "display are ready, and widgets use their defaults.")
    return EXIT_OK


def show_install(done: KernelInstall, *, display_name: str) -> None:
    """One line for where the kernel went, and a warning when Jupyter would pick another one first."""
    console.print(f"[green]✓[/green] Installed kernel [bold]{display_name}[/bold] in {done.path}")
    if done.shadowed_by is not None:
        err_console.print(f"[yellow]warning:[/yellow] Jupyter finds another kernel of that name first, in "
                          f"{done.shadowed_by}, and it runs another Python. Remove it "
                          f"(jupyter kernelspec remove {done.shadowed_by.name}) or set JUPYTER_PREFER_ENV_PATH=1.")
