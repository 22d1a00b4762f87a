"""Databricks magics: the first-line transform, SQL splitting and parameters, and a real kernel running them all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from checkers.runtime.catalog_names import DELTA_NOTICE
from checkers.runtime.libraries import install_command
from checkers.runtime.magics import (
    bang_pip,
    databricks_cell_transform,
    install_transforms,
    leading_indent,
    parameter_names,
    pip_notice,
)
from checkers.runtime.sql_tokens import split_statements


def _transform(cell: str) -> list[str]:
    return databricks_cell_transform(cell.splitlines(keepends=True))


@pytest.mark.parametrize(("cell", "expected"), [
    ("%sql\nSELECT 1\n", ["%%sql\n", "SELECT 1\n"]),
    ("\n%sql\nSELECT 1", ["%%sql\n", "SELECT 1"]),
    ("%md-sandbox\n# Title\n", ["%%md\n", "# Title\n"]),
    ("%python\nx = 1\n", ["x = 1\n"]),
    ("%fs ls /tmp\n", ["%fs ls /tmp\n"]),
    ("%run ./helpers/setup\n\n", ["%run ./helpers/setup\n"]),
    ("%sh -e\nls\n", ["%%sh -e\n", "ls\n"]),
])
def test_a_magic_on_the_first_line_takes_the_whole_cell(cell: str, expected: list[str]) -> None:
    assert _transform(cell) == expected


@pytest.mark.parametrize("cell", ["x = 1\n%sql SELECT 1\n", "%unknown\nbody\n", "%%sql\nSELECT 1\n", "%sqlx\n1\n",
                                  "# %sql\nx = 1\n", ""])
def test_other_cells_are_left_alone(cell: str) -> None:
    lines = cell.splitlines(keepends=True)
    assert databricks_cell_transform(lines) == lines


def test_ipython_turns_a_sql_cell_into_a_cell_magic_call() -> None:
    manager = TransformerManager()
    manager.cleanup_transforms.append(databricks_cell_transform)
    code = manager.transform_cell("%sql\nSELECT ';' AS a;\nSELECT 2\n")
    assert code.startswith("get_ipython().run_cell_magic('sql', '', ")
    assert "SELECT ';' AS a;\\nSELECT 2" in code
    assert manager.transform_cell("%python\nprint(1)\n") == "print(1)\n"


def test_statements_split_on_semicolons_outside_quotes_and_comments() -> None:
    sql = ("-- setup; first\nCREATE SCHEMA x;\nSELECT 'a;b' AS s, \"c;d\" AS t, `e;f` FROM x.y /* ; */;\n"
           " ; \n-- only a comment;\n")
    assert split_statements(sql) == ["-- setup; first\nCREATE SCHEMA x",
                                     "SELECT 'a;b' AS s, \"c;d\" AS t, `e;f` FROM x.y /* ; */"]


def test_named_parameters_are_found_outside_strings_and_casts() -> None:
    sql = "SELECT x::int, ':skip', :layer FROM t WHERE d >= :start AND e = :layer -- :comment"
    assert parameter_names(sql) == ["layer", "start"]


def test_pip_is_a_notice_that_says_how_to_install() -> None:
    text = pip_notice("install pandas surely-not-installed-xyz==1.0 -q")
    assert "not run by the local Day 07 kit" in text
    assert install_command("install pandas surely-not-installed-xyz==1.0 -q") in text
    assert "Already installed: pandas " in text and "Not installed: surely-not-installed-xyz." in text


# --- a real kernel ------------------------------------------------------------------------------------------

def _outputs(nb: Any, index: int) -> str:
    """Everything a cell showed, as text (streams, plain text, markdown)."""
    parts: list[str] = []
    for out in nb.cells[index].get("outputs", []):
        parts.append(out.get("text", ""))
        data = out.get("data", {})
        parts += [data.get("text/plain", ""), data.get("text/markdown", "")]
    return "\n".join(parts)


def _find(nb: Any, needle: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and needle in c.source)


def _run_example(path: Path, spark_endpoint: Any, tmp_path: Path) -> tuple[Any, Any]:
    """Run an example notebook in a kernel; it must run to the end. Returns the result and the executed notebook."""
    from checkers.notebooks.execute import execute_notebook
    from checkers.spark.client import kernel_env

    out = tmp_path / f"{path.stem}.ipynb"
    result = execute_notebook(path=path, output_path=out, env=kernel_env(spark_endpoint))
    assert result.ok, (result.message, result.failure and result.failure.traceback[-5:])
    return result, nbformat.read(out, as_version=4)


@pytest.mark.spark
@pytest.mark.kernel
def test_every_magic_runs_in_an_exported_ipynb(files: Path, spark_endpoint: Any, tmp_path: Path) -> None:
    result, nb = _run_example(files / "databricks" / "magics_tour.ipynb", spark_endpoint, tmp_path)
    # The notebook asserts its own state (_sqldf, widgets in SQL, %run, dbutils.fs); here: what it showed.
    sql = _outputs(nb, _find(nb, "first_label FROM"))
    assert "item;0" in sql and "5" in sql
    assert "hello.txt" in _outputs(nb, _find(nb, "%fs ls"))
    assert _outputs(nb, _find(nb, "%fs head")).strip() == "hi there"
    assert "pip install pandas" in _outputs(nb, _find(nb, "%pip"))
    shell = _outputs(nb, _find(nb, "%sh"))
    assert "shell says hi" in shell and "2019-Oct.csv" in shell
    assert "## Rendered by %md in a code cell" in _outputs(nb, _find(nb, "Rendered by %md"))
    assert "done" in _outputs(nb, _find(nb, "'done' AS status"))
    notes = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "Note: Delta" in _outputs(nb, i)]
    assert len(notes) == 1, "the Delta notice shows once per notebook"
    assert result.record.notices == [DELTA_NOTICE]


@pytest.mark.spark
@pytest.mark.kernel
def test_a_sql_source_notebook_declares_and_removes_widgets_as_on_databricks(files: Path, spark_endpoint: Any,
                                                                tmp_path: Path) -> None:
    from checkers.notebooks.execute import execute_notebook
    from checkers.spark.client import kernel_env

    result = execute_notebook(path=files / "databricks" / "sql_widgets.sql", output_path=tmp_path / "out.ipynb",
                              parameters={"schema": "from_the_job"}, env=kernel_env(spark_endpoint))
    assert result.ok, (result.message, result.failure and result.failure.traceback[-5:])
    declared = {w.name: (w.kind, w.default, w.choices) for w in result.record.widgets}
    assert declared["schema"] == ("text", "day07", None)
    assert declared["layer"] == ("dropdown", "bronze", ["bronze", "silver", "gold"])  # from the CHOICES query


def test_a_first_line_indent_is_removed_as_ipython_8_did() -> None:
    manager = TransformerManager()
    install_transforms(manager.cleanup_transforms)
    assert manager.transform_cell(" from os import path\n\nprint(path.sep)\n") == \
        "from os import path\n\nprint(path.sep)\n"
    assert leading_indent(["\tx = 1\n", "y = 2\n", "\tz = 3\n"]) == ["x = 1\n", "y = 2\n", "z = 3\n"]
    assert manager.transform_cell("\n  a = 1\n  b = 2\n") == "a = 1\nb = 2\n"


def test_bang_pip_becomes_the_kits_pip_notice() -> None:
    manager = TransformerManager()
    install_transforms(manager.cleanup_transforms)
    assert bang_pip(["!pip install kaggle\n", "!pip3 install -q a b\n", "!python -m pip install c\n", "!ls\n",
                     "!pip --version\n"]) == [
        "%pip install kaggle\n", "%pip install -q a b\n", "%pip install c\n", "!ls\n", "!pip --version\n"]
    assert manager.transform_cell("!pip install kaggle\n") == "get_ipython().run_line_magic('pip', 'install kaggle')\n"


@pytest.mark.spark
@pytest.mark.kernel
def test_cell_quirks_databricks_accepts_run_here(files: Path, spark_endpoint: Any, tmp_path: Path) -> None:
    """A first line indented, %fs with its command on the next line, !pip, %restart_python, display(fs.ls)."""
    _, nb = _run_example(files / "databricks" / "cell_quirks.py", spark_endpoint, tmp_path)
    assert "a.txt" in _outputs(nb, _find(nb, "%fs"))
    pip = _outputs(nb, _find(nb, "!pip"))
    assert "not run by the local Day 07 kit" in pip and "Not installed: surely-not-installed-xyz." in pip
    assert "nothing to restart locally" in _outputs(nb, _find(nb, "%restart_python"))
    last = _outputs(nb, _find(nb, "still here"))
    assert "modificationTime" in last and "FileInfo(" not in last and "still here: ran" in last
