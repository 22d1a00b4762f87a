"""Run a process in a bubblewrap (``bwrap``) sandbox: everything read-only but its own folders.

A submission is someone else's code. Without a sandbox its kernel can write anywhere our user can, signal the
grader or the Spark server, and leave processes behind. Inside bwrap it sees the same files and the same network
(it talks to the Spark Connect server on 127.0.0.1) as the same user, but it can write only to the folders it is
given and to a private ``/tmp``, and it sees and signals only its own processes.

Grading kernels (:mod:`checkers.notebooks.confine`) and a grading worker's Spark server (:mod:`checkers.spark`)
both run through :func:`confine_command`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from checkers.config import PROJECT_ROOT
from checkers.errors import CheckersError
from checkers.signals import IN_SANDBOX

PRIVATE_TMP = "/tmp"
"""Inside the sandbox this is an empty tmpfs of its own: other kernels' sockets and files in the real /tmp are
hidden, and what the notebook writes there disappears with the kernel."""
_PROBE_TIMEOUT = 10.0


class SandboxError(CheckersError):
    """The sandbox cannot be set up as asked (bwrap missing or unusable, or a folder to share is missing)."""

    def __init__(self, message: str, *, path: Path | str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.path = None if path is None else Path(path)


@dataclass(frozen=True)
class SandboxStatus:
    """Whether kernels can run in bwrap on this machine, found by running bwrap once."""

    available: bool
    """True when a real ``bwrap … true`` with our options ran and exited 0."""
    tool: str | None
    """Path of the ``bwrap`` executable (``None`` when it is not installed)."""
    reason: str
    """Why it is not available, for the grader's note; empty when it is."""


