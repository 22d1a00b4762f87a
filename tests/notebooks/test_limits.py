"""Output caps and memory guards, against real ipykernels (the stock ``python3`` kernel)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import psutil
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode

from checkers.notebooks.limits import MEMORY_SETTING, CappedNotebookClient, MemoryGuard, kernel_pid, output_note

CAP = 20_000  # small: nbclient's stream coalescing is quadratic in line length
NOTE = "output capped"

MANY_PRINTS = 'for i in range(50_000):\n    print("line %06d " % i + "y" * 90)'
CELLS = [
    MANY_PRINTS,                                                    # 0: ~5 MB in many stream messages
    'print("after the flood " * 3)',                                # 1: small, must stay whole
    "print('x' * 10_000_000)",                                      # 2: one huge message
    "from IPython.display import HTML, display\n"                   # 3: rich outputs after the cap
    "print('z' * 150_000)\ndisplay(HTML('<b>late</b>'))\n42",
    "from IPython.display import clear_output, display\n"           # 4: much output seen, little kept
    "for i in range(300):\n"
    "    clear_output(wait=True)\n"
    "    display({'text/plain': 'step %d ' % i + '.' * 1000}, raw=True)",
    "from IPython.display import display\n"                         # 5: a display updated in place
    "handle = display('start', display_id=True)\n"
    "for i in range(300):\n"
    "    handle.update('update %d ' % i + '.' * 1000)",
    "print('e' * 200_000)\nraise ValueError('boom after the flood')",  # 6: the error survives the cap
]


def _notebook(*sources: str) -> NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def _stream_text(cell: NotebookNode) -> str:
    return "".join(o["text"] for o in cell.outputs if o["output_type"] == "stream")


def _without_note(text: str) -> str:
    return text.replace("\n" + output_note(CAP), "").replace(output_note(CAP), "")


@pytest.fixture(scope="module", params=[False, True], ids=["raw-streams", "coalesced-streams"])
def capped_run(request: pytest.FixtureRequest) -> tuple[NotebookNode, CappedNotebookClient]:
    """One kernel runs every output cell once; the tests read the outcome."""
    nb = _notebook(*CELLS)
    client = CappedNotebookClient(nb, kernel_name="python3", timeout=120, allow_errors=True,
                                  coalesce_streams=request.param, max_output_bytes=CAP)
    client.execute()
    return nb, client


@pytest.mark.kernel
def test_many_prints_keep_the_head_up_to_the_cap_and_one_note(capped_run: tuple[NotebookNode, Any]) -> None:
    nb, client = capped_run
    printed = "".join(f"line {i:06d} " + "y" * 90 + "\n" for i in range(50_000))
    text = _stream_text(nb.cells[0])
    assert text.count(NOTE) == 1
    assert text.rstrip("\n").endswith("(limit: DAY07_MAX_OUTPUT_BYTES)]")
    kept = _without_note(text)
    assert printed.startswith(kept)  # a faithful head: nothing reordered, nothing skipped
    assert CAP - 200 <= len(kept.encode()) <= CAP
    assert client.capped_cells[0] == len(printed)  # every byte the cell printed was counted


@pytest.mark.kernel
def test_the_next_cell_starts_a_fresh_count_and_keeps_its_output(capped_run: tuple[NotebookNode, Any]) -> None:
    nb, client = capped_run
    assert _stream_text(nb.cells[1]) == "after the flood " * 3 + "\n"
    assert 1 not in client.capped_cells


@pytest.mark.kernel
def test_one_huge_print_is_cut_to_the_cap(capped_run: tuple[NotebookNode, Any]) -> None:
    nb, client = capped_run
    text = _stream_text(nb.cells[2])
    assert text.count(NOTE) == 1
    assert _without_note(text) == "x" * CAP
    assert client.capped_cells[2] == 10_000_001


@pytest.mark.kernel
def test_display_and_result_after_the_cap_are_dropped(capped_run: tuple[NotebookNode, Any]) -> None:
    nb, client = capped_run
    outputs = nb.cells[3].outputs
    assert [o["output_type"] for o in outputs if o["output_type"] != "stream"] == []
    assert _stream_text(nb.cells[3]).count(NOTE) == 1
    assert client.capped_cells[3] > 150_001  # the dropped display and result were counted too


@pytest.mark.kernel
def test_cleared_and_updated_displays_count_what_is_kept(capped_run: tuple[NotebookNode, Any]) -> None:
    nb, client = capped_run
    cleared, updated = nb.cells[4].outputs, nb.cells[5].outputs
    assert [o["data"]["text/plain"].split()[:2] for o in cleared] == [["step", "299"]]
    assert [o["data"]["text/plain"].strip("'").split()[:2] for o in updated] == [["update", "299"]]
    assert 4 not in client.capped_cells and 5 not in client.capped_cells


@pytest.mark.kernel
def test_the_error_is_kept_after_the_note(capped_run: tuple[NotebookNode, Any]) -> None:
    nb, client = capped_run
    outputs = nb.cells[6].outputs
    assert outputs[-1]["output_type"] == "error"
    assert (outputs[-1]["ename"], outputs[-1]["evalue"]) == ("ValueError", "boom after the flood")
    assert _stream_text(nb.cells[6]).count(NOTE) == 1
    assert 6 in client.capped_cells


# --- memory -------------------------------------------------------------------------------------------
HOG = "for _ in range(60):\n    chunks.append(b'x' * 50_000_000)\n    time.sleep(0.05)\nprint('survived')"


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture()
def kernel() -> Iterator[NotebookClient]:
    """A started stock kernel whose cells the test runs one by one."""
    client = NotebookClient(_notebook(), kernel_name="python3", timeout=60)
    with client.setup_kernel():
        yield client


def _run(client: NotebookClient, source: str) -> NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    client.nb.cells.append(cell)
    return client.execute_cell(cell, len(client.nb.cells) - 1)


@pytest.mark.kernel
def test_a_memory_hog_is_killed_with_a_message(kernel: NotebookClient) -> None:
    pid = kernel_pid(kernel.km)
    assert pid is not None
    _run(kernel, "import time\nchunks = []")
    with MemoryGuard(pid=pid, limit_bytes=300 * 1024 * 1024) as guard:
        with pytest.raises(DeadKernelError):
            _run(kernel, HOG)
    assert guard.tripped
    assert guard.peak_bytes > 300 * 1024 * 1024
    assert guard.message is not None
    assert "more than 300 MB of memory" in guard.message and MEMORY_SETTING in guard.message
    assert _gone(pid)


@pytest.mark.kernel
def test_a_normal_cell_under_a_generous_limit_runs(kernel: NotebookClient) -> None:
    pid = kernel_pid(kernel.km)
    assert pid is not None
    with MemoryGuard(pid=pid, limit_bytes=2048 * 1024 * 1024) as guard:
        cell = _run(kernel, "data = b'x' * 20_000_000\nlen(data)")
        assert guard.used_bytes() > 20_000_000  # it watches the kernel that holds the data
    assert cell.outputs[0]["data"]["text/plain"] == "20000000"
    assert not guard.tripped and guard.message is None and not guard.active
    assert 0 < guard.peak_bytes < 2048 * 1024 * 1024


CHILD = textwrap.dedent("""
    import os, subprocess, sys, time
    CHILD = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); " \\
            "b = b'x' * 400_000_000; print('ready', flush=True); time.sleep(120)"
    def start_child(pid_file, detached):
        child = subprocess.Popen([sys.executable, "-c", CHILD, pid_file], stdout=subprocess.PIPE, text=True,
                                 start_new_session=detached)
        ready = child.stdout.readline().strip()
        if not detached:
            time.sleep(30)  # the kernel waits while its child holds the memory: the guard must stop it
        return ready
