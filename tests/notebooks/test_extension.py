"""The kernels' extension: the runtime gets the executor as its NotebookHost, and executor kernels keep no pool."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from checkers.notebooks import execute, extension
from checkers.runtime import kernel


def test_code_cells_are_the_non_blank_code_cells_numbered_among_all(tmp_path: Path) -> None:
    path = tmp_path / "defs.py"
    path.write_text("# Databricks notebook source\nx = 1\n\n# COMMAND ----------\n\n# MAGIC %md\n# MAGIC Notes\n\n"
                    "# COMMAND ----------\n\ny = x + 1\n")
    assert extension.KernelNotebooks(kernels_ahead=True).code_cells(path) == [(0, "x = 1"), (2, "y = x + 1")]


def test_resolve_finds_the_notebook_without_its_extension(tmp_path: Path) -> None:
    (tmp_path / "child.py").write_text("# Databricks notebook source\nx = 1\n")
    assert extension.KernelNotebooks(kernels_ahead=True).resolve("./child", base=tmp_path) == tmp_path / "child.py"


@pytest.mark.parametrize("ahead", [True, False])
def test_nested_runs_start_kernels_ahead_only_when_told(monkeypatch: pytest.MonkeyPatch, ahead: bool) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(execute, "execute_notebook", lambda **kwargs: calls.append(kwargs) or "result")
    host = extension.KernelNotebooks(kernels_ahead=ahead)
    assert host.execute(path=Path("n.py"), parameters={}, output_path=Path("o.ipynb"), timeout=None,
                        cell_timeout=None, in_job=False, task_values={}) == "result"
    assert calls[0]["kernels_ahead"] is ahead


def test_an_executor_kernel_is_bound_with_a_host_that_keeps_no_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pooled kernel's nested runs start their kernels when needed (it is one of the executor's, used once)."""
    bound: list[tuple[str, str, Any]] = []
    monkeypatch.setattr(kernel, "bind", lambda path, cwd, *, notebooks: bound.append((path, cwd, notebooks)))
    extension.bind("/w/ctx.json", "/w")
    (path, cwd, host), = bound
    assert (path, cwd, host.kernels_ahead) == ("/w/ctx.json", "/w", False)


def test_a_kernel_spec_from_an_older_kit_still_loads_the_runtime_without_a_host(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Old specs name ``checkers.runtime.kernel`` as the extension: the notebook keeps spark and dbutils."""
    loaded: list[Any] = []
    monkeypatch.setattr(kernel, "load", lambda ip, *, notebooks: loaded.append((ip, notebooks)))
    kernel.load_ipython_extension("shell")
    assert loaded == [("shell", None)]


def test_without_a_host_nested_runs_say_how_to_get_one() -> None:
    from checkers.runtime.context import RunContext
    from checkers.runtime.dbutils import DBUtils, WorkflowException

    dbutils = DBUtils(context=RunContext())  # type: ignore[arg-type]
    with pytest.raises(WorkflowException, match="day07 kernel install"):
        dbutils.notebook.run("./child", 60)
