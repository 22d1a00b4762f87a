"""A library Databricks has and the kit's Python lacks: the import fails with the command that installs it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from checkers.runtime.libraries import explain, install_command, missing_module_hint


def _error(code: str) -> ModuleNotFoundError:
    with pytest.raises(ModuleNotFoundError) as info:
        exec(code, {})  # noqa: S102 - the import statement under test
    return info.value


def test_a_missing_library_names_its_pypi_package_and_the_install_command() -> None:
    hint = missing_module_hint(_error("import sklearn.linear_model"))
    assert hint is not None and "scikit-learn" in hint
    assert install_command("install scikit-learn") in hint and "docs/emulation.md#python-libraries" in hint


def test_the_command_fits_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "pip" else real(name))
    assert install_command("install x") == f"uv pip install x --python {sys.executable}"
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object() if name == "pip" else real(name))
    assert install_command("install x") == f"{sys.executable} -m pip install x"


def test_a_wrong_submodule_of_an_installed_package_is_the_notebooks_own_mistake() -> None:
    assert missing_module_hint(_error("import pandas.no_such_part")) is None
    assert missing_module_hint(ModuleNotFoundError("no name given")) is None


def test_explain_adds_the_hint_to_the_message_once() -> None:
    exc = _error("import surely_not_installed_xyz")
    explain(explain(exc))
    assert str(exc).count("Databricks Runtime may have") == 1
    assert str(exc).startswith("No module named 'surely_not_installed_xyz'. ")


def test_plotting_libraries_that_participants_use_are_installed() -> None:
    import matplotlib
    import seaborn

    assert matplotlib.__version__ and seaborn.__version__


@pytest.mark.kernel
def test_in_a_kernel_the_cells_error_carries_the_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from checkers.notebooks.execute import execute_notebook

    monkeypatch.setenv("DAY07_HOME", str(tmp_path / "home"))
    notebook = tmp_path / "imports.py"
    notebook.write_text("# Databricks notebook source\nimport matplotlib.pyplot as plt\n\n# COMMAND ----------\n\n"
                        "import surely_not_installed_xyz\n")
    result: Any = execute_notebook(path=notebook, output_path=tmp_path / "out.ipynb")
    assert result.failure is not None and result.failure.index == 1, result.message
    assert result.failure.ename == "ModuleNotFoundError"
    assert "pip install surely-not-installed-xyz" in result.failure.evalue
    assert "pip install surely-not-installed-xyz" in "\n".join(result.failure.traceback)
