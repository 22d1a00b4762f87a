"""Run one notebook in a real Jupyter kernel (nbclient) and return a structured result.

A failing cell, a timeout or a dead kernel is a result, never an exception: the executed notebook is saved with
its outputs and the failing cell marked (as papermill does), so a learner can open it and see where it broke.
"""

from __future__ import annotations

import atexit
import math
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import nbformat
from nbformat import NotebookNode

from checkers.config import settings
from checkers.errors import NotebookExecutionError
from checkers.notebooks.formats import NOTEBOOK_SUFFIXES, read_notebook
from checkers.notebooks.formats import saved_widgets as widgets_saved_in
from checkers.notebooks.kernels import Kernel, kernel_service
from checkers.notebooks.selfcheck import SKIP_NOTE, skippable_cells
from checkers.runtime.context import RunContext, RuntimeRecord
from checkers.runtime.progress import QueryProgress
from checkers.signals import POOLED_KERNEL, RUN_CONTEXT, SANDBOX_ROOT, SANDBOX_WRITABLE

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
    kernel_ahead: bool = False
    """Its kernel was started ahead of need by the pool (so the run did not wait for a kernel to start)."""
    sandboxed: bool = False
    """Its kernel ran in the bubblewrap sandbox."""

    @property
    def ok(self) -> bool:
        return self.status == "success"

    @property
    def exit_value(self) -> str | None:
        return self.record.exit_value


_WORKSPACE_LEVELS = 3
"""How many folders above the calling notebook a workspace path may lead to (``/Workspace/Users/me/day07/lib/x``
from ``day07/src/caller``)."""


def _notebook_file(candidate: Path) -> Path | None:
    if candidate.suffix in NOTEBOOK_SUFFIXES and candidate.is_file():
        return candidate
    for suffix in NOTEBOOK_SUFFIXES:
        with_suffix = candidate.with_name(candidate.name + suffix)
        if with_suffix.is_file():
            return with_suffix
    return None


def resolve_notebook_path(path: str | Path, *, base: Path) -> Path:
    """A Databricks-style notebook reference (no extension, maybe relative) → the local file.

    A workspace path (``/Workspace/Users/me/day07/includes/config``, ``/Users/...``, ``/Repos/...``) that is not a
    local file is the notebook at the end of that path here: its longest tail found in the calling notebook's folder
    or a few folders above it (``includes/config``, then ``config``)."""
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = (base / candidate).resolve()
    found = _notebook_file(candidate)
    if found is None and Path(path).is_absolute():
        parts = [p for p in Path(path).parts[1:] if p not in (".", "..")]
        roots = [base.resolve(), *base.resolve().parents][:_WORKSPACE_LEVELS + 1]
        found = next((f for k in range(len(parts), 0, -1) for root in roots
                      if (f := _notebook_file(root.joinpath(*parts[-k:]))) is not None), None)
    if found is not None:
        return found
    raise NotebookExecutionError(f"Notebook '{path}' not found (looked for {candidate}.ipynb, .py and .sql).",
                                 hint="Paths are relative to the calling notebook's folder, without extension; "
                                      "a workspace path (/Workspace/Users/...) is looked up by its last parts "
                                      "from there.")


