"""Kernels forked from a template process that has already imported what every kernel imports.

A kernel start costs ~1.5 s of CPU before it runs a cell, most of it importing IPython, ipykernel, PySpark's
Connect client, pandas and pyarrow. A grading starts five. The fork server imports them once and forks each kernel
from itself (a fork is milliseconds, and the children share the imported code's memory).

- **Confinement.** A grading's fork server runs in the grading's bubblewrap sandbox, with the same folders as its
  kernels would get, so every kernel it forks is confined exactly as before. One fork server serves one sandbox
  (one grading) and is stopped with it: kernels of different gradings never share one.
- **jupyter_client is unchanged.** The kernel command it runs is a small *relay* (this module's ``relay``), outside
  the sandbox: it hands its stdout/stderr and two pipes to the fork server, which forks the kernel with them. The
  relay exits when the kernel exits (one pipe closes), and the kernel exits when the relay is killed (the other
  pipe closes), so jupyter_client manages the relay as it would the kernel. Interrupts go as Jupyter messages.
- **The memory guard** watches the kernel itself: the relay finds its host pid (the fork server's child with that
  pid in the sandbox's pid namespace) and writes it to ``kernel.pid`` beside the connection file.

The fork server imports but starts nothing: no Python thread, no connection (a fork copies only the calling thread).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from checkers.signals import IN_SANDBOX

SOCKET_NAME = "fork.sock"
PID_FILE = "kernel.pid"
"""Written by the relay beside the kernel's connection file: the forked kernel's pid as this machine sees it."""
READY_TIMEOUT = 60.0
PRELOAD = ("ipykernel.kernelapp", "ipykernel.debugger", "IPython", "pyspark.sql.connect.session",
           "pyspark.sql.connect.functions", "pyspark.sql.functions", "pandas", "pyarrow",
           "checkers.notebooks.extension", "checkers.runtime.kernel", "checkers.runtime.compat",
           "checkers.runtime.dbutils", "checkers.runtime.magics", "checkers.runtime.fs", "checkers.runtime.volumes",
           "checkers.runtime.widgets", "checkers.runtime.display", "checkers.runtime.progress",
           "checkers.runtime.delta.importer")
"""What a kernel imports on its way to its first cell (a module that cannot be imported is skipped)."""
SANDBOX_KEYS = ("TMPDIR", "IPYTHONDIR", "JUPYTER_RUNTIME_DIR", "MPLCONFIGDIR", "XDG_CACHE_HOME", IN_SANDBOX,
                "JPY_PARENT_PID")
"""Variables the sandbox sets for the fork server; its kernels get the same, whatever the relay's environment."""
_INTERRUPT, _TERMINATE = b"I", b"T"


# ----------------------------------------------------------------------------------------- the fork server


def serve(path: Path) -> None:
    """Import, then fork one kernel per request on the unix socket ``path``, until the parent goes away."""
    import importlib
    import threading

    for name in PRELOAD:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    if threading.active_count() != 1:
        sys.exit(f"fork server: an import started a thread ({threading.enumerate()}); forking is unsafe")
    overrides = {k: os.environ[k] for k in SANDBOX_KEYS if k in os.environ} if os.environ.get(
        IN_SANDBOX) == "1" else {}
    parent = os.getppid()
    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGTERM, lambda _s, _f: sys.exit(0))
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(16)
    server.settimeout(1.0)
    while os.getppid() == parent:  # the kit process (or bwrap) that started it is gone: so is the fork server
        try:
            conn, _ = server.accept()
        except TimeoutError:
            continue
        with conn:
            conn.settimeout(10.0)
            try:
                data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 20, 5)
                request = json.loads(data.decode("utf-8"))
            except (OSError, ValueError):
                continue
            if len(fds) != 5:
                for fd in fds:
                    os.close(fd)
                continue
            pid = os.fork()
            if pid == 0:
                server.close()
                conn.close()
                _child(request, fds, overrides)  # never returns
            for fd in fds:
                os.close(fd)
            with contextlib.suppress(OSError):
                conn.sendall(json.dumps({"pid": pid}).encode("utf-8"))


