"""What a server leaves on disk, and whether its process is still the kit's server: any process can find, reuse
and stop a server it did not start.

The state file, the token (``0600`` in a ``0700`` folder), the lock that lets exactly one process start a server,
the log; and the pid check that tells the server from a process that reused its pid, so ``stop`` never kills a
stranger.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import MISSING, dataclass
from pathlib import Path
from typing import Any

from checkers.errors import SparkServerError
from checkers.spark.spec import SERVER_CLASS, ServerPaths

STOP_GRACE_SECONDS = 30.0
"""How long a stopping server gets to shut down cleanly (Derby releases its lock) before SIGKILL."""
_LOG_TAIL_LINES = 20

#: Servers started by this process, so their exit is reaped (a zombie still looks alive to ``kill 0``).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class ServerState:
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
    def from_dict(cls, data: Any) -> ServerState | None:
        try:
            fields = cls.__dataclass_fields__
            return cls(**{name: data[name] for name in fields if name in data or fields[name].default is MISSING})
        except (KeyError, TypeError):
            return None


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


def write_private(path: Path, text: str) -> None:
    """Write atomically with mode 0600, so no reader ever sees half a file or a readable token."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        os.fchmod(fd, 0o600)
        fh.write(text)
    os.replace(tmp, path)


@contextlib.contextmanager
def locked(paths: ServerPaths, *, timeout: float) -> Iterator[None]:
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


def read_state(paths: ServerPaths) -> ServerState | None:
    """The recorded server, alive or not; None without a readable state file."""
    try:
        data = json.loads(paths.state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return ServerState.from_dict(data)


def read_token(paths: ServerPaths) -> str | None:
    try:
        return paths.token.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def token_for_start(paths: ServerPaths) -> str:
    """Keep the token across restarts (stable URLs) unless its file ever became readable by others."""
    try:
        private = (paths.token.stat().st_mode & 0o077) == 0
    except OSError:
        private = False
    token = read_token(paths) if private else None
    if token is None:
        token = secrets.token_urlsafe(32)
        write_private(paths.token, token + "\n")
    return token


def log_since(path: Path, offset: int) -> str:
    """What the log got after ``offset`` (this start's lines)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def log_tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    """The last lines of the log, for an error message."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 64 * 1024))
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


# ---------------------------------------------------------------------------------------- processes

def adopt(child: subprocess.Popen[bytes]) -> None:
    """Remember a server this process started, so its exit is reaped."""
    _CHILDREN[child.pid] = child


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


def is_our_server(state: ServerState) -> bool:
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


def _below(pid: int) -> list[Any]:
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _end_the_rest(procs: list[Any]) -> None:
    """SIGKILL what is left of a stopped server: a process its UDF workers started in another session, and the
    sandbox's init, which holds the pid namespace (ending it ends every process still in there)."""
    import psutil

    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(procs, timeout=5)


def signal_and_wait(state: ServerState) -> None:
    """SIGTERM (Spark shuts down cleanly, Derby releases its lock), SIGKILL after a grace period; then whatever the
    server started that is still running."""
    below = _below(state.pid)  # before the signal: once the server is gone, its orphans belong to no one we know
    for sig, wait in ((signal.SIGTERM, STOP_GRACE_SECONDS), (signal.SIGKILL, 10.0)):
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
            if not is_our_server(state):
                _CHILDREN.pop(state.pid, None)
                _end_the_rest(below)
                return
            time.sleep(0.2)
    raise SparkServerError(f"The Spark Connect server (pid {state.pid}) did not stop.",
                           hint=f"Stop it by hand: kill -9 {state.pid}")