def clear_outputs(nb: NotebookNode) -> None:
    """Drop what an earlier run left in code cells (a Databricks export keeps its outputs): in the executed copy,
    a cell that did not run this time shows nothing rather than an old result."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)


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


async def _bind(client: Any, *, context_path: Path, cwd: Path) -> str | None:
    """Hand the pooled kernel its task (silently: no output, no execution count); returns why it failed, if so."""
    code = f"__import__('checkers.notebooks.extension', fromlist=['bind']).bind({str(context_path)!r}, {str(cwd)!r})"
    msg_id = client.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
    reply = await client.async_wait_for_reply(msg_id)
    content = (reply or {}).get("content", {})
    if content.get("status") == "ok":
        return None
    return f"{content.get('ename', 'Error')}: {content.get('evalue', 'no reply')}"


async def _run(nb: NotebookNode, *, path: Path, env: dict[str, str], writable: list[Path], context_path: Path,
               cell_timeout: float, deadline: float | None, record: RuntimeRecord, skip: set[int],
               notes: list[str], facts: dict[str, bool], kernels_ahead: bool = True,
               on_progress: Callable[[QueryProgress], None] | None = None,
               ) -> tuple[Status, CellFailure | None, int, str]:
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    from checkers.notebooks.limits import CappedNotebookClient, MemoryGuard

    service = kernel_service()
    guard: MemoryGuard | None = None
    client: CappedNotebookClient | None = None
    cells_run = 0
    index = 0
    kernel = None
    try:
        kernel = await service.acquire(env=env, writable=writable)
        facts.update(kernel_ahead=kernel.ahead, sandboxed=kernel.sandboxed)
        client = CappedNotebookClient(nb, km=kernel.km, timeout=None, interrupt_on_timeout=False, allow_errors=False,
                                      record_timing=True, startup_timeout=int(settings().kernel_startup_timeout),
                                      resources={"metadata": {"path": str(path.parent)}},
                                      max_output_bytes=int(settings().max_output_bytes))
        client.record = record  # the kernel's dbutils events land here as they arrive
        client.on_progress = on_progress
        pid = kernel.pid()
        if pid is not None:
            # A grading kernel (sandboxed) may not start a detached process to escape the limit either.
            guard = MemoryGuard(pid=pid, limit_bytes=int(settings().kernel_memory_mb * 2**20),
                                include_detached=bool(writable)).start()
        async with client.async_setup_kernel():
            try:
                client.timeout = int(settings().kernel_startup_timeout)
                problem = await _bind(client, context_path=context_path, cwd=path.parent)
                if problem is not None:
                    failure = CellFailure(0, "", "KernelStartupError", problem)
                    return "kernel_died", failure, 0, f"the kernel could not be set up: {problem}"
                if kernels_ahead:
                    service.top_up(env=env, writable=writable)
                for index, cell in enumerate(nb.cells):
                    if cell.cell_type != "code" or not cell.source.strip():
                        continue
                    if index in skip:
                        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=SKIP_NOTE)]
                        cell.execution_count = None
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
                        if record.exited:
                            return "success", None, cells_run, f"exited at cell {index + 1}"
                        failure = CellFailure(index, cell.source, exc.ename or "Error", exc.evalue or "",
                                              _clean(exc.traceback))
                        return ("failed", failure, cells_run,
                                f"cell {index + 1} raised {failure.ename}: {summary_line(failure.evalue)}")
                    if record.exited:
                        return "success", None, cells_run, f"exited at cell {index + 1}"
                return "success", None, cells_run, "ran to the end"
            finally:
                if client.kc is not None:
                    client.kc.stop_channels()
                    client.kc = None
    except DeadKernelError:
        source = nb.cells[index].source if cells_run else ""
        why = guard.message if guard is not None and guard.tripped else None
        failure = CellFailure(index if cells_run else 0, source, "DeadKernelError",
                              why or "the kernel died (out of memory, os._exit or a crash)")
        where = f"while running cell {index + 1}" if cells_run else "while starting"
        return "kernel_died", failure, cells_run, (f"{why} {where}" if why else f"the kernel died {where}")
    except RuntimeError as exc:
        if "kernel" in str(exc).lower():
            failure = CellFailure(0, "", "KernelStartupError", str(exc))
            return "kernel_died", failure, cells_run, f"the kernel could not start: {exc}"
        raise
    finally:
        if client is not None:
            # nbclient registers an exit hook per client and leaves it behind when the kernel fails to start.
            atexit.unregister(client._cleanup_kernel)
            notes.extend(f"cell {i + 1} printed {n:,} bytes: its output was capped (DAY07_MAX_OUTPUT_BYTES)"
                         for i, n in sorted(client.capped_cells.items()))
        if guard is not None:
            guard.stop()
        if kernel is not None:
            service.retire(kernel)


def _kernel_environment(env: dict[str, str] | None) -> tuple[dict[str, str], list[Path]]:
    """A kernel's environment (ours plus ``env``) and the folders it may write when sandboxed.

    What this process was told about itself (its run context, that it was pooled) is not passed on: a notebook run
    from inside a kernel gets its own."""
    inherited = {k: v for k, v in os.environ.items() if k not in ("JPY_PARENT_PID", RUN_CONTEXT, POOLED_KERNEL)}
    kernel_env = {**inherited, **(env or {})}
    sandbox = kernel_env.get(SANDBOX_ROOT)
    if not sandbox:
        return kernel_env, []
    more = [Path(p) for p in kernel_env.get(SANDBOX_WRITABLE, "").split(os.pathsep) if p]
    return kernel_env, [Path(sandbox), *more]


def prepare_kernels(*, env: dict[str, str] | None, kernels: int, ahead: int | None = None) -> None:
    """Start kernels for notebooks about to run with ``env`` (``kernels`` of them in all) ahead of need.

    ``ahead``: at most this many ready at a time (default: the pool size, ``DAY07_KERNEL_POOL``).
    """
    kernel_env, writable = _kernel_environment(env)
    kernel_service().expect(env=kernel_env, writable=writable, kernels=kernels, ahead=ahead)


def pooled_kernels(*, env: dict[str, str] | None) -> list[Kernel]:
    """The kernels started ahead for notebooks run with ``env``, not handed out yet."""
    kernel_env, writable = _kernel_environment(env)
    return kernel_service().idle(env=kernel_env, writable=writable)


def kernels_starting(*, env: dict[str, str] | None) -> int:
    """How many kernels for notebooks run with ``env`` are being started ahead of need."""
    kernel_env, writable = _kernel_environment(env)
    return kernel_service().starting(env=kernel_env, writable=writable)


def release_kernels(*, env: dict[str, str] | None) -> None:
    """Stop kernels started ahead for ``env``'s sandbox and not used (a grading that ended early)."""
    _, writable = _kernel_environment(env)
    if writable:
        kernel_service().discard(writable=writable)