def _reap(_signum: int, _frame: object) -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def _child(request: dict, fds: list[int], overrides: dict[str, str]) -> None:
    """In the forked child: become the kernel the relay asked for."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        stdin, stdout, stderr, lifeline, _deathline = fds  # the deathline stays open until this process exits
        for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
            os.dup2(fd, target)
            os.close(fd)
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in dict(request.get("env") or {}).items()})
        os.environ.update(overrides)
        os.chdir(str(request.get("cwd") or "/"))
        _watch(lifeline)
        sys.argv = ["ipykernel_launcher", *[str(a) for a in request.get("args") or []]]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - shown in the kernel's log, then the kernel exits
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _watch(lifeline: int) -> None:
    """A thread that ends this kernel when its relay dies, and passes on the signals the relay gets."""
    import threading

    def run() -> None:
        while True:
            try:
                byte = os.read(lifeline, 1)
            except OSError:
                byte = b""
            if byte == _INTERRUPT:
                os.kill(os.getpid(), signal.SIGINT)
            elif byte == _TERMINATE:
                os.kill(os.getpid(), signal.SIGTERM)
            elif not byte:
                os._exit(1)

    threading.Thread(target=run, name="day07-lifeline", daemon=True).start()


# ------------------------------------------------------------------------------------------------ the relay


def relay(path: Path, args: Sequence[str]) -> int:
    """Ask the fork server at ``path`` for a kernel with ``args`` and this process's environment and folder; wait for
    it to end. Returns 1 when the fork server cannot be reached (jupyter_client then sees a kernel that died)."""
    lifeline_r, lifeline_w = os.pipe()
    death_r, death_w = os.pipe()
    request = json.dumps({"args": list(args), "env": dict(os.environ), "cwd": os.getcwd()}).encode("utf-8")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(30.0)
            sock.connect(str(path))
            socket.send_fds(sock, [request], [0, 1, 2, lifeline_r, death_w])
            reply = json.loads(sock.recv(4096).decode("utf-8") or "{}")
            server_pid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                             struct.calcsize("3i")))[0]
    except (OSError, ValueError) as exc:
        print(f"day07: the kernel fork server at {path} did not answer: {exc}", file=sys.stderr)
        return 1
    finally:
        os.close(lifeline_r)
        os.close(death_w)
    host_pid = _host_pid(server_pid, int(reply.get("pid") or 0))
    if host_pid:
        with contextlib.suppress(OSError):
            Path(PID_FILE).write_text(str(host_pid), encoding="ascii")  # the kernel's folder is the cwd
    for sig, byte in ((signal.SIGINT, _INTERRUPT), (signal.SIGTERM, _TERMINATE), (signal.SIGHUP, _TERMINATE)):
        signal.signal(sig, partial(_forward_signal, lifeline_w, byte))
    while True:
        try:
            if not os.read(death_r, 1):
                return 0
        except InterruptedError:
            continue


def _forward_signal(fd: int, byte: bytes, _signum: int, _frame: object) -> None:
    _send(fd, byte)


def _send(fd: int, byte: bytes) -> None:
    with contextlib.suppress(OSError):
        os.write(fd, byte)


def _host_pid(server_pid: int, child: int) -> int | None:
    """The pid this machine knows the fork server's child ``child`` by (it may sit in the sandbox's pid namespace)."""
    if child <= 0:
        return None
    for _ in range(50):
        try:
            kids = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
        except OSError:
            return None
        for kid in kids:
            try:
                status = Path(f"/proc/{kid}/status").read_text()
            except OSError:
                continue
            nspids = next((line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:")), [])
            if nspids and int(nspids[-1]) == child:
                return int(kid)
        time.sleep(0.01)
    return None


# ---------------------------------------------------------------------------------------------- host side


class ForkServer:
    """One fork server process, in ``folder`` (its socket and its kernels' folders), confined when ``prefix`` is the
    sandbox's command prefix (``bwrap … --``)."""

    def __init__(self, folder: Path, *, prefix: Sequence[str] = (), env: dict[str, str] | None = None) -> None:
        self.folder = Path(folder)
        self.socket = self.folder / SOCKET_NAME
        self.sandboxed = bool(prefix)
        """It runs in a bubblewrap sandbox, and so do the kernels it forks."""
        env = {**(env if env is not None else os.environ), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        log = open(self.folder / "forkserver.log", "ab")  # noqa: SIM115 - the process keeps its own copy
        try:
            self.process = subprocess.Popen([*prefix, sys.executable, "-m", __name__, "serve", str(self.socket)],
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                            cwd=self.folder, start_new_session=True)
        finally:
            log.close()

    def ready(self) -> bool:
        """Listening (its socket exists) and alive."""
        return self.alive() and self.socket.exists()

    def alive(self) -> bool:
        return self.process.poll() is None

    def relay_command(self, kernel_cmd: Sequence[str]) -> list[str]:
        """The command jupyter_client runs instead of ``kernel_cmd`` (``python -m ipykernel_launcher …``)."""
        args = list(kernel_cmd)
        at = args.index("ipykernel_launcher") + 1 if "ipykernel_launcher" in args else 1
        return [sys.executable, "-m", __name__, "relay", str(self.socket), "--", *args[at:]]

    def stop(self) -> None:
        """Ask the fork server to end (its sandbox and any kernel left in it go with it), then make sure."""
        import psutil

        try:
            tree = [psutil.Process(self.process.pid), *psutil.Process(self.process.pid).children(recursive=True)]
        except psutil.Error:
            tree = []
        for proc in tree:  # the fork server itself ends on SIGTERM; its wrappers follow it out
            with contextlib.suppress(psutil.Error):
                if proc.name() != "bwrap" and "serve" in proc.cmdline():
                    proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


def sandbox_prefix(folder: Path, *, env: dict[str, str], writable: Sequence[Path]) -> list[str]:
    """The bubblewrap command prefix a grading's kernels get (see ``ConfinedKernelManager``), for its fork
    server: the same folders, plus the fork server's own folder (its socket, its kernels' sockets and connection
    files). Empty when this kernel would not be sandboxed."""
    from checkers.config import settings
    from checkers.notebooks.sandbox_folders import env_paths
    from checkers.sandbox import confine_command, sandbox_status
    from checkers.signals import SANDBOX_HIDDEN, SANDBOX_READONLY

    s = settings()
    if not s.sandbox or not sandbox_status().available:
        return []
    hidden = [s.home, *([s.shared_dir] if s.shared_dir else []), *env_paths(env, SANDBOX_HIDDEN)]
    shown = [p for p in (s.volumes_dir,) if p.exists()]
    command = confine_command([], writable=[*writable, folder], readable=shown,
                              read_only=env_paths(env, SANDBOX_READONLY), hidden=hidden)
    return command[:command.index("--") + 1]


def forked_kernel_manager(sockets: Path, server: Any) -> Any:
    """A KernelManager whose kernel command is the fork server's relay; interrupts go as messages (the kernel is not
    the relay's child, and bwrap would not pass a signal on)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    from checkers.config import settings
    from checkers.kernelspec import KERNEL_NAME, write_kernelspec

    class ForkedKernelManager(AsyncKernelManager):
        @property
        def kernel_spec(self) -> Any:
            spec = super().kernel_spec
            if spec is not None:
                spec.interrupt_mode = "message"
            return spec

        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            return server.relay_command(super().format_kernel_cmd(extra_arguments))

    spec_root = settings().home / "kernels"
    write_kernelspec(spec_root / KERNEL_NAME, display_name="Day 07 (executor)")
    ksm = KernelSpecManager(kernel_dirs=[str(spec_root)])
    return ForkedKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=ksm, transport="ipc",
                               ip=str(sockets / "k"), connection_file=str(sockets / "kernel.json"))


def forked_pid(folder: Path) -> int | None:
    """The forked kernel's pid that its relay wrote in ``folder`` (None until it did, or for a kernel not forked)."""
    try:
        return int((Path(folder) / PID_FILE).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def main(argv: Sequence[str]) -> int:
    if len(argv) >= 2 and argv[0] == "serve":
        serve(Path(argv[1]))
        return 0
    if len(argv) >= 3 and argv[0] == "relay" and "--" in argv:
        at = list(argv).index("--")
        return relay(Path(argv[1]), list(argv)[at + 1:])
    print("usage: python -m checkers.notebooks.forkserver serve SOCKET | relay SOCKET -- KERNEL_ARGS…",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