""")


@pytest.mark.kernel
def test_children_count_but_a_detached_service_does_not(kernel: NotebookClient, tmp_path: Path) -> None:
    pid = kernel_pid(kernel.km)
    assert pid is not None
    detached_file, attached_file = tmp_path / "detached.pid", tmp_path / "attached.pid"
    children: list[int] = []
    try:
        _run(kernel, CHILD)
        with MemoryGuard(pid=pid, limit_bytes=300 * 1024 * 1024) as guard:
            ready = _run(kernel, f"start_child({str(detached_file)!r}, True)")
            children.append(int(detached_file.read_text()))
            assert ready.outputs[0]["data"]["text/plain"] == "'ready'"
            # a service the kernel started in its own session (like the kit's Spark server) is not the kernel
            assert guard.used_bytes() < 300 * 1024 * 1024
            with pytest.raises(DeadKernelError):
                _run(kernel, f"start_child({str(attached_file)!r}, False)")
            children.append(int(attached_file.read_text()))
        assert guard.tripped
        assert _gone(pid) and _gone(children[1])
        assert not _gone(children[0])
    finally:
        for child in children:
            try:
                psutil.Process(child).kill()
            except psutil.NoSuchProcess:
                pass


@pytest.mark.kernel
def test_a_kernel_inside_a_bwrap_sandbox_is_guarded_through_the_wrapper(tmp_path: Path, bwrap: str) -> None:
    # The sandbox's shape: bwrap → bwrap (new pid namespace, new session) → ipykernel.
    spec = tmp_path / "kernels" / "sandboxed"
    spec.mkdir(parents=True)
    argv = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid",
            "--new-session", "--die-with-parent", "--bind", str(tmp_path), str(tmp_path),
            "--setenv", "IPYTHONDIR", str(tmp_path / "ipython"), "--setenv", "JPY_PARENT_PID", "1",
            "--setenv", "TMPDIR", str(tmp_path),
            sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "sandboxed", "language": "python"}))
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    km = AsyncKernelManager(kernel_name="sandboxed",
                            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")]))
    client = NotebookClient(_notebook(), km=km, timeout=60)
    with client.setup_kernel():
        pid = kernel_pid(km)
        assert pid is not None and psutil.Process(pid).name() == "bwrap"
        _run(client, "import time\nchunks = []")
        with MemoryGuard(pid=pid, limit_bytes=300 * 1024 * 1024) as guard:
            with pytest.raises(DeadKernelError):
                _run(client, HOG)
        assert guard.tripped and _gone(pid)


def test_no_limit_starts_no_watch() -> None:
    with MemoryGuard(pid=os.getpid(), limit_bytes=0) as guard:
        assert not guard.active
    assert not guard.tripped and guard.message is None


def test_a_process_that_ends_ends_the_watch_quietly() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
    guard = MemoryGuard(pid=proc.pid, limit_bytes=1024 * 1024 * 1024).start()
    assert guard.active
    proc.wait(timeout=30)
    for _ in range(200):  # the watch notices within a few samples; bounded so a bug fails instead of hanging
        if not guard.active:
            break
        time.sleep(0.05)
    assert not guard.active and not guard.tripped
    guard.stop()
