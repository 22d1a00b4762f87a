"""The IPython extension every kit kernel loads (``--ext=checkers.notebooks.extension``, see
:mod:`checkers.kernelspec`): the runtime (:mod:`checkers.runtime.kernel`), given this package's executor as the
:class:`~checkers.runtime.notebook_host.NotebookHost` that ``%run`` and ``dbutils.notebook.run`` use.

A kernel the executor starts is pooled: it loads the extension ahead of need and gets its task, with its host,
from :func:`bind`. A learner's Jupyter kernel gets its host as the extension loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from checkers.runtime import kernel


class KernelNotebooks:
    """The executor, as a kernel's host for nested runs. Its modules are imported on first use: a kernel whose
    notebook runs no other notebook does not pay for them."""

    def __init__(self, *, kernels_ahead: bool) -> None:
        self.kernels_ahead = kernels_ahead
        """Whether a nested run starts kernels ahead for the next ones (the executor's pool)."""

    def resolve(self, path: str, *, base: Path) -> Path:
        from checkers.notebooks.execute import resolve_notebook_path

        return resolve_notebook_path(path, base=base)

    def code_cells(self, path: Path) -> list[tuple[int, str]]:
        from checkers.notebooks.formats import read_notebook

        return [(index, cell.source) for index, cell in enumerate(read_notebook(path).cells)
                if cell.cell_type == "code" and cell.source.strip()]

    def execute(self, *, path: Path, parameters: dict[str, str], output_path: Path, timeout: float | None,
                cell_timeout: float | None, in_job: bool, task_values: dict[str, dict[str, Any]]) -> Any:
        from checkers.notebooks.execute import execute_notebook

        return execute_notebook(path=path, parameters=parameters, output_path=output_path, timeout=timeout,
                                cell_timeout=cell_timeout, in_job=in_job, task_values=task_values,
                                kernels_ahead=self.kernels_ahead)


def load_ipython_extension(ip: Any) -> None:
    """IPython's entry point, as the kernel starts."""
    kernel.load(ip, notebooks=KernelNotebooks(kernels_ahead=True))


def bind(context_path: str, cwd: str) -> None:
    """Give a pooled kernel its task (the executor sends this call into the kernel before the first cell).

    Its nested runs start their kernels when needed: the executor's kernels keep no pool of their own.
    """
    kernel.bind(context_path, cwd, notebooks=KernelNotebooks(kernels_ahead=False))
