"""What a kernel needs from the side that runs notebooks, to run other notebooks itself.

``%run`` reads another notebook's code cells into this kernel; ``dbutils.notebook.run`` executes one in a fresh
kernel. Both need the executor, which sits above the runtime (it starts kernels that load the runtime), so the
runtime never imports it: whoever starts the kernel hands it a :class:`NotebookHost` (see
:mod:`checkers.notebooks.extension`). A kernel without one refuses both with a clear error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol


class NestedResult(Protocol):
    """The outcome of a nested run, as far as ``dbutils.notebook.run`` needs it."""

    @property
    def ok(self) -> bool: ...

    @property
    def exit_value(self) -> str | None: ...

    message: str


class NotebookHost(Protocol):
    """Finds, reads and executes notebooks for the kernel."""

    def resolve(self, path: str, *, base: Path) -> Path:
        """A Databricks-style notebook reference (no extension, maybe relative to ``base``) → the local file;
        raises :class:`checkers.errors.NotebookExecutionError` when there is none."""
        ...

    def code_cells(self, path: Path) -> list[tuple[int, str]]:
        """``(index, source)`` of each code cell with code in it, in order (indexes count every cell)."""
        ...

    def execute(self, *, path: Path, parameters: dict[str, str], output_path: Path, timeout: float | None,
                cell_timeout: float | None, in_job: bool, task_values: dict[str, dict[str, Any]]) -> NestedResult:
        """Run ``path`` in a fresh kernel with ``parameters`` as widget values; save the executed copy."""
        ...
