"""The local Spark Connect server: one per kit home, started on first use, shared by every notebook.

Why a server and not an in-process ``SparkContext``: notebooks run in their own kernels, Databricks
serverless notebooks talk Spark Connect too, and one JVM keeps one Derby metastore (Derby allows a
single writer) so tables written by one notebook are seen by the next and survive a restart.

Secure by default: every socket of the server binds to 127.0.0.1 and the gRPC port requires a random
token kept in a ``0600`` file inside a ``0700`` folder. The token reaches the JVM through its
environment, never its command line, so ``ps`` does not show it.

``SPARK_REMOTE=sc://...`` points everything at an existing endpoint instead; the kit then neither
starts nor stops a server. Importing this module starts nothing; PySpark is imported lazily.

This module is the lifecycle (start once under a lock, reuse, restart, stop, status); it puts together the pieces
below it: the Java (:mod:`~checkers.spark.java`), the command (:mod:`~checkers.spark.launch`), the files and the
pid check (:mod:`~checkers.spark.state`) and the client (:mod:`~checkers.spark.client`).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from checkers.config import Settings, settings
from checkers.errors import JavaError, SparkServerError
from checkers.spark.client import URL_HOST, Endpoint, managed_url, new_session, probe, redact, remote_endpoint
from checkers.spark.java import JAVA_INSTALL_HINT, JavaInfo, check_java
from checkers.spark.launch import confined_command, server_command, server_env
from checkers.spark.memory import ServerSizing
from checkers.spark.ports import LOOPBACK, any_free_port, pick_port, port_open
from checkers.spark.spec import ServerPaths, ServerSpec, sizing_for
from checkers.spark.state import (
    STOP_GRACE_SECONDS,
    ServerState,
    adopt,
    is_our_server,
    locked,
    log_since,
    log_tail,
    read_state,
    read_token,
    signal_and_wait,
    token_for_start,
    write_private,
)

if TYPE_CHECKING:
    from pyspark.sql.connect.session import SparkSession


@dataclass(frozen=True)
class ServerStatus:
    """What ``day07 spark status`` shows."""

    running: bool
    """The server process is alive (managed) or the endpoint accepts connections (``SPARK_REMOTE``)."""
    managed: bool
    """True for the kit's own server, False when ``SPARK_REMOTE`` points elsewhere."""
    pid: int | None = None
    """Server process id."""
    port: int | None = None
    """gRPC port."""
    url: str | None = None
    """Client URL without the token."""
    uptime: float | None = None
    """Seconds since the server was started."""
    started_at: str | None = None
    """Start time, ISO 8601 UTC."""
    log_path: Path | None = None
    """Server log file."""
    warehouse_dir: Path | None = None
    """Where managed tables are stored."""
    token_path: Path | None = None
    """File holding the token (mode 0600)."""
    pyspark_version: str | None = None
    """PySpark version the server was started from."""
    memory: str | None = None
    """Its Java heap, e.g. ``6144m``, and why (``auto: 25 % of 23.4 GiB``)."""
    master: str | None = None
    """Where its work runs: ``local[*]`` (this machine) or a cluster's master URL."""


#: (pid, started_at) of servers this process already saw answer, so reuse skips the health query.
_VERIFIED: set[tuple[int, str]] = set()
_THREAD_LOCK = threading.Lock()


def _pyspark_version() -> str:
    from pyspark.version import __version__

    return __version__


class _PortLost(Exception):
    """Another program bound the port between our check and the server's bind (the JVM then exits)."""


def _start_locked(s: Settings, paths: ServerPaths, *, port: int | None,
                  sizing: ServerSizing | None = None) -> ServerState:
    """Launch the JVM detached, wait until it answers a real query, record it. Caller holds the lock."""
    sizing = sizing or sizing_for(paths.spec)
    java = check_java()
    chosen = pick_port(port) if paths.spec.root is None or port is not None else any_free_port()
    token = token_for_start(paths)
    for folder in (paths.warehouse_dir, paths.metastore_dir, paths.local_dir):
        folder.mkdir(parents=True, exist_ok=True)
    if paths.spec.data_dir is not None:
        paths.spec.data_dir.mkdir(parents=True, exist_ok=True)
    paths.conf_dir.mkdir(exist_ok=True)
    if paths.log.exists():
        os.replace(paths.log, paths.log.with_name(paths.log.name + ".1"))

    for _attempt in range(3):
        state, child, log_offset = _launch(s, paths, java=java, token=token, port=chosen, sizing=sizing)
        try:
            _await_ready(state, child=child, url=managed_url(chosen, token), timeout=s.server_startup_timeout,
                         log_offset=log_offset)
        except (_PortLost, SparkServerError) as exc:
            with contextlib.suppress(SparkServerError):
                signal_and_wait(state)
            with contextlib.suppress(OSError):
                paths.state.unlink()
            if isinstance(exc, SparkServerError):
                raise
            if port is not None:
                raise SparkServerError(f"Port {port} on {LOOPBACK} was taken by another program while the "
                                       "server started.",
                                       hint="Choose another port with --port, or leave --port out.") from None
            chosen = any_free_port()
            continue
        _VERIFIED.add((state.pid, state.started_at))
        return state
    raise SparkServerError("The local Spark Connect server lost its port to other programs three times.",
                           hint=f"See {paths.log}; retry, or choose a port with day07 spark start --port.")


