"""The client side of a Spark Connect server: where it is (:class:`Endpoint`) and sessions that give up in seconds.

Apart from the server's lifecycle so that a notebook kernel can bound its session's retries without loading the
code that starts and stops servers. Importing this module imports no PySpark; the session helpers do, lazily.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from checkers.errors import ConfigError
from checkers.signals import KIT_SERVER

if TYPE_CHECKING:
    from pyspark.sql.connect.session import SparkSession

URL_HOST = "localhost"
"""PySpark uses gRPC local credentials (needed to send a token without TLS) only for host ``localhost``."""
_REMOTE_DEFAULT_PORT = 15002


@dataclass(frozen=True)
class Endpoint:
    """Where a Spark Connect client connects."""

    url: str = field(repr=False)
    """``sc://`` URL including the token: a secret, never print it (use :attr:`display_url`)."""
    host: str
    """Host name in the URL."""
    port: int
    """gRPC port."""
    managed: bool
    """True for the kit's own server, False for an endpoint given by ``SPARK_REMOTE``."""
    pid: int | None = None
    """Server process id (managed servers only)."""

    @property
    def display_url(self) -> str:
        """The URL without its token, safe to print."""
        return redact(self.url)


def redact(url: str) -> str:
    """The URL without its token parameter."""
    return re.sub(r";token=[^;]*", "", url, flags=re.IGNORECASE)


def managed_url(port: int, token: str) -> str:
    """The URL of the kit's own server on ``port``."""
    return f"sc://{URL_HOST}:{port}/;token={token}"


def remote_endpoint(url: str) -> Endpoint:
    """The endpoint ``SPARK_REMOTE`` names (checked, never contacted)."""
    if not url.startswith("sc://"):
        raise ConfigError(f"SPARK_REMOTE={redact(url)!r} is not a Spark Connect URL.",
                          hint="Write it like sc://host:15002/;token=..., or unset SPARK_REMOTE to use the "
                               "kit's own local server.")
    netloc = url[len("sc://"):].split("/", 1)[0].split(";", 1)[0]
    try:
        parts = urlsplit(f"//{netloc}")
        host, port = parts.hostname, parts.port or _REMOTE_DEFAULT_PORT
    except ValueError:
        host, port = None, None
    if not host or port is None:
        raise ConfigError(f"SPARK_REMOTE={redact(url)!r} has no valid host:port.",
                          hint="Write it like sc://host:15002/;token=..., or unset SPARK_REMOTE.")
    return Endpoint(url=url, host=host, port=port, managed=False)


# ------------------------------------------------------------------------------------------ sessions

CLIENT_RETRIES = 6
"""Retries of one call to an unavailable kit server; waits 0.2, 0.4, 0.8, 1.6, 3.2, 4 s: ~10 s per call.

PySpark's default (15 retries, waits growing to 60 s) retries a dead server for ten minutes per call, and a
new session's first query makes two calls, so a grader or kernel session -- even its ``stop()`` and the
``atexit`` clean-up, which call it too -- hung 10-20 minutes. The local server is either back soon (the cohort
watchdog restarts it on the same port and token, the port opening ~10 s after the death: a new session's
first query, ~20 s of retries, rides that out) or gone. A session the dead server knew cannot survive a
restart anyway: the new server refuses it at once (``INVALID_HANDLE.SESSION_CHANGED``)."""
CLIENT_FIRST_WAIT_MS = 200
CLIENT_MAX_WAIT_MS = 4000


def bounded_retries(*, session: Any) -> Any:
    """Make a Spark Connect ``session`` give up on an unavailable kit server within seconds; returns it.

    The same errors are retried as by PySpark's default policy (``UNAVAILABLE``, the server's retry hints), with
    a short back-off (:data:`CLIENT_RETRIES`), through the client's own ``set_retry_policies``. Meant for the
    kit's local server: a remote endpoint may deserve PySpark's patience.
    """
    from pyspark.sql.connect.client.retries import DefaultPolicy

    session.client.set_retry_policies([DefaultPolicy(
        max_retries=CLIENT_RETRIES, initial_backoff=CLIENT_FIRST_WAIT_MS, backoff_multiplier=2.0,
        max_backoff=CLIENT_MAX_WAIT_MS, jitter=250, min_jitter_threshold=2000,
        recognize_server_retry_delay=True, max_server_retry_delay=CLIENT_MAX_WAIT_MS)])
    return session


def new_session(url: str, *, bounded: bool = True) -> SparkSession:
    """A new Spark Connect session to ``url`` (its own temp views and confs), never the process-wide cached one;
    ``bounded`` gives it :func:`bounded_retries`."""
    from pyspark.sql.connect.session import SparkSession

    # What ``builder.getOrCreate()`` does for a remote URL and ``create()`` does not: without it
    # ``pyspark.sql.functions`` (``F.col``, ``F.udf``, ...) take the classic path and ask for a SparkContext.
    os.environ["SPARK_CONNECT_MODE_ENABLED"] = "1"
    session = SparkSession.builder.remote(url).create()
    return bounded_retries(session=session) if bounded else session


def probe(url: str, *, timeout: float, warm: bool = False,
          abort: Callable[[], bool] | None = None) -> str | None:
    """One real authenticated query; ``None`` when it answered, else why not.

    Runs in a thread so a client stuck in gRPC retries cannot outlive ``timeout`` (or ``abort``, polled
    meanwhile). ``warm`` also opens the metastore (10-15 s on first use), so that wait belongs to
    starting the server, not to the first notebook cell.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            session = new_session(url)
            try:
                outcome["rows"] = len(session.range(1).collect())
                if warm:
                    session.sql("SHOW DATABASES").collect()
            finally:
                session.stop()
        except Exception as exc:  # noqa: BLE001 - any failure is a reason to report
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="day07-spark-probe", daemon=True)
    thread.start()
    deadline = time.monotonic() + max(timeout, 1.0)
    while thread.is_alive() and time.monotonic() < deadline:
        thread.join(0.5)
        if abort is not None and abort():
            return "the server process exited"
    if thread.is_alive():
        return f"no answer within {timeout:.0f} s"
    if "error" in outcome:
        return f"{type(outcome['error']).__name__}: {_grpc_details(str(outcome['error']))}"
    if outcome.get("rows") != 1:
        return f"spark.range(1) returned {outcome.get('rows')} rows"
    return None


def _grpc_details(text: str) -> str:
    """The useful part of a gRPC error (``details = "..."``), else its first line."""
    match = re.search(r'details = "([^"]*)"', text)
    if match:
        return match.group(1)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "no message"


# ------------------------------------------------------------------------------------------- kernels



def kernel_env(endpoint: Endpoint) -> dict[str, str]:
    """Environment for a notebook kernel, so ``SparkSession.builder.getOrCreate()`` there connects."""
    env = {"SPARK_REMOTE": endpoint.url, "SPARK_CONNECT_MODE_ENABLED": "1"}
    if endpoint.managed:
        env[KIT_SERVER] = "1"
    return env
