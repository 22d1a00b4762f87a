"""``day07 spark start|stop|status``: the local Spark Connect server every notebook and job run shares.

Notebooks start the server on first use anyway; these commands let a learner start it ahead of time,
see where it is (URL, warehouse, log), and stop it to free memory. The token is never printed, only
the file that holds it.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from checkers.cli import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE, console
from checkers.errors import CheckersError
from checkers.spark.ports import DEFAULT_PORT

if TYPE_CHECKING:
    from checkers.spark.server import ServerStatus


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "spark", help="start, stop or inspect the local Spark Connect server",
        description="The kit runs one local Spark Connect server (loopback only, token protected) that every "
                    "notebook and job run shares. It starts by itself on first use; these commands manage it.")
    parser.set_defaults(func=lambda _args: _usage(parser))
    sub = parser.add_subparsers(dest="spark_command", metavar="ACTION")

    p = sub.add_parser("start", help="start the server, or report the one already running")
    p.add_argument("--port", type=int, metavar="PORT",
                   help=f"use exactly this port (default: {DEFAULT_PORT}, or a free one when that is taken)")
    p.add_argument("--memory", metavar="SIZE",
                   help="the server's Java heap, e.g. 4g or 6144m (default: DAY07_SPARK_MEMORY, else auto: a quarter "
                        "of this machine's memory, between 1 and 8 GiB); what does not fit spills to disk in the kit "
                        "home")
    p.set_defaults(func=start_handler)

    p = sub.add_parser("stop", help="stop the server (tables stay in the warehouse)")
    p.set_defaults(func=stop_handler)

    p = sub.add_parser("status", help="show whether the server runs and where (exit 1 when it does not)")
    p.add_argument("--json", action="store_true", help="print the status as JSON")
    p.set_defaults(func=status_handler)

    cluster = sub.add_parser(
        "cluster", help="a standalone Spark cluster on this machine (127.0.0.1), to try grading at scale",
        description="Start a standalone master and workers on 127.0.0.1 from PySpark's own jars. Then point the kit "
                    "at it: DAY07_SPARK_MASTER=<the master URL it prints> and DAY07_SHARED_DIR=<a folder every node "
                    "reads>. See the docs page 'Grading at scale'.")
    cluster.set_defaults(func=lambda _args: _usage(cluster))
    csub = cluster.add_subparsers(dest="cluster_command", metavar="ACTION")
    p = csub.add_parser("start", help="start a master and its workers")
    p.add_argument("--workers", type=int, default=2, help="workers (default 2)")
    p.add_argument("--cores", type=int, default=1, help="cores each worker offers (default 1)")
    p.add_argument("--memory", default="1g", metavar="SIZE", help="memory each worker offers executors (default 1g)")
    p.set_defaults(func=cluster_start_handler)
    p = csub.add_parser("stop", help="stop the master and its workers")
    p.set_defaults(func=cluster_stop_handler)
    p = csub.add_parser("status", help="show the master, its workers and applications (exit 1 when not running)")
    p.set_defaults(func=cluster_status_handler)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return EXIT_UNUSABLE


def start_handler(args: argparse.Namespace) -> int:
    from checkers.spark.server import server_status, start_server

    if args.port is not None and not 0 < args.port < 65536:
        raise CheckersError(f"--port {args.port} is not a TCP port.", hint="Use a port from 1024 to 65535.")
    memory = getattr(args, "memory", None)
    before = server_status()
    if before.running:
        status = start_server(port=args.port, memory=memory)
        console.print(f"The local Spark Connect server is already running (pid {status.pid}).")
    else:
        with console.status("Starting the local Spark Connect server (about 30 s the first time)…"):
            status = start_server(port=args.port, memory=memory)
        console.print(f"[green]Started[/green] the local Spark Connect server (pid {status.pid}).")
    _render(status)
    return EXIT_OK


def stop_handler(args: argparse.Namespace) -> int:
    from checkers.config import settings
    from checkers.spark.server import server_status, stop_server

    remote = settings().spark_remote
    if remote:
        console.print(f"SPARK_REMOTE points at {escape(server_status().url or '')}; the kit starts and stops "
                      "no server of its own, so there is nothing to stop.")
        return EXIT_OK
    pid = server_status().pid
    if stop_server():
        console.print(f"[green]Stopped[/green] the local Spark Connect server (pid {pid}). "
                      "Tables stay in the warehouse.")
    else:
        console.print("No local Spark Connect server was running.")
    return EXIT_OK


def status_handler(args: argparse.Namespace) -> int:
    from checkers.spark.server import server_status

    status = server_status()
    if args.json:
        console.print_json(json.dumps({k: (str(v) if v is not None and not isinstance(v, (bool, int, float))
                                           else v) for k, v in asdict(status).items()}))
    else:
        if status.running:
            console.print("[green]●[/green] The Spark Connect server is [bold]running[/bold].")
        else:
            console.print("[red]○[/red] The Spark Connect server is [bold]not running[/bold].")
        _render(status)
        if not status.running and status.managed:
            console.print("It starts by itself when a notebook needs it, or now with [bold]day07 spark start"
                          "[/bold].")
    return EXIT_OK if status.running else EXIT_FAILED


def _render(status: ServerStatus) -> None:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim")
    table.add_column(overflow="fold")
    if not status.managed:
        table.add_row("endpoint", f"{escape(status.url or '')} (from SPARK_REMOTE, not managed by the kit)")
    if status.running and status.managed:
        table.add_row("url", f"{escape(status.url or '')} (plus ;token=…)")
        table.add_row("pid", str(status.pid))
        table.add_row("uptime", _duration(status.uptime or 0.0))
        table.add_row("pyspark", status.pyspark_version or "?")
        if status.memory:
            table.add_row("memory", escape(status.memory))
        if status.master and status.master != "local[*]":
            table.add_row("cluster", escape(status.master))
    if status.managed:
        table.add_row("token file", f"{escape(str(status.token_path))} (mode 0600)")
        table.add_row("warehouse", escape(str(status.warehouse_dir)))
        table.add_row("log", escape(str(status.log_path)))
    console.print(table)
    if status.running and status.managed:
        console.print(f"Connect from another tool with: SPARK_REMOTE=\"{escape(status.url or '')};token=$(cat "
                      f"'{escape(str(status.token_path))}')\"", soft_wrap=True)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h {minutes} min"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def _cluster_root():  # noqa: ANN202 - a Path
    from checkers.config import settings

    return settings().home / "cluster"


def cluster_start_handler(args: argparse.Namespace) -> int:
    from checkers.spark.cluster import start_local_cluster
    from checkers.spark.memory import parse_memory

    if args.workers < 1 or args.cores < 1:
        raise CheckersError(f"--workers {args.workers} and --cores {args.cores} must be at least 1.",
                            hint="Use e.g. --workers 2 --cores 1.")
    parse_memory(args.memory, where="--memory")
    with console.status(f"Starting a Spark master and {args.workers} workers on 127.0.0.1…"):
        cluster = start_local_cluster(root=_cluster_root(), workers=args.workers, cores=args.cores,
                                      memory=args.memory)
    console.print(f"[green]Started[/green] a standalone Spark cluster: master {cluster.master}, "
                  f"{args.workers} workers, web UI http://127.0.0.1:{cluster.web_port}/")
    console.print("Use it for the kit's servers (stop a running one first: day07 spark stop):", soft_wrap=True)
    console.print(f"  export DAY07_SPARK_MASTER={cluster.master}\n  export DAY07_SHARED_DIR=<a folder every node "
                  "reads, e.g. $HOME/day07-shared>", soft_wrap=True)
    return EXIT_OK


def cluster_stop_handler(args: argparse.Namespace) -> int:
    from checkers.spark.cluster import LocalCluster

    cluster = LocalCluster.load(_cluster_root())
    if cluster is None or not cluster.alive():
        console.print("No local Spark cluster was running.")
        return EXIT_OK
    cluster.stop()
    console.print(f"[green]Stopped[/green] the local Spark cluster ({cluster.master}).")
    return EXIT_OK


def cluster_status_handler(args: argparse.Namespace) -> int:
    from checkers.spark.cluster import LocalCluster

    cluster = LocalCluster.load(_cluster_root())
    if cluster is None or not cluster.alive():
        console.print("[red]○[/red] No local Spark cluster is running (day07 spark cluster start).")
        return EXIT_FAILED
    state = cluster.status()
    workers = [w for w in state.get("workers", []) or [] if isinstance(w, dict)]
    apps = [a for a in state.get("activeapps", []) or [] if isinstance(a, dict)]
    console.print(f"[green]●[/green] Local Spark cluster: master {escape(cluster.master)}, web UI "
                  f"http://127.0.0.1:{cluster.web_port}/")
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim")
    table.add_column()
    table.add_row("workers", ", ".join(f"{w.get('host')}:{w.get('port')} {w.get('state')} ({w.get('cores')} cores)"
                                       for w in workers) or "none registered")
    table.add_row("applications", ", ".join(f"{a.get('name')} ({a.get('cores')} cores)" for a in apps) or "none")
    table.add_row("logs", escape(str(cluster.root / "logs")))
    console.print(table)
    return EXIT_OK
