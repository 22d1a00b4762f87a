"""Run one notebook in a real Jupyter kernel (nbclient) and return a structured result.

A failing cell, a timeout or a dead kernel is a result, never an exception: the executed notebook is saved with
its outputs and the failing cell marked (as papermill does), so a learner can open it and see where it broke.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import nbformat
from nbformat import NotebookNode

from checkers.config import settings
from checkers.errors import NotebookExecutionError
from checkers.notebooks.formats import NOTEBOOK_SUFFIXES, read_notebook
from checkers.runtime.context import CONTEXT_ENV, RunContext, RuntimeRecord

Status = Literal["success", "failed", "timeout", "kernel_died"]
FAILED_TAG = "day07-failed"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class CellFailure:
    """Where and how a notebook failed."""

    index: int
    """Index of the failing cell in the notebook (0-based, counting markdown cells)."""
    source: str
    """The failing cell's code."""
    ename: str
    """Exception class name, e.g. ``AnalysisException``."""
    evalue: str
    """Exception message."""
    traceback: list[str] = field(default_factory=list)
    """Traceback lines, without terminal colours."""

    @property
    def cell_number(self) -> int:
        """1-based cell number, as a learner counts cells."""
        return self.index + 1


@dataclass
class NotebookResult:
    """The outcome of one notebook run."""

    path: Path
    """The notebook that ran."""
    status: Status
    """``success`` (ran to the end or called ``dbutils.notebook.exit``), ``failed``, ``timeout``, ``kernel_died``."""
    message: str
    """One line for humans: what happened and where."""
    record: RuntimeRecord
    """What the runtime recorded: widgets declared, task values set, exit value."""
    failure: CellFailure | None = None
    """The failing cell, for ``failed`` and ``timeout``."""
    output_path: Path | None = None
    """The saved executed notebook (.ipynb)."""
    duration: float = 0.0
    """Wall-clock seconds, kernel start included."""
    cells_run: int = 0
    """Code cells executed (including the failing one)."""

    @property
    def ok(self) -> bool:
        return self.status == "success"

    @property
    def exit_value(self) -> str | None:
        return self.record.exit_value


def resolve_notebook_path(path: str | Path, *, base: Path) -> Path:
    """A Databricks-style notebook reference (no extension, maybe relative) → the local file."""
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = (base / candidate).resolve()
    if candidate.suffix in NOTEBOOK_SUFFIXES and candidate.is_file():
        return candidate
    for suffix in NOTEBOOK_SUFFIXES:
        with_suffix = candidate.with_name(candidate.name + suffix)
        if with_suffix.is_file():
            return with_suffix
    raise NotebookExecutionError(f"Notebook '{path}' not found (looked for {candidate}.ipynb and .py).",
                                 hint="Paths are relative to the calling notebook's folder, without extension.")


