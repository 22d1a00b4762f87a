"""The kernels the executor runs notebooks in: one event loop owns them all, and a pool starts some ahead of need.

A kernel takes 2-3 s to start (Python, ipykernel, then pyspark and the SDK). A job runs its tasks one after
another, each in a fresh kernel as Databricks gives each task a fresh Python, so without a pool every task
waits for a start. Pooled kernels start *unbound*: the runtime extension imports everything and connects to
Spark, and sets up ``dbutils`` for a task only when :func:`checkers.notebooks.extension.bind` hands it the task's
context. Every kernel runs one notebook and is then shut down: no state leaks from one task to the next.

Kernels are keyed by their environment and sandbox, so a kernel started for one grading never runs another
submission's notebook.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from checkers.config import settings
from checkers.notebooks.sandbox_folders import env_paths
from checkers.notebooks.start_gate import StartGate
from checkers.signals import KERNEL_NICE, POOLED_KERNEL, RUN_CONTEXT, SANDBOX_HIDDEN, SANDBOX_READONLY

T = TypeVar("T")
KERNEL_LOG = "kernel.log"
"""The kernel process's own stdout/stderr, beside its sockets (removed with them)."""
_NOT_KEYED = (RUN_CONTEXT, "JPY_PARENT_PID")
"""Environment variables that differ between otherwise identical kernels (set per task, or by jupyter)."""
Key = tuple[tuple[tuple[str, str], ...], tuple[str, ...]]


@dataclass
class Kernel:
    """A started kernel process and its socket folder."""

    km: Any
    """jupyter_client ``AsyncKernelManager``."""
    sockets: Path
    """Folder of its IPC sockets (removed at shutdown)."""
    key: Key
    sandboxed: bool = False
    """True when it runs inside bubblewrap."""
    ahead: bool = False
    """True when it was started ahead of need (by the pool), not for the notebook that got it."""
    started: float = field(default_factory=time.monotonic)
    ready: float | None = None
    """When the pool saw it answer (kernels started for a waiting notebook are not watched)."""
    forked: bool = False
    """Forked from a fork server (see :mod:`checkers.notebooks.forkserver`), not started from scratch."""

    def pid(self) -> int | None:
        """The kernel process's pid (for a forked kernel: the fork server's child, not its relay)."""
        if self.forked:
            from checkers.notebooks.forkserver import forked_pid

            return forked_pid(self.sockets)
        from checkers.notebooks.limits import kernel_pid

        return kernel_pid(self.km)


def kernel_key(env: dict[str, str], writable: Sequence[Path]) -> Key:
    return (tuple(sorted((k, v) for k, v in env.items() if k not in _NOT_KEYED)),
            tuple(sorted(str(p) for p in writable)))