@lru_cache(maxsize=1)
def sandbox_status() -> SandboxStatus:
    """Probe bwrap once per process with the exact options kernels get (never raises).

    A real run is the only honest test: bwrap may be installed yet unable to create namespaces (a container
    without user namespaces, a seccomp profile, a kernel setting).
    """
    tool = shutil.which("bwrap")
    if tool is None:
        return SandboxStatus(False, None, "bwrap is not installed (apt-get install bubblewrap)")
    probe = shutil.which("true") or "/bin/true"
    try:
        done = subprocess.run(confine_command([probe], writable=[], tool=tool), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=_PROBE_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return SandboxStatus(False, tool, f"bwrap did not finish a trivial command in {_PROBE_TIMEOUT:.0f} s")
    except Exception as exc:  # noqa: BLE001 - a probe reports, it never raises
        return SandboxStatus(False, tool, f"bwrap cannot be run: {exc}")
    if done.returncode != 0:
        first = next((line.strip() for line in done.stderr.splitlines() if line.strip()),
                     f"exit code {done.returncode}")
        return SandboxStatus(False, tool, f"bwrap cannot create a namespace here: {first}")
    return SandboxStatus(True, tool, "")


def _existing(paths: Sequence[Path | str], *, what: str) -> list[Path]:
    found = []
    for raw in paths:
        path = Path(os.path.realpath(raw))
        if not path.exists():
            raise SandboxError(f"Cannot share {raw} {what} with the sandbox: it does not exist.", path=raw,
                               hint="Create it before starting the kernel; the sandbox creates nothing outside.")
        found.append(path)
    return found


def kit_answers() -> list[Path]:
    """The kit's folders that hold answers or the grader: the solutions, the lessons (with the check cells' code),
    the grading, feedback and authoring packages, git's history and the tests' complete submissions. Graded code (a
    kernel, a Spark server's Python workers) never needs them, so it never sees them: a notebook cannot run the
    reference solution or the grader's expectations, however it spells the import or the path."""
    package = Path(__file__).resolve().parent
    folders = [PROJECT_ROOT / "solutions", PROJECT_ROOT / "lessons", package / "grading", package / "feedback",
               package / "authoring",
               # Answers elsewhere in the kit: git's copy of every file, and the tests' own complete submissions
               # and reference pipeline (test notebooks run from tests/files, so the rest of tests/ stays).
               PROJECT_ROOT / ".git", PROJECT_ROOT / "tests" / "files" / "submissions",
               PROJECT_ROOT / "tests" / "helpers"]
    return [p for p in folders if p.is_dir()]


def confine_command(cmd: list[str], *, writable: Sequence[Path], tool: str | None = None,
                    readable: Sequence[Path] = (), read_only: Sequence[Path] = (), hidden: Sequence[Path] = (),
                    keep_running: bool = False) -> list[str]:
    """The ``bwrap`` command line that runs ``cmd`` confined; ``cwd`` and the environment are kept.

    ``writable`` folders (or files) are bound read-write at the same path; ``readable`` ones read-only, which
    only matters under ``/tmp`` or a hidden folder (everything else is visible read-only anyway); ``read_only``
    ones read-only even inside a writable folder (the unseen data inside a grading folder); ``hidden`` folders
    are replaced by an empty one (the kit home, other gradings, and always :func:`kit_answers`), with whatever else
    is given bound back inside.
    All but ``hidden`` must exist: binding a missing path would create it, or fail inside bwrap with a message
    nobody reads. This Python and the kit's code are always readable: they may live under ``/tmp`` too (a
    virtual environment in a fresh clone). ``keep_running``: do not tie the sandbox to this process (a server
    that outlives the command that started it); it still dies with its own session leader.
    """
    code = (Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent, PROJECT_ROOT)
    readable = [*readable, *(p for p in code if p.exists())]
    if tool is None:
        status = sandbox_status()
        if not status.available:
            raise SandboxError(f"The kernel sandbox is not available: {status.reason}.",
                               hint="Install bubblewrap, or set DAY07_SANDBOX=0 to run kernels without it.")
        tool = status.tool
    assert tool is not None
    rw = _existing(writable, what="(writable)")
    pinned = _existing(read_only, what="(read-only)")
    gone = [Path(os.path.realpath(p)) for p in [*hidden, *kit_answers()] if Path(p).exists()]
    # A readable path inside a writable folder (a notebook's folder in its grading folder) stays writable.
    ro = [p for p in _existing(readable, what="(readable)") if not any(p.is_relative_to(w) for w in rw)]
    args = [tool,
            "--ro-bind", "/", "/",           # the whole filesystem, read-only (submounts too)
            "--dev", "/dev",                 # a minimal /dev: null, zero, urandom, tty, a private /dev/shm
            "--unshare-pid",                 # sees and signals only its own processes; all die with the sandbox
            "--proc", "/proc",               # a /proc for that pid namespace
            "--unshare-ipc",                 # no System V IPC shared with other kernels
            "--tmpfs", PRIVATE_TMP,          # a private, empty /tmp
            "--new-session",                 # no terminal to push keystrokes into (TIOCSTI)
            "--cap-drop", "ALL",             # as root, bwrap keeps capabilities: root could remount / read-write
            "--setenv", "TMPDIR", PRIVATE_TMP,
            "--setenv", "IPYTHONDIR", f"{PRIVATE_TMP}/ipython",        # profile and history database
            "--setenv", "JUPYTER_RUNTIME_DIR", f"{PRIVATE_TMP}/jupyter",  # a nested kernel's connection file
            "--setenv", "MPLCONFIGDIR", f"{PRIVATE_TMP}/matplotlib",   # no "not writable" warning in outputs
            "--setenv", "XDG_CACHE_HOME", f"{PRIVATE_TMP}/cache",
            "--setenv", IN_SANDBOX, "1",
            # ipykernel watches its parent (JPY_PARENT_PID, the grader). In the pid namespace its parent is bwrap's
            # pid 1, which it would take for "my parent died"; 1 tells it not to watch (--die-with-parent does).
            "--setenv", "JPY_PARENT_PID", "1"]
    if not keep_running:
        args.append("--die-with-parent")  # the grader dies → the sandbox dies, with every process in it
    # Parents before children, so a folder bound inside another one is not hidden by it; at equal depth an empty
    # folder goes first, then what is bound into it.
    order = {"--tmpfs": 0, "--ro-bind": 1, "--bind": 1, "--ro-bind-pinned": 2}
    mounts = [(p, "--tmpfs") for p in gone] + [(p, "--ro-bind") for p in ro] + [(p, "--bind") for p in rw] + [
        (p, "--ro-bind-pinned") for p in pinned]
    for path, mode in sorted(mounts, key=lambda item: (len(item[0].parts), order[item[1]], str(item[0]))):
        if mode == "--tmpfs":
            args += ["--tmpfs", str(path)]
        else:
            args += ["--ro-bind" if mode == "--ro-bind-pinned" else mode, str(path), str(path)]
    return [*args, "--", *cmd]


def shield_command(cmd: list[str]) -> list[str]:
    """``cmd`` in a pid namespace of its own with :func:`kit_answers` hidden, and everything else as it is: the kit's
    shared Spark server, which serves the learner's own work (any folder, the real ``/tmp``) and the gradings of
    ``day07 check``.

    Its Python workers (a UDF) then cannot read the grader or the solutions, and every process they start stays in
    the namespace: :mod:`checkers.spark.strays` finds it, and it ends with the server. Without bwrap (or with
    ``DAY07_SANDBOX=0``) the command runs as is.
    """
    from checkers.config import settings

    status = sandbox_status()
    if not settings().sandbox or not status.available or status.tool is None:
        return cmd
    args = [status.tool,
            "--dev-bind", "/", "/",  # the machine as it is, writable where this user may write
            "--proc", "/proc",       # a /proc for the pid namespace
            "--unshare-pid",         # its processes (UDF workers and what they start) stay with it
            "--cap-drop", "ALL"]     # as root, no way to unmount what is hidden
    for path in kit_answers():
        args += ["--tmpfs", os.path.realpath(path)]
    return [*args, "--", *cmd]