def _kernel_manager(sockets: Path) -> Any:
    """A KernelManager for our kernelspec (kept in the kit home, so a user's own 'python3' spec can't interfere)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    from checkers.runtime.kernel import KERNEL_NAME, write_kernelspec

    spec_root = settings().home / "kernels"
    write_kernelspec(spec_root / KERNEL_NAME, display_name="Day 07 (executor)")
    ksm = KernelSpecManager(kernel_dirs=[str(spec_root)])
    # IPC (unix sockets) instead of TCP: nothing listens on the network, and no plain-text warning.
    # The socket prefix must be absolute (the kernel runs in the notebook's folder) and short (unix path limit).
    return AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=ksm, transport="ipc",
                              ip=str(sockets / "k"))


def _mark_failure(nb: NotebookNode, failure: CellFailure, status: Status) -> None:
    """Tag the failing cell and put a banner on top, like papermill, so the learner finds it at once."""
    cell = nb.cells[failure.index]
    tags = cell.metadata.setdefault("tags", [])
    if FAILED_TAG not in tags:
        tags.append(FAILED_TAG)
    what = "timed out" if status == "timeout" else "failed"
    banner = nbformat.v4.new_markdown_cell(
        f'<span style="color:red;font-weight:bold">This notebook {what} at cell {failure.cell_number}</span>'
        f" — `{failure.ename}: {failure.evalue.splitlines()[0] if failure.evalue else ''}`. "
        f"The cell is tagged `{FAILED_TAG}`.")
    banner.metadata["tags"] = ["day07-banner"]
    nb.cells.insert(0, banner)


def _clean(lines: list[str] | str) -> list[str]:
    if isinstance(lines, str):
        lines = lines.splitlines()
    return [_ANSI.sub("", line) for line in lines]


async def _run(nb: NotebookNode, *, path: Path, env: dict[str, str], cell_timeout: float,
               deadline: float | None, record_path: Path) -> tuple[Status, CellFailure | None, int, str]:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    sockets = Path(tempfile.mkdtemp(prefix="d7k-"))
    km = _kernel_manager(sockets)
    client = NotebookClient(nb, km=km, timeout=None, interrupt_on_timeout=False, allow_errors=False,
                            record_timing=True, startup_timeout=int(settings().kernel_startup_timeout),
                            resources={"metadata": {"path": str(path.parent)}})
    cells_run = 0
    try:
        async with client.async_setup_kernel(env=env):
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code" or not cell.source.strip():
                    continue
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    failure = CellFailure(index, cell.source, "TimeoutError", "the notebook's time limit ran out")
                    return "timeout", failure, cells_run, f"timed out before cell {index + 1}"
                limit = cell_timeout if remaining is None else min(cell_timeout, remaining)
                client.timeout = max(1, math.ceil(limit))
                cells_run += 1
                try:
                    await client.async_execute_cell(cell, index, execution_count=cells_run)
                except CellTimeoutError:
                    failure = CellFailure(index, cell.source, "TimeoutError",
                                          f"cell {index + 1} ran longer than {client.timeout} s")
                    return "timeout", failure, cells_run, f"cell {index + 1} timed out after {client.timeout} s"
                except CellExecutionError as exc:
                    if RuntimeRecord.read(record_path).exited:
                        return "success", None, cells_run, f"exited at cell {index + 1}"
                    failure = CellFailure(index, cell.source, exc.ename or "Error", exc.evalue or "",
                                          _clean(exc.traceback))
                    first = failure.evalue.splitlines()[0] if failure.evalue else ""
                    return "failed", failure, cells_run, f"cell {index + 1} raised {failure.ename}: {first}"
                if RuntimeRecord.read(record_path).exited:
                    return "success", None, cells_run, f"exited at cell {index + 1}"
            return "success", None, cells_run, "ran to the end"
    except DeadKernelError:
        source = nb.cells[index].source if cells_run else ""
        failure = CellFailure(index if cells_run else 0, source, "DeadKernelError",
                              "the kernel died (out of memory, os._exit or a crash)")
        return "kernel_died", failure, cells_run, (
            f"the kernel died while running cell {index + 1}" if cells_run else "the kernel died while starting")
    except RuntimeError as exc:
        if "Kernel died" in str(exc) or "kernel" in str(exc).lower():
            failure = CellFailure(0, "", "KernelStartupError", str(exc))
            return "kernel_died", failure, cells_run, f"the kernel could not start: {exc}"
        raise
    finally:
        await _shutdown(client, km)
        shutil.rmtree(sockets, ignore_errors=True)


async def _shutdown(client: Any, km: Any) -> None:
    """We own the kernel manager, so nbclient leaves the kernel running: stop it ourselves."""
    if client.kc is not None:
        client.kc.stop_channels()
        client.kc = None
    try:
        if km.has_kernel:
            await km.shutdown_kernel(now=False)
    except Exception:  # already dead, or refused a polite shutdown
        try:
            await km.shutdown_kernel(now=True)
        except Exception:
            pass


def execute_notebook(*, path: Path, parameters: dict[str, str] | None = None, output_path: Path | None = None,
                     cell_timeout: float | None = None, timeout: float | None = None, in_job: bool = False,
                     task_key: str | None = None, task_values: dict[str, dict[str, Any]] | None = None,
                     env: dict[str, str] | None = None, work_dir: Path | None = None) -> NotebookResult:
    """Run ``path`` in a fresh kernel with ``parameters`` as widget values.

    ``timeout`` bounds the whole notebook (a task's ``timeout_seconds``), ``cell_timeout`` each cell.
    ``env`` adds to the kernel's environment (the runner passes ``SPARK_REMOTE`` there).
    """
    path = Path(path).resolve()
    started = time.monotonic()
    nb = read_notebook(path)
    cell_timeout = cell_timeout or settings().cell_timeout
    work = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix=f"day07-{path.stem}-"))
    work.mkdir(parents=True, exist_ok=True)
    record_path = work / f"{path.stem}.record.json"
    record_path.unlink(missing_ok=True)
    context = RunContext(parameters=dict(parameters or {}), in_job=in_job, task_key=task_key,
                         task_values=dict(task_values or {}), notebook_path=str(path),
                         record_path=str(record_path), work_dir=str(work), cell_timeout=cell_timeout)
    context_path = context.write(work / f"{path.stem}.context.json")
    kernel_env = {**os.environ, **(env or {}), CONTEXT_ENV: str(context_path)}
    kernel_env.pop("JPY_PARENT_PID", None)
    deadline = None if not timeout else started + timeout

    status, failure, cells_run, message = _run_sync(nb, path=path, env=kernel_env, cell_timeout=cell_timeout,
                                                    deadline=deadline, record_path=record_path)
    if failure is not None and nb.cells:
        _mark_failure(nb, failure, status)
    if output_path is not None:
        output_path = Path(output_path)
        output_path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(output_path))
    return NotebookResult(path=path, status=status, message=f"{path.name}: {message}",
                          record=RuntimeRecord.read(record_path), failure=failure, output_path=output_path,
                          duration=time.monotonic() - started, cells_run=cells_run)


def _run_sync(nb: NotebookNode, **kwargs: Any) -> tuple[Status, CellFailure | None, int, str]:
    """Run the async executor from sync code, even from a thread whose event loop is busy (a kernel's)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_run(nb, **kwargs))
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(_run(nb, **kwargs))
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="day07-execute")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