def _launch(s: Settings, paths: ServerPaths, *, java: JavaInfo, token: str, port: int,
            sizing: ServerSizing) -> tuple[ServerState, subprocess.Popen[bytes], int]:
    with open(paths.log, "ab") as log:
        offset = log.tell()
        try:
            command = server_command(paths, port=port, java=java, sizing=sizing)
            child = subprocess.Popen(confined_command(paths, command, java=java),
                                     stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, cwd=paths.spark_dir, start_new_session=True,
                                     env=server_env(java=java, token=token, conf_dir=paths.conf_dir))
        except OSError as exc:
            raise JavaError(f"Could not start Java at {java.path} (found via {java.source}): {exc}.",
                            hint=JAVA_INSTALL_HINT) from None
    adopt(child)
    state = ServerState(pid=child.pid, port=port,
                        started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                        pyspark_version=_pyspark_version(), log_path=str(paths.log),
                        warehouse_dir=str(paths.warehouse_dir), metastore_dir=str(paths.metastore_dir),
                        java=str(java.path), heap_mb=sizing.heap_mb, sizing=sizing.source,
                        master=s.spark_master or "local[*]")
    write_private(paths.state, json.dumps(asdict(state), indent=2) + "\n")
    return state, child, offset


def _await_ready(state: ServerState, *, child: subprocess.Popen[bytes], url: str, timeout: float,
                 log_offset: int) -> None:
    deadline = time.monotonic() + timeout

    def fail(why: str) -> SparkServerError:
        return SparkServerError(
            f"The local Spark Connect server did not start: {why}.\n"
            f"Last lines of {state.log_path}:\n{log_tail(Path(state.log_path))}",
            hint=f"Read the full log at {state.log_path}. On a slow machine raise DAY07_SPARK_TIMEOUT "
                 f"(now {timeout:.0f} s).")

    reason: str | None = None
    while time.monotonic() < deadline:
        code = child.poll()
        if code is not None:
            if "java.net.BindException" in log_since(Path(state.log_path), log_offset):
                raise _PortLost()
            raise fail(f"the process exited with code {code} during start-up")
        # An open port may still be another program's (a race for the port): only a query that our
        # token unlocks proves it is ours, so an authentication failure is waited out like any other.
        if port_open(state.port):
            reason = probe(url, timeout=deadline - time.monotonic(), warm=True,
                           abort=lambda: child.poll() is not None)
            if reason is None:
                return
        time.sleep(0.5)
    raise fail(reason or f"it did not open port {state.port} within {timeout:.0f} s")


def _endpoint(state: ServerState, token: str) -> Endpoint:
    return Endpoint(url=managed_url(state.port, token), host=URL_HOST, port=state.port, managed=True,
                    pid=state.pid)


def _lock_timeout(s: Settings) -> float:
    return s.server_startup_timeout + STOP_GRACE_SECONDS + 30.0


def _running_state(paths: ServerPaths) -> ServerState | None:
    """The recorded server if it is alive; a stale record (dead pid) is removed. Caller holds the lock."""
    state = read_state(paths)
    if state is not None and is_our_server(state):
        return state
    if paths.state.exists():
        with contextlib.suppress(OSError):
            paths.state.unlink()
    return None


# --------------------------------------------------------------------------------------------- API

def ensure_server(spec: ServerSpec | None = None) -> Endpoint:
    """The endpoint every notebook and command uses: ``SPARK_REMOTE``, else the kit's server, started once.

    ``spec`` names another server of the kit's (a grading worker's, see :class:`ServerSpec`). Safe to call from
    many processes at once: a lock file makes exactly one of them start the server.
    """
    s = settings()
    if s.spark_remote:
        return remote_endpoint(s.spark_remote)
    paths = ServerPaths.of(s, spec)
    with _THREAD_LOCK, locked(paths, timeout=_lock_timeout(s)):
        state = _running_state(paths)
        if state is not None and state.pyspark_version != _pyspark_version():
            signal_and_wait(state)  # a server from another PySpark would not match this client
            paths.state.unlink(missing_ok=True)
            state = None
        if state is None:
            state = _start_locked(s, paths, port=None)
        token = read_token(paths)
        if token is None:
            raise SparkServerError(f"The Spark server (pid {state.pid}) is running but its token file "
                                   f"{paths.token} is missing.",
                                   hint="Restart it: day07 spark stop && day07 spark start")
        endpoint = _endpoint(state, token)
        if (state.pid, state.started_at) not in _VERIFIED:
            reason = probe(endpoint.url, timeout=s.server_startup_timeout,
                           abort=lambda: not is_our_server(state))
            if reason:
                raise SparkServerError(
                    f"The local Spark Connect server (pid {state.pid}, port {state.port}) is running but did "
                    f"not answer: {reason}.\n"
                    f"Last lines of {state.log_path}:\n{log_tail(Path(state.log_path))}",
                    hint="Restart it: day07 spark stop && day07 spark start")
            _VERIFIED.add((state.pid, state.started_at))
        return endpoint


