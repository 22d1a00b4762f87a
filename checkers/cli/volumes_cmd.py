"""``day07 volumes``: where ``/Volumes/...`` lives locally, and ``day07 volumes cp`` to put files there."""

from __future__ import annotations

import argparse
from pathlib import Path

from checkers.cli import EXIT_OK, console


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("volumes", help="show where /Volumes/... paths live locally; copy files into them",
                            description="Databricks volume paths (/Volumes/<catalog>/<schema>/<volume>/...) "
                                        "map to a folder in the kit home, for Spark, dbutils.fs and Python.")
    parser.set_defaults(func=_show)
    nested = parser.add_subparsers(dest="volumes_command", metavar="ACTION")
    show = nested.add_parser("list", help="Show the mapping (the default).")
    show.set_defaults(func=_show)
    cp = nested.add_parser("cp", help="Copy a local file or folder into a volume.",
                           description="Copy SRC to DEST, a /Volumes/<catalog>/<schema>/<volume>/... path. "
                                       "A DEST ending in / (or an existing folder) receives SRC under its name.")
    cp.add_argument("src", type=Path, help="Local file or folder.")
    cp.add_argument("dest", help="Target, e.g. /Volumes/workspace/ecommerce/ecommerce_data/")
    cp.set_defaults(func=_copy)


def _show(args: argparse.Namespace) -> int:
    from rich.table import Table

    from checkers.config import settings
    from checkers.runtime.volumes import ensure_sample_volume, list_volumes

    ensure_sample_volume()
    root = settings().volumes_dir
    console.print(f"/Volumes/<catalog>/<schema>/<volume>/... is the local folder {root}/<catalog>/<schema>/"
                  "<volume>/... for Spark, dbutils.fs and Python in notebooks.", soft_wrap=True)
    table = Table(title_justify="left")
    table.add_column("volume", no_wrap=True)
    table.add_column("files", justify="right")
    table.add_column("size", justify="right")
    for volume in list_volumes():
        table.add_row(volume.path, str(volume.files), _size(volume.size))
    console.print(table)
    console.print("Copy files in with: day07 volumes cp FILE /Volumes/<catalog>/<schema>/<volume>/")
    return EXIT_OK


def _copy(args: argparse.Namespace) -> int:
    from checkers.runtime.volumes import copy_to_volume, volume_path

    target = copy_to_volume(source=args.src, dest=args.dest)
    console.print(f"[green]✓[/green] Copied {args.src} → {volume_path(target)}  ({target})")
    return EXIT_OK


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