class KernelService:
    """A background event loop that starts, hands out and stops kernels for every thread of this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: dict[Key, list[Kernel]] = {}
        self._starting: dict[Key, int] = {}
        self._budget: dict[Key, int] = {}
        self._ahead: dict[Key, int] = {}
        self._demanded: dict[Key, float] = {}
        """When each key last asked for a kernel: the pool keeps the kernels of the keys in use."""
        self._changed: asyncio.Condition | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._gates: dict[tuple[str, ...], StartGate] = {}
        self._discarded: set[tuple[str, ...]] = set()
        self._closed = False
        self._forkservers: dict[tuple[str, ...], Any] = {}
        """A fork server per sandbox (a grading's folders; ``()``: kernels not sandboxed), or None where it failed."""

    # -- the loop
    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="day07-kernels", daemon=True)
                thread.start()
                self._loop = loop
                atexit.register(self.close)
            return self._loop

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the service loop and wait for it; Ctrl-C cancels it and waits for its clean-up."""
        done = threading.Event()

        async def guarded() -> T:
            try:
                return await coro
            finally:
                done.set()

        future = asyncio.run_coroutine_threadsafe(guarded(), self.loop())
        try:
            return future.result()
        except KeyboardInterrupt:
            future.cancel()
            done.wait(timeout=30)
            raise

    # -- the pool
    def pool_size(self) -> int:
        return max(0, int(settings().kernel_pool))

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def acquire(self, *, env: dict[str, str], writable: Sequence[Path] = ()) -> Kernel:
        """A started kernel for ``env``: a pooled one (waiting for one being started), else a new one."""
        key = kernel_key(env, writable)
        self._demanded[key] = time.monotonic()
        if key in self._budget:
            self._budget[key] = max(0, self._budget[key] - 1)
        changed = self._condition()
        while True:
            async with changed:
                await changed.wait_for(lambda: bool(self._idle.get(key)) or not self._starting.get(key))
            if not self._idle.get(key):
                return await self._start(env=env, writable=writable, key=key)
            candidate = self._idle[key].pop(0)
            if await candidate.km.is_alive():
                return candidate
            self.retire(candidate)

    def idle(self, *, env: dict[str, str], writable: Sequence[Path] = ()) -> list[Kernel]:
        """The kernels started ahead for ``env`` and not handed out yet (a snapshot)."""
        return list(self._idle.get(kernel_key(env, writable), []))

    def starting(self, *, env: dict[str, str], writable: Sequence[Path] = ()) -> int:
        """How many kernels for ``env`` are being started ahead (or wait their turn to start)."""
        return self._starting.get(kernel_key(env, writable), 0)

    def expect(self, *, env: dict[str, str], writable: Sequence[Path] = (), kernels: int,
               ahead: int | None = None) -> None:
        """Say how many kernels ``env`` will need (a grading knows), and start the first ones now.

        Without it the pool keeps :meth:`pool_size` kernels ready for as long as the process runs; with it,
        no more than ``kernels`` are ever started ahead, so none is started for nothing. ``ahead`` keeps another
        number ready at a time than the pool size: fewer when parallel gradings share the memory, all of a job's
        when one grading runs alone. A pool size of 0 starts none ahead, whatever ``ahead`` says.
        """
        key = kernel_key(env, writable)

        def start() -> None:
            self._demanded[key] = time.monotonic()
            self._budget[key] = kernels
            if ahead is not None:
                self._ahead[key] = ahead
            self._top_up(env=env, writable=writable, key=key)

        self.loop().call_soon_threadsafe(start)

    def top_up(self, *, env: dict[str, str], writable: Sequence[Path] = ()) -> None:
        """Start kernels for ``env`` until the pool is full; returns at once.

        The executor calls it once its own kernel is ready (not before: on two cores, kernels starting side by
        side only delay the one a task is waiting for).
        """
        key = kernel_key(env, writable)

        def start() -> None:
            self._demanded[key] = time.monotonic()
            self._top_up(env=env, writable=writable, key=key)

        self.loop().call_soon_threadsafe(start)

    def discard(self, *, writable: Sequence[Path]) -> None:
        """Stop the idle kernels started for a sandbox that is no longer needed (a finished grading)."""
        wanted = tuple(sorted(str(p) for p in writable))
        if self._loop is None:
            return

        def drop() -> None:
            for key in [k for k in self._budget if k[1] == wanted]:
                self._budget[key] = 0
                self._ahead.pop(key, None)
            for key in [k for k in self._demanded if k[1] == wanted]:
                del self._demanded[key]
            for key in [k for k in self._idle if k[1] == wanted]:
                for kernel in self._idle.pop(key):
                    self.retire(kernel)
            self._gates.pop(wanted, None)
            self._discarded.add(wanted)  # kernels still starting for it are stopped once started
            server = self._forkservers.pop(wanted, None)
            if server is not None:  # its sandbox goes with it, and any kernel of that grading still in it
                threading.Thread(target=_stop_fork_server, args=(server,), name="day07-fork-stop", daemon=True).start()

        self._loop.call_soon_threadsafe(drop)

    def _top_up(self, *, env: dict[str, str], writable: Sequence[Path], key: Key) -> None:
        if self._closed:
            return
        ahead = len(self._idle.get(key, [])) + self._starting.get(key, 0)
        missing = (self._ahead.get(key, self.pool_size()) if self.pool_size() else 0) - ahead
        if key in self._budget:
            missing = min(missing, self._budget[key] - ahead)
        for _ in range(max(0, missing)):
            self._starting[key] = self._starting.get(key, 0) + 1
            self._spawn(self._start_idle(env=env, writable=writable, key=key))
        self._evict()

    async def _start_idle(self, *, env: dict[str, str], writable: Sequence[Path], key: Key) -> None:
        kernel = None
        try:
            # One at a time per sandbox (a grading), each until it answers: on two cores, kernels starting side
            # by side all come late, the one the first task waits for too. Started in the order asked for, except
            # that niced kernels (off the critical path: a grading's 00_widgets runs) wait for the others.
            gate = self._gates.setdefault(key[1], StartGate())
            async with gate.turn(low=KERNEL_NICE in env):
                if not self._closed and key[1] not in self._discarded:
                    kernel = await self._start(env=env, writable=writable, key=key)
                    await _until_ready(kernel, timeout=float(settings().kernel_startup_timeout))
                    kernel.ready = time.monotonic()
        except Exception:  # noqa: BLE001 - a kernel that cannot start is started again, with its error, when needed
            if kernel is not None:
                self.retire(kernel)
                kernel = None
        finally:
            self._starting[key] -= 1
            if kernel is not None:
                kernel.ahead = True
            if kernel is not None and (self._closed or key[1] in self._discarded):
                self.retire(kernel)
            elif kernel is not None:
                self._idle.setdefault(key, []).append(kernel)
                self._evict()
            async with self._condition():
                self._condition().notify_all()

    def _evict(self) -> None:
        """Keep at most two pools' worth of idle kernels (see :func:`surplus`), and those a key was promised above the
        pool size (a grading's job that starts all its kernels ahead)."""
        pool = max(1, self.pool_size())
        promised = sum(max(0, ahead - pool) for key, ahead in self._ahead.items() if self._budget.get(key))
        for kernel in surplus(self._idle, self._demanded, keep=2 * pool + promised):
            self._idle[kernel.key].remove(kernel)
            self.retire(kernel)

    async def _fork_server(self, *, env: dict[str, str], writable: Sequence[Path]) -> Any:
        """The fork server of ``writable``'s sandbox, started (and waited for) on first use; None when kernels are not
        forked here (``DAY07_KERNEL_FORK=0``, not Linux) or it could not start (kernels then start from scratch)."""
        wanted = tuple(sorted(str(p) for p in writable))
        if not settings().kernel_fork or not sys.platform.startswith("linux") or wanted in self._discarded:
            return None
        if wanted not in self._forkservers:
            self._forkservers[wanted] = None  # one start at a time; a failed one is not retried
            from checkers.notebooks.forkserver import READY_TIMEOUT, ForkServer, sandbox_prefix

            folder = Path(tempfile.mkdtemp(prefix="d7z-"))
            try:
                prefix = sandbox_prefix(folder, env=env, writable=writable) if writable else []
                server = ForkServer(folder, prefix=prefix, env={k: v for k, v in env.items() if k not in _NOT_KEYED})
            except Exception:  # noqa: BLE001 - kernels then start from scratch, as without a fork server
                shutil.rmtree(folder, ignore_errors=True)
                return None
            deadline = time.monotonic() + READY_TIMEOUT
            while not server.ready() and server.alive() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if not server.ready() or wanted in self._discarded:
                server.stop()
                shutil.rmtree(folder, ignore_errors=True)
                return None
            self._forkservers[wanted] = server
        started = self._forkservers.get(wanted)
        return started if started is not None and started.ready() else None

    async def _start(self, *, env: dict[str, str], writable: Sequence[Path], key: Key) -> Kernel:
        server = await self._fork_server(env=env, writable=writable)
        if server is not None:
            return await self._start_forked(server, env=env, key=key)
        sockets = Path(tempfile.mkdtemp(prefix="d7k-"))
        km, sandboxed = _kernel_manager(sockets, writable=[*writable, sockets] if writable else (),
                                        read_only=env_paths(env, SANDBOX_READONLY),
                                        hidden=env_paths(env, SANDBOX_HIDDEN))
        await _start_logged(km, sockets, env)
        return Kernel(km=km, sockets=sockets, key=key, sandboxed=sandboxed)

    async def _start_forked(self, server: Any, *, env: dict[str, str], key: Key) -> Kernel:
        from checkers.notebooks.forkserver import forked_kernel_manager, forked_pid

        sockets = Path(tempfile.mkdtemp(prefix="k", dir=server.folder))  # inside the fork server's sandbox
        km = forked_kernel_manager(sockets, server)
        await _start_logged(km, sockets, env)
        kernel = Kernel(km=km, sockets=sockets, key=key, sandboxed=server.sandboxed, forked=True)
        deadline = time.monotonic() + 10.0  # the relay names the kernel's pid within milliseconds
        while forked_pid(sockets) is None and time.monotonic() < deadline and await km.is_alive():
            await asyncio.sleep(0.01)
        return kernel

    # -- the end of a kernel
    def retire(self, kernel: Kernel) -> None:
        """Shut ``kernel`` down in the background (politely, so its Spark session is released)."""
        self._spawn(_shutdown(kernel))

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` on the service's loop; safe from any thread (the loop runs in its own, and a task made from
        another thread without waking it could still be pending when the loop stops at exit)."""
        loop = self.loop()

        def start() -> None:
            task = loop.create_task(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        loop.call_soon_threadsafe(start)

    def close(self) -> None:
        """Stop every kernel this service started (at exit): pooled ones and those still shutting down."""
        if self._loop is None or self._closed:
            return
        self._closed = True
        loop = self._loop

        async def stop_all() -> None:
            kernels = [k for kernels in self._idle.values() for k in kernels]
            self._idle.clear()
            pending = [t for t in self._tasks if not t.done()]
            await asyncio.gather(*(_shutdown(k, now=True) for k in kernels), *pending, return_exceptions=True)
            for server in [s for s in self._forkservers.values() if s is not None]:
                _stop_fork_server(server)
            self._forkservers.clear()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(stop_all(), loop).result(timeout=20)
        loop.call_soon_threadsafe(loop.stop)


def surplus(idle: dict[Key, list[Kernel]], demanded: dict[Key, float], *, keep: int) -> list[Kernel]:
    """The idle kernels beyond ``keep``: those of the key asked for longest ago go first (a finished grading's).

    Ranked by the key's last demand, not by the kernel's start: a kernel that a finished run's top-up started
    late must not push out the kernel a run in progress is about to take.
    """
    ranked = sorted((k for kernels in idle.values() for k in kernels),
                    key=lambda k: (demanded.get(k.key, float("-inf")), k.started))
    return ranked[:max(0, len(ranked) - keep)]


async def _until_ready(kernel: Kernel, *, timeout: float) -> None:
    """Wait until ``kernel`` answers (its runtime extension loaded); raises if it dies or stays silent."""
    client = kernel.km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=timeout)
    finally:
        client.stop_channels()


async def _shutdown(kernel: Kernel, *, now: bool = False) -> None:
    km = kernel.km
    try:
        if km.has_kernel:
            await km.shutdown_kernel(now=now)
    except Exception:  # already dead, or refused a polite shutdown
        with contextlib.suppress(Exception):
            await km.shutdown_kernel(now=True)
    finally:
        shutil.rmtree(kernel.sockets, ignore_errors=True)


def _kernel_manager(sockets: Path, *, writable: Sequence[Path], read_only: Sequence[Path] = (),
                    hidden: Sequence[Path] = ()) -> tuple[Any, bool]:
    """A KernelManager for our kernelspec (kept in the kit home, so a user's own 'python3' spec can't interfere).

    With ``writable`` (a grading) and bubblewrap available, the kernel runs confined: everything read-only but
    those folders. Returns the manager and whether it is confined.
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    from checkers.kernelspec import KERNEL_NAME, write_kernelspec

    spec_root = settings().home / "kernels"
    write_kernelspec(spec_root / KERNEL_NAME, display_name="Day 07 (executor)")
    ksm = KernelSpecManager(kernel_dirs=[str(spec_root)])
    # IPC (unix sockets) instead of TCP: nothing listens on the network, and no plain-text warning.
    # The socket prefix must be absolute (the kernel runs elsewhere) and short (unix path limit).
    options = {"kernel_name": KERNEL_NAME, "kernel_spec_manager": ksm, "transport": "ipc", "ip": str(sockets / "k")}
    if writable and settings().sandbox:
        from checkers.notebooks.confine import ConfinedKernelManager
        from checkers.sandbox import sandbox_status

        if sandbox_status().available:
            return ConfinedKernelManager(writable=list(writable), read_only=list(read_only), hidden=list(hidden),
                                         **options), True
    return AsyncKernelManager(**options), False


async def _start_logged(km: Any, sockets: Path, env: dict[str, str]) -> None:
    """Start ``km``'s kernel as a pooled one. Its own output (ipykernel's log: a shutdown mid-message prints a ZMQError
    traceback) goes to a file beside its sockets, never to the console of the command that runs the notebook."""
    kernel_env = {k: v for k, v in env.items() if k not in _NOT_KEYED}
    kernel_env[POOLED_KERNEL] = "1"
    log = open(sockets / KERNEL_LOG, "ab")  # noqa: SIM115 - the kernel (or its relay) keeps a copy; closed below
    try:
        await km.start_kernel(env=kernel_env, cwd=str(sockets), stdout=log, stderr=log)
    except BaseException:
        shutil.rmtree(sockets, ignore_errors=True)
        raise
    finally:
        log.close()


def _stop_fork_server(server: Any) -> None:
    server.stop()
    shutil.rmtree(server.folder, ignore_errors=True)


_SERVICE: list[KernelService] = []
_SERVICE_LOCK = threading.Lock()


def kernel_service() -> KernelService:
    """The process-wide service (created on first use: nothing starts at import)."""
    with _SERVICE_LOCK:
        if not _SERVICE or _SERVICE[0]._closed:
            _SERVICE[:] = [KernelService()]
        return _SERVICE[0]