def start_server(*, port: int | None = None, spec: ServerSpec | None = None,
                 memory: str | None = None) -> ServerStatus:
    """Start the kit's server (or find it running); ``port`` insists on that port instead of picking one, ``memory``
    (e.g. ``4g``) on that heap instead of ``DAY07_SPARK_MEMORY``."""
    s = settings()
    sizing = sizing_for(spec, memory=memory)
    if s.spark_remote:
        raise SparkServerError(f"SPARK_REMOTE is set ({redact(s.spark_remote)}): the kit uses that endpoint "
                               "and starts no server of its own.",
                               hint="Unset SPARK_REMOTE to use the kit's local server.")
    paths = ServerPaths.of(s, spec)
    with _THREAD_LOCK, locked(paths, timeout=_lock_timeout(s)):
        state = _running_state(paths)
        if state is not None and port is not None and port != state.port:
            raise SparkServerError(f"The local Spark Connect server is already running on port {state.port} "
                                   f"(pid {state.pid}).",
                                   hint=f"Stop it first (day07 spark stop), then start it with "
                                        f"--port {port}.")
        if state is not None and memory is not None and state.heap_mb != sizing.heap_mb:
            raise SparkServerError(f"The local Spark Connect server is already running with a heap of "
                                   f"{state.heap_mb or '?'} MB (pid {state.pid}), not {sizing.heap_mb} MB.",
                                   hint=f"Stop it first (day07 spark stop; tables stay), then start it with "
                                        f"--memory {memory}.")
        if state is None:
            _start_locked(s, paths, port=port, sizing=sizing)
    return server_status(spec)


def stop_server(spec: ServerSpec | None = None) -> bool:
    """Stop the kit's server; True if one was running. With ``SPARK_REMOTE`` set nothing is touched."""
    s = settings()
    if s.spark_remote:
        return False
    paths = ServerPaths.of(s, spec)
    if not paths.spark_dir.exists():
        return False
    with _THREAD_LOCK, locked(paths, timeout=_lock_timeout(s)):
        state = _running_state(paths)
        if state is None:
            return False
        signal_and_wait(state)
        paths.state.unlink(missing_ok=True)
        _VERIFIED.discard((state.pid, state.started_at))
        return True


def server_status(spec: ServerSpec | None = None) -> ServerStatus:
    """Where the server is and whether it runs; reads state only, starts nothing."""
    s = settings()
    if s.spark_remote:
        endpoint = remote_endpoint(s.spark_remote)
        return ServerStatus(running=port_open(endpoint.port, endpoint.host), managed=False,
                            port=endpoint.port, url=endpoint.display_url)
    paths = ServerPaths.of(s, spec)
    state = read_state(paths)
    if state is None or not is_our_server(state):
        return ServerStatus(running=False, managed=True, log_path=paths.log, warehouse_dir=paths.warehouse_dir,
                            token_path=paths.token)
    started = datetime.fromisoformat(state.started_at)
    return ServerStatus(running=True, managed=True, pid=state.pid, port=state.port,
                        url=f"sc://{URL_HOST}:{state.port}/",
                        uptime=max(0.0, (datetime.now(timezone.utc) - started).total_seconds()),
                        started_at=state.started_at, log_path=Path(state.log_path),
                        warehouse_dir=Path(state.warehouse_dir), token_path=paths.token,
                        pyspark_version=state.pyspark_version,
                        memory=f"{state.heap_mb} MB heap ({state.sizing})" if state.heap_mb else None,
                        master=state.master)


def connect(*, endpoint: Endpoint | None = None) -> SparkSession:
    """A new Spark Connect session (its own temp views and confs), never the process-wide cached one; without
    ``endpoint``, to :func:`ensure_server`'s.

    To the kit's own server it fails fast when that server is gone (:func:`~checkers.spark.client.bounded_retries`);
    to a ``SPARK_REMOTE`` endpoint it keeps PySpark's default retries.
    """
    endpoint = endpoint or ensure_server()
    return new_session(endpoint.url, bounded=endpoint.managed)
