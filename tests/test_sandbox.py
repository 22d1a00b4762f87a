"""The bubblewrap sandbox, with the real tool: what a confined process and a confined kernel can and cannot do.

Every test takes the ``bwrap`` fixture (tests/conftest.py): without bubblewrap they skip, naming it, and under
``CI=true`` they fail.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from checkers.notebooks.confine import ConfinedKernelManager
from checkers.sandbox import SandboxError, confine_command

PROBE = r"""
import errno, json, os, sys
name, writable, outside, hidden, grader = sys.argv[1:6]

def attempt(folder):
    try:
        with open(os.path.join(folder, name), "w") as fh:
            fh.write("from the sandbox")
        return "written"
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))

def sees(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

caps = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("CapEff"))
print(json.dumps({"writable": attempt(writable), "outside": attempt(outside), "hidden": attempt(hidden),
                  "tmp": attempt("/tmp"), "caps": int(caps, 16), "sees_grader": sees(int(grader))}))
"""


@pytest.fixture()
def outside() -> Iterator[Path]:
    """A folder this test process can write that is not under /tmp (so not hidden by the private /tmp)."""
    for base in (Path("/var/tmp"), Path.home()):
        if base.is_dir() and os.access(base, os.W_OK) and not str(base.resolve()).startswith("/tmp"):
            folder = Path(tempfile.mkdtemp(prefix="day07-confine-", dir=base))
            break
    else:
        pytest.fail("No writable folder outside /tmp (tried /var/tmp and $HOME) to test read-only access with.")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_missing_writable_folder_is_named(bwrap: str, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    with pytest.raises(SandboxError) as caught:
        confine_command(["true"], writable=[tmp_path, missing], tool=bwrap)
    assert caught.value.path == missing
    assert str(missing) in str(caught.value) and "does not exist" in str(caught.value)


def test_confined_process_writes_only_where_allowed(bwrap: str, tmp_path: Path, outside: Path) -> None:
    writable, hidden = tmp_path / "grading", tmp_path / "other-submission"
    writable.mkdir()
    hidden.mkdir()
    name = f"probe-{uuid.uuid4().hex}.txt"
    cmd = confine_command([sys.executable, "-c", PROBE, name, str(writable), str(outside), str(hidden),
                           str(os.getpid())], writable=[writable], tool=bwrap)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)

    assert seen["writable"] == "written"
    assert (writable / name).read_text() == "from the sandbox"
    # Visible but read-only: the rest of the filesystem.
    assert seen["outside"] == "EROFS"
    assert not (outside / name).exists()
    # Another folder under the real /tmp is not even visible; the sandbox's /tmp is its own.
    assert seen["hidden"] in {"ENOENT", "EROFS"}
    assert not (hidden / name).exists()
    assert seen["tmp"] == "written"
    assert not (Path("/tmp") / name).exists()
    # No capabilities (as root it could remount / read-write), and the grader's process is out of reach.
    assert seen["caps"] == 0
    assert seen["sees_grader"] is False


def test_readable_folders_under_tmp_are_shown_read_only_unless_inside_a_writable_one(bwrap: str,
                                                                                    tmp_path: Path) -> None:
    home, grading = tmp_path / "kit-home", tmp_path / "grading"
    (home / "volumes").mkdir(parents=True)
    (home / "volumes" / "data.csv").write_text("id\n1\n")
    (grading / "submission").mkdir(parents=True)
    script = ("import errno, sys, pathlib\n"
              "home, submission = map(pathlib.Path, sys.argv[1:3])\n"
              "print((home / 'volumes' / 'data.csv').read_text().splitlines()[-1])\n"
              "for folder in (home / 'volumes', submission):\n"
              "    try:\n"
              "        (folder / 'out.txt').write_text('x'); print('written')\n"
              "    except OSError as exc:\n"
              "        print(errno.errorcode[exc.errno])\n")
    cmd = confine_command([sys.executable, "-c", script, str(home), str(grading / "submission")],
                          writable=[grading], readable=[home, grading / "submission"], tool=bwrap)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "EROFS", "written"]
    assert not (home / "volumes" / "out.txt").exists()
    assert (grading / "submission" / "out.txt").is_file()


def test_confined_process_reaches_a_local_tcp_server(bwrap: str, tmp_path: Path) -> None:
    received: list[bytes] = []
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(60)
        port = server.getsockname()[1]

        def serve() -> None:
            conn, _ = server.accept()
            with conn:
                received.append(conn.recv(64))

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        client = ("import socket, sys; s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=30); "
                  "s.sendall(b'hello from the sandbox'); s.close()")
        cmd = confine_command([sys.executable, "-c", client, str(port)], writable=[tmp_path], tool=bwrap)
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        thread.join(timeout=60)
    assert done.returncode == 0, done.stderr
    assert received == [b"hello from the sandbox"]


# --- a real kernel ---------------------------------------------------------------------------------------
async def _execute(kc: Any, code: str, *, timeout: float = 60) -> tuple[dict[str, Any], str]:
    """Run ``code``; return the execute reply's content and what it printed."""
    printed: list[str] = []

    def hook(msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "stream":
            printed.append(msg["content"]["text"])

    reply = await kc.execute_interactive(code, timeout=timeout, output_hook=hook)
    return reply["content"], "".join(printed)


async def _wait_for_output(kc: Any, text: str, *, timeout: float = 60) -> None:
    while True:
        msg = await kc.get_iopub_msg(timeout=timeout)
        if msg["msg_type"] == "stream" and text in msg["content"]["text"]:
            return


async def _confined_kernel_session(*, spec_root: Path, sockets: Path, grading: Path, outside: Path) -> dict[str, Any]:
    from jupyter_client.kernelspec import KernelSpecManager

    ksm = KernelSpecManager(kernel_dirs=[str(spec_root)])
    km = ConfinedKernelManager(kernel_name="plain", kernel_spec_manager=ksm, transport="ipc",
                               ip=str(sockets / "k"), writable=[sockets, grading])
    seen: dict[str, Any] = {}
    inside: list[psutil.Process] = []
    await km.start_kernel(cwd=str(grading))
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=60)
        process: Any = getattr(km.provisioner, "process", None)  # the local provisioner's Popen: bwrap
        seen["argv0"] = Path(process.args[0]).name
        code = (f"import errno, os, pathlib, subprocess\n"
                f"pathlib.Path('cell.txt').write_text('written in a cell')\n"
                f"try:\n"
                f"    pathlib.Path({str(outside)!r}, 'cell.txt').write_text('escaped')\n"
                f"    print('outside: written')\n"
                f"except OSError as exc:\n"
                f"    print('outside:', errno.errorcode[exc.errno])\n"
                f"child = subprocess.Popen(['sleep', '300'])\n"
                f"print('cwd:', os.getcwd())")
        seen["write"] = await _execute(kc, code)
        sandbox = psutil.Process(process.pid)
        inside = sandbox.children(recursive=True)
        seen["inside"] = [p.pid for p in inside]

        # stop_on_error=False: the error must not make ipykernel drop the next request (nbclient does the same)
        kc.execute("import time\nprint('sleeping', flush=True)\ntime.sleep(60)", stop_on_error=False)
        await _wait_for_output(kc, "sleeping")
        await km.interrupt_kernel()
        reply = await kc.get_shell_msg(timeout=30)
        seen["interrupted"] = reply["content"]
        seen["after"] = await _execute(kc, "print(6 * 7)")
    finally:
        kc.stop_channels()
        await km.shutdown_kernel(now=False)
    # The sandbox's pid namespace ends with bwrap; its processes may take a moment to go. psutil.Process objects
    # know their start time, so a pid the system has given to another process since does not count.
    _, alive = psutil.wait_procs(inside, timeout=10)
    seen["left"] = [p.pid for p in alive if p.status() != psutil.STATUS_ZOMBIE]
    return seen


