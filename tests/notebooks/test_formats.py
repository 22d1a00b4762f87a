"""Both notebook formats become the same nbformat notebook; broken files give messages that name them."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from checkers.errors import NotebookFormatError
from checkers.notebooks.formats import CELL_META_KEY, find_notebook, parse_source, read_notebook, to_source

SOURCE = """# Databricks notebook source
# MAGIC %md
# MAGIC # Bronze
# MAGIC
# MAGIC Read the raw file.

# COMMAND ----------

# DBTITLE 1,Read CSV
df = spark.read.csv("/tmp/x.csv")

# COMMAND ----------

# MAGIC %sql
# MAGIC SELECT 1
"""


def test_source_format_cells_magics_and_titles() -> None:
    nb = parse_source(SOURCE)
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "code"]
    assert nb.cells[0].source == "# Bronze\n\nRead the raw file."
    assert nb.cells[1].source == 'df = spark.read.csv("/tmp/x.csv")'
    assert nb.cells[1].metadata[CELL_META_KEY]["title"] == "Read CSV"
    assert nb.cells[2].source == "%sql\nSELECT 1"


def test_source_format_round_trips_byte_for_byte() -> None:
    assert to_source(parse_source(SOURCE)) == SOURCE


def test_source_without_header_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "plain.py"
    path.write_text("print(1)\n")
    with pytest.raises(NotebookFormatError) as info:
        read_notebook(path)
    assert "plain.py" in str(info.value) and "# Databricks notebook source" in str(info.value)


def test_invalid_json_names_file_line_and_column(files: Path) -> None:
    with pytest.raises(NotebookFormatError) as info:
        read_notebook(files / "notebooks" / "not_json.ipynb")
    message = str(info.value)
    assert "not_json.ipynb" in message and "line" in message and "column" in message


def test_json_that_is_not_a_notebook(tmp_path: Path) -> None:
    path = tmp_path / "x.ipynb"
    path.write_text('{"hello": 1}')
    with pytest.raises(NotebookFormatError, match="not a notebook"):
        read_notebook(path)


def test_ipynb_export_with_databricks_metadata_reads(files: Path) -> None:
    nb = read_notebook(files / "notebooks" / "widgets_echo.ipynb")
    assert "application/vnd.databricks.v1+notebook" in nb.metadata
    assert any("dbutils.widgets.text" in c.source for c in nb.cells)


def test_find_notebook_prefers_ipynb(files: Path, tmp_path: Path) -> None:
    assert find_notebook(files / "notebooks", "widgets_echo") == files / "notebooks" / "widgets_echo.ipynb"
    assert find_notebook(files / "notebooks", "child") == files / "notebooks" / "child.py"
    assert find_notebook(tmp_path, "nothing") is None


def test_a_notebook_without_cell_ids_gets_them_silently(tmp_path: Path, recwarn: pytest.WarningsRecorder) -> None:
    """Databricks exports and hand-written JSON have no cell ids: no nbformat warning reaches the console."""
    import json

    cell = {"cell_type": "code", "source": "print(1)", "metadata": {}, "outputs": [], "execution_count": None}
    path = tmp_path / "no_ids.ipynb"
    path.write_text(json.dumps({"cells": [cell, dict(cell)], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    nb = read_notebook(path)
    ids = [c.get("id") for c in nb.cells]
    assert all(ids) and len(set(ids)) == 2
    assert not [w for w in recwarn if "id" in str(w.message).lower()], [str(w.message) for w in recwarn]


def test_a_sql_source_notebook_runs_its_plain_cells_as_sql(files: Path) -> None:
    nb = read_notebook(files / "databricks" / "sql_widgets.sql")
    kinds = [(c.cell_type, c.source.splitlines()[0]) for c in nb.cells]
    assert kinds == [("markdown", "A SQL notebook, as a Databricks Git folder commits it: widgets declared the SQL "
                                  "way, one Python cell."),
                     ("code", "%sql"), ("code", "%sql"), ("code", "%python"), ("code", "%sql"), ("code", "%python")]
    assert nb.cells[2].metadata[CELL_META_KEY] == {"title": "Both ways to read a widget in SQL"}
    assert nb.cells[1].source.splitlines()[1] == "-- the job passes schema; layer keeps its default"


def test_a_sql_notebooks_ipynb_export_marks_its_cells_as_sql(tmp_path: Path) -> None:
    import json

    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": source}
             for source in ("SELECT 1", "%python\nx = 1", "", "%md\n# title")]
    path = tmp_path / "02_silver.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 0, "cells": cells, "metadata": {
        "application/vnd.databricks.v1+notebook": {"language": "sql", "notebookName": "02_silver"}}}))
    assert [c.source for c in read_notebook(path).cells] == ["%sql\nSELECT 1", "%python\nx = 1", "", "%md\n# title"]


def test_a_sql_file_without_the_sql_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "02_silver.sql"
    path.write_text("SELECT 1\n", encoding="utf-8")
    with pytest.raises(NotebookFormatError, match="-- Databricks notebook source"):
        read_notebook(path)


def test_the_failure_line_of_an_error_in_a_spark_python_worker_names_the_error() -> None:
    """A UDF's error arrives as a whole traceback whose first line is empty: the run's one-line message names the
    error at its end, not the empty line."""
    from checkers.notebooks.execute import summary_line

    worker = ("\n  An exception was thrown from the Python worker. Please see the stack trace below.\n"
              "Traceback (most recent call last):\n  File \"/x/worker.py\", line 3, in main\n"
              "    import helper\nModuleNotFoundError: No module named 'helper'\n")
    assert summary_line(worker) == "ModuleNotFoundError: No module named 'helper'"
    assert summary_line("[TABLE_OR_VIEW_NOT_FOUND] The table `x` cannot be found.\nmore") == \
        "[TABLE_OR_VIEW_NOT_FOUND] The table `x` cannot be found."
    assert summary_line("") == ""


def test_a_workspace_path_is_the_notebook_at_its_end_here(tmp_path: Path) -> None:
    """`dbutils.notebook.run("/Workspace/Users/me/day07/01_bronze", ...)` and `%run /Users/me/day07/includes/config`
    from `day07/00_widgets`: the notebooks sit in the same folders locally."""
    from checkers.errors import NotebookExecutionError
    from checkers.notebooks.execute import resolve_notebook_path

    root = tmp_path / "day07"
    (root / "includes").mkdir(parents=True)
    (root / "src").mkdir()
    for name in ("01_bronze.py", "includes/config.ipynb", "config.sql", "src/caller.py"):
        (root / name).write_text("# Databricks notebook source\n")
    assert resolve_notebook_path("/Workspace/Users/me@x.com/day07/01_bronze", base=root) == root / "01_bronze.py"
    assert resolve_notebook_path("/Users/me@x.com/day07/includes/config", base=root) == root / "includes/config.ipynb"
    assert resolve_notebook_path("/Repos/me/proj/config", base=root) == root / "config.sql"
    assert resolve_notebook_path("/Workspace/Users/me/day07/includes/config", base=root / "src") == \
        root / "includes/config.ipynb"
    with pytest.raises(NotebookExecutionError, match="workspace path"):
        resolve_notebook_path("/Workspace/Users/me/day07/02_silver", base=root)


def test_saved_widgets_are_read_from_a_databricks_export_and_nothing_else() -> None:
    from checkers.notebooks.formats import saved_widgets

    nb = nbformat.v4.new_notebook()
    assert saved_widgets(nb) == {}
    nb.metadata["application/vnd.databricks.v1+notebook"] = {"widgets": {
        "a": {"widgetInfo": {"defaultValue": "x"}}, "b": {"currentValue": "y"}, "c": {}}}
    assert saved_widgets(nb) == {"a": "x", "b": "y"}