_PYTHON_ERROR = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)\b")


def summary_line(evalue: str) -> str:
    """One line that says what went wrong: the first line of the message, or, for an error raised in a Spark
    Python worker (a UDF, ``foreachBatch``), whose message is a whole traceback, that traceback's last error."""
    lines = [line.strip() for line in (evalue or "").splitlines() if line.strip()]
    if "Traceback (most recent call last)" in (evalue or ""):
        errors = [line for line in lines if _PYTHON_ERROR.match(line)]
        if errors:
            return errors[-1]
    return lines[0] if lines else ""


def execute_notebook(*, path: Path, parameters: dict[str, str] | None = None, output_path: Path | None = None,
                     cell_timeout: float | None = None, timeout: float | None = None, in_job: bool = False,
                     task_key: str | None = None, task_values: dict[str, dict[str, Any]] | None = None,
                     env: dict[str, str] | None = None, work_dir: Path | None = None,
                     skip_kit_checks: bool = False,
                     job_ids: tuple[int | None, int | None, int | None] | None = None,
                     on_progress: Callable[[QueryProgress], None] | None = None,
                     kernels_ahead: bool = True, saved_widgets: bool = False) -> NotebookResult:
    """Run ``path`` in a fresh kernel with ``parameters`` as widget values.

    ``timeout`` bounds the whole notebook (a task's ``timeout_seconds``), ``cell_timeout`` each cell.
    ``env`` adds to the kernel's environment (the runner passes ``SPARK_REMOTE`` there; the grader
    ``checkers.signals.SANDBOX_ROOT``, the one folder a sandboxed kernel may write). ``skip_kit_checks`` leaves out
    the kit's unchanged self-check cells (see :mod:`checkers.notebooks.selfcheck`): the grader's choice.
    ``job_ids`` (job id, job run id, task run id) are what the notebook context reports in a job run.
    ``on_progress`` is called (from the executor's thread) with each progress update of a long Spark query.
    ``kernels_ahead=False`` starts no kernel ahead for the notebooks after this one (a nested run inside an executor's
    kernel, see :mod:`checkers.notebooks.extension`). ``saved_widgets``: the widgets a Databricks export keeps in
    its metadata are there, with their defaults, as after importing it (``parameters`` win); a job run never has
    them.
    """
    path = Path(path).resolve()
    started = time.monotonic()
    nb = read_notebook(path)
    clear_outputs(nb)
    cell_timeout = cell_timeout or settings().cell_timeout
    kernel_env, writable = _kernel_environment(env)
    # A sandboxed kernel writes its by-products (nested runs) in the work folder, so it must be inside its sandbox.
    work = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix=f"day07-{path.stem}-",
                                                                 dir=writable[0] if writable else None))
    if writable and not work.resolve().is_relative_to(writable[0].resolve()):
        raise NotebookExecutionError(f"work folder {work} is outside the sandbox folder {writable[0]}.",
                                     hint=f"Pass a work_dir inside {SANDBOX_ROOT}, or leave it out.")
    work.mkdir(parents=True, exist_ok=True)
    record = RuntimeRecord()
    job_id, job_run_id, task_run_id = job_ids or (None, None, None)
    if saved_widgets and not in_job:
        parameters = {**widgets_saved_in(nb), **(parameters or {})}
    context = RunContext(parameters=dict(parameters or {}), in_job=in_job, task_key=task_key,
                         job_id=job_id, job_run_id=job_run_id, task_run_id=task_run_id,
                         task_values=dict(task_values or {}), notebook_path=str(path),
                         report_events=True, work_dir=str(work), cell_timeout=cell_timeout)
    context_path = context.write(work / f"{path.stem}.context.json")
    deadline = None if not timeout else started + timeout

    notes: list[str] = []
    facts: dict[str, bool] = {}
    status, failure, cells_run, message = kernel_service().run(_run(
        nb, path=path, env=kernel_env, writable=writable, context_path=context_path, cell_timeout=cell_timeout,
        deadline=deadline, record=record, skip=skippable_cells(nb.cells) if skip_kit_checks else set(),
        notes=notes, facts=facts, kernels_ahead=kernels_ahead, on_progress=on_progress))
    if failure is not None and nb.cells:
        _mark_failure(nb, failure, status)
    if output_path is not None:
        output_path = Path(output_path)
        output_path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(output_path))
    return NotebookResult(path=path, status=status, message="; ".join([f"{path.name}: {message}", *notes]),
                          record=record, failure=failure, output_path=output_path,
                          duration=time.monotonic() - started, cells_run=cells_run, **facts)