@pytest.mark.kernel
def test_confined_kernel_runs_writes_only_its_folder_and_can_be_interrupted(bwrap: str, tmp_path: Path,
                                                                            outside: Path) -> None:
    spec = tmp_path / "kernels" / "plain"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "plain", "language": "python"}))
    grading = tmp_path / "grading"
    grading.mkdir()
    sockets = Path(tempfile.mkdtemp(prefix="d7k-"))  # short: unix socket paths are limited to ~100 bytes
    try:
        # A loop of its own, in a thread of its own: other tests may leave one set in this thread.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            seen = pool.submit(asyncio.run, _confined_kernel_session(
                spec_root=tmp_path / "kernels", sockets=sockets, grading=grading, outside=outside)).result()
    finally:
        shutil.rmtree(sockets, ignore_errors=True)

    assert seen["argv0"] == "bwrap"
    content, printed = seen["write"]
    assert content["status"] == "ok", content
    assert (grading / "cell.txt").read_text() == "written in a cell"
    assert "outside: EROFS" in printed
    assert not (outside / "cell.txt").exists()
    assert f"cwd: {grading}" in printed
    # Interrupted, not killed: the cell ends with KeyboardInterrupt and the kernel runs the next one.
    assert seen["interrupted"]["status"] == "error"
    assert seen["interrupted"]["ename"] == "KeyboardInterrupt"
    content, printed = seen["after"]
    assert content["status"] == "ok" and printed.strip() == "42"
    # The kernel and the process it started are gone once the kernel is shut down.
    assert seen["inside"], "no process found inside the sandbox"
    assert seen["left"] == []


def test_graded_code_sees_the_kit_but_not_its_answers_or_its_grader(bwrap: str, tmp_path: Path) -> None:
    """The kit's runtime stays importable; the solutions, the lessons' check code and the grader are not there,
    however a notebook spells the import (the source scan is only a second line)."""
    from checkers.config import PROJECT_ROOT
    from checkers.sandbox import kit_answers

    probe = r"""
import importlib, json, os, sys
found = {}
for name in ("checkers.runtime.compat", "checkers." + "grad" + "ing.expect", "checkers.feedback.reference"):
    try:
        importlib.import_module(name)
        found[name] = "imported"
    except ImportError as exc:
        found[name] = type(exc).__name__
found["solutions"] = sorted(os.listdir(sys.argv[1]))
found["elsewhere"] = [p for p in sys.argv[2:] if os.path.isdir(p) and os.listdir(p)]
print(json.dumps(found))
"""
    assert PROJECT_ROOT / "solutions" in kit_answers()
    elsewhere = [PROJECT_ROOT / "tests" / "files" / "submissions", PROJECT_ROOT / "tests" / "helpers",
                 *([PROJECT_ROOT / ".git"] if (PROJECT_ROOT / ".git").is_dir() else [])]
    cmd = confine_command([sys.executable, "-c", probe, str(PROJECT_ROOT / "solutions"), *map(str, elsewhere)],
                          writable=[tmp_path], tool=bwrap)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["checkers.runtime.compat"] == "imported"
    assert seen["checkers.grading.expect"] == "ModuleNotFoundError"
    assert seen["checkers.feedback.reference"] == "ModuleNotFoundError"
    assert seen["solutions"] == []
    assert seen["elsewhere"] == []  # git's history and the tests' complete submissions are not there either
    assert (PROJECT_ROOT / "solutions" / "02_silver.ipynb").is_file()  # hidden inside the sandbox only
