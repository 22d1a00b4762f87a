"""The cohort's Spark servers: one per worker, handed to one grading at a time, and a watchdog that restarts a
server that died on the port it had.

Part of :mod:`checkers.grading`; imports the Spark server management (:mod:`checkers.spark`) below it.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checkers.errors import CheckersError

if TYPE_CHECKING:
    from checkers.spark.spec import ServerSpec

GRADING_CATALOG = "in-memory"
"""The catalog of a worker's server: nothing it holds outlives the cohort (see ``ServerSpec.catalog``)."""


def server_identity(spec: ServerSpec | None) -> tuple[bool, int | None, str | None]:
    """(running, pid, start time) of the server ``spec``: what tells a restarted server from the one before."""
    from checkers.spark.server import server_status

    status = server_status(spec)
    return status.running, status.pid, status.started_at


def server_changed(before: tuple[bool, int | None, str | None], spec: ServerSpec | None) -> bool:
    """True when the Spark server that ran at ``before`` died (or was replaced) since."""
    if not before[0]:
        return False  # nothing to compare with (an endpoint that was not up); grading says what went wrong
    now = server_identity(spec)
    return not now[0] or now[1:] != before[1:]


class GradingServers:
    """One Spark server per worker, handed to one grading at a time: gradings running side by side never share a
    live server, so one submission cannot read, copy or drop another's tables while they are graded.

    Each is confined (:class:`~checkers.spark.spec.ServerSpec`) when the kernels are: it sees its own warehouse,
    metastore and the unseen data, read-only, and not the kit home, the cohort's folders or the host's ``/tmp``.
    The servers start on first use, in the worker that uses them (so they live as long as it), and are stopped
    and their folders removed at the end. With ``SPARK_REMOTE`` set, every grading uses that endpoint instead.
    """

    def __init__(self, *, workers: int, confined: bool, hidden: tuple[Path, ...], rows: int | None = None) -> None:
        from checkers.config import settings
        from checkers.spark.memory import grading_sizing
        from checkers.spark.spec import ServerSpec

        s = settings()
        sizing = grading_sizing(rows, setting=s.spark_memory)
        if s.spark_master:  # one application of the cluster per worker, each with its share of the cores
            from checkers.spark.cluster import cluster_cores

            sizing = replace(sizing, cores_max=max(1, (cluster_cores(s.spark_master) or workers) // workers))
        # On a cluster the warehouse and the unseen data must be where every node reads them.
        self.root = s.data_home / "graders" / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
        self.specs = [ServerSpec(root=self.root / f"w{i + 1}", confined=confined, hidden=hidden, sizing=sizing,
                                 catalog=GRADING_CATALOG) for i in range(workers)]
        self._free: queue.Queue[ServerSpec] = queue.Queue()
        for spec in self.specs:
            self._free.put(spec)

    @contextlib.contextmanager
    def take(self) -> Iterator[ServerSpec]:
        """A server no other grading uses until this one gives it back."""
        spec = self._free.get()
        try:
            yield spec
        finally:
            self._free.put(spec)

    def close(self) -> None:
        from checkers.spark.server import stop_server

        for spec in self.specs:
            with contextlib.suppress(Exception):
                stop_server(spec)
        shutil.rmtree(self.root, ignore_errors=True)


class Watchdog:
    """Restarts a Spark server as soon as it dies, on the port it had, instead of when a grading notices.

    A client of a dead server retries with back-off for minutes. The kit keeps each server's token across
    restarts, so a new server on the same port answers those clients at once: the affected gradings end quickly
    (and are graded again) instead of hanging.
    """

    def __init__(self, specs: list[ServerSpec | None], *, interval: float = 1.0) -> None:
        self.specs = specs
        self.interval = interval
        self.restarts = 0
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="day07-cohort-watchdog", daemon=True)

    def _run(self) -> None:
        from checkers.spark.server import server_status

        while not self._stop.wait(self.interval):
            for spec in self.specs:
                try:
                    status = server_status(spec)
                    if status.running and status.port is not None:
                        _LAST_PORT[_key(spec)] = status.port
                    elif status.managed and not status.running and _key(spec) in _LAST_PORT:
                        restart_server(spec)  # only a server seen running died; one never started stays so
                        self.restarts += 1
                except Exception as exc:  # noqa: BLE001 - the gradings report it as infrastructure errors
                    self.error = error_message(exc)

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


_LAST_PORT: dict[str, int] = {}
"""Each managed server's port when last seen running (a restart reuses it), by :func:`_key`."""


def _key(spec: ServerSpec | None) -> str:
    return "" if spec is None or spec.root is None else str(spec.root)


def restart_server(spec: ServerSpec | None = None) -> None:
    """Start the server again (unless already done), on its old port when free; failure = infrastructure error."""
    from checkers.errors import SparkServerError
    from checkers.spark.server import ensure_server, server_status, start_server

    status = server_status(spec)
    port = _LAST_PORT.get(_key(spec))
    if status.managed and not status.running and port is not None:
        try:
            start_server(port=port, spec=spec)
        except SparkServerError:
            pass  # the port was taken meanwhile: any free port will do
    ensure_server(spec)


def error_message(exc: BaseException) -> str:
    """An exception in one line for a gradebook: a kit error's message and hint, else its type and text."""
    if isinstance(exc, CheckersError):
        return exc.message + (f" ({exc.hint})" if exc.hint else "")
    return f"{type(exc).__name__}: {exc}"




def stopped_server_report(*, name: str, reason: str, rows: int | None = None) -> Any:
    """The report of a submission whose Spark server died twice while it ran (restarted, and graded again on other
    data in between): its own code stopped the server, so every check fails with that reason and it scores 0."""
    from checkers.grading.checks import catalogue
    from checkers.grading.report import Report, RunSummary
    from checkers.grading.result import CheckResult

    results = [CheckResult(id=s.id, group=s.group, title=s.title, status="failed", score=0.0, max_score=s.points,
                           message=reason, hint=s.hint, required=s.required) for s in catalogue()]
    required = [r for r in results if r.required]
    return Report(submission=name, score=0.0, max_score=sum(r.max_score for r in required), checks=results,
                  run=RunSummary(result_state="FAILED", mode="job", note=reason), rows=rows,
                  stretch_max_score=sum(r.max_score for r in results if not r.required), notes=[reason])
