"""Spark errors as Databricks shows them: class, message, SQLSTATE; tables by their workspace names; no JVM frames."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from checkers.runtime import errors_display


def connect_error(condition: str, message: str, **extra: Any) -> Any:
    from pyspark.errors.exceptions.connect import AnalysisException

    return AnalysisException(message=f"[{condition}] {message}", errorClass=condition,
                             messageParameters={"relationName": "`spark_catalog`.`ecommerce`.`x`"},
                             sql_state="42P01", server_stacktrace="org.apache.spark.sql.AnalysisException\n"
                             "\tat org.apache.spark.sql.Foo.bar(Foo.scala:1)", display_server_stacktrace=True, **extra)


def test_names_become_workspace_names_and_nothing_else_changes() -> None:
    text = ("`spark_catalog`.`ecommerce`.`x`, spark_catalog.ecommerce.x, [spark_catalog, ecommerce, x], "
            "my_spark_catalog.t, 'spark_catalog'")
    assert errors_display.workspace_names(text) == (
        "`workspace`.`ecommerce`.`x`, workspace.ecommerce.x, [workspace, ecommerce, x], my_spark_catalog.t, "
        "'spark_catalog'")


def test_clean_drops_the_jvm_frames_keeps_them_for_the_log_and_links_kit_differences() -> None:
    exc = connect_error("TABLE_OR_VIEW_NOT_FOUND", "The table or view `spark_catalog`.`ecommerce`.`x` cannot be "
                        "found. SQLSTATE: 42P01")
    assert "JVM stacktrace" in str(exc)
    errors_display.clean(exc)
    assert str(exc) == ("[TABLE_OR_VIEW_NOT_FOUND] The table or view `workspace`.`ecommerce`.`x` cannot be found. "
                        "SQLSTATE: 42P01")
    assert exc.getMessageParameters() == {"relationName": "`workspace`.`ecommerce`.`x`"}
    assert "Foo.scala" in exc.getStackTrace()
    differs = errors_display.clean(connect_error("UNSUPPORTED_FEATURE.TIME_TRAVEL", "Time travel on the relation."))
    assert str(differs).endswith("See docs/emulation.md#time-travel.")


def test_a_missing_volume_file_is_named_by_its_volumes_path_and_says_where_the_sample_is(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Spark sees the local folder; the learner wrote /Volumes/…: the message names the path as written."""
    from checkers.signals import VOLUMES_ROOT

    monkeypatch.setenv(VOLUMES_ROOT, str(tmp_path / "volumes"))
    local = f"file:{tmp_path / 'volumes'}/workspace/default/kaggle/2019-Oct.csv"
    exc = errors_display.clean(connect_error("PATH_NOT_FOUND", f"Path does not exist: {local}. SQLSTATE: 42K03"))
    text = str(exc)
    assert "Path does not exist: /Volumes/workspace/default/kaggle/2019-Oct.csv." in text
    assert str(tmp_path) not in text
    assert "/Volumes/workspace/ecommerce/ecommerce_data/" in text and "day07 volumes cp" in text
    other = errors_display.clean(connect_error("PATH_NOT_FOUND", "Path does not exist: file:/data/x.csv."))
    assert "day07 volumes cp" not in str(other)  # a path outside /Volumes gets no volume hint


def test_the_cli_prints_a_spark_error_in_one_message(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    import checkers.cli as cli

    def fail(args: Any) -> int:
        raise connect_error("TABLE_OR_VIEW_NOT_FOUND", "The table or view `spark_catalog`.`s`.`t` cannot be found.")

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", lambda self, argv=None: argparse.Namespace(func=fail))
    monkeypatch.setattr(cli.err_console, "width", 300)
    assert cli.main(["anything"]) == cli.EXIT_UNUSABLE
    err = capsys.readouterr().err
    assert "error: [TABLE_OR_VIEW_NOT_FOUND] The table or view `workspace`.`s`.`t` cannot be found." in err
    assert "JVM" not in err and "Foo.scala" not in err and "Traceback" not in err


def test_a_cell_shows_its_own_frames_and_the_log_gets_the_full_trace(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def library_call() -> None:
        raise connect_error("TABLE_OR_VIEW_NOT_FOUND", "The table or view `spark_catalog`.`s`.`t` cannot be found.")

    def run_code(code: Any, namespace: dict[str, Any]) -> BaseException:
        """Like IPython's ``run_code``: the frame that catches what a cell raised."""
        try:
            exec(code, namespace)  # noqa: S102 - a notebook cell
        except Exception as exc:  # noqa: BLE001 - the point
            return exc
        raise AssertionError("the cell did not fail")

    for func, name in ((library_call, "fake.py"), (run_code, "interactiveshell.py")):
        func.__code__ = func.__code__.replace(co_filename=str(Path(sys.prefix) / "lib" / name))
    cell = compile("def report():\n    library_call()\nreport()\n", "<ipython-cell-7>", "exec")
    error = run_code(cell, {"library_call": library_call})
    monkeypatch.setattr(errors_display, "_WORK_DIR", [])
    errors_display.log_into(str(tmp_path))  # as the kernel does with its run's work folder
    lines = errors_display.render_traceback(error)
    shown = "\n".join(lines)
    assert '"<ipython-cell-7>", line 2, in report' in shown
    assert "fake.py" not in shown and "interactiveshell.py" not in shown and "Foo.scala" not in shown
    assert "`workspace`.`s`.`t`" in shown and lines[-1].endswith(str(tmp_path / "errors.log"))
    logged = (tmp_path / "errors.log").read_text()
    assert "fake.py" in logged and "Foo.scala" in logged


def test_every_docs_link_in_a_runtime_message_has_its_section() -> None:
    """Messages say ``See docs/emulation.md#<anchor>``: each anchor must be a heading of that page."""
    import re

    import checkers

    root = Path(checkers.__file__).parent / "runtime"
    source = "\n".join(p.read_text(encoding="utf-8") for p in root.rglob("*.py"))
    used = set(re.findall(r"emulation\.md#([a-z0-9-]+)", source))
    used |= set(re.findall(r"docs_link\(\"([a-z0-9-]+)\"\)", source))
    used |= set(re.findall(r"anchor=\"([a-z0-9-]+)\"", source))
    used |= set(errors_display.KIT_DIFFERENCES.values()) | {"databricks-only-sql"}
    page = (root.parents[1] / "docs" / "emulation.md").read_text(encoding="utf-8")
    headings = {re.sub(r"[^a-z0-9 -]", "", h.lower()).strip().replace(" ", "-")
                for h in re.findall(r"^#+ (.+)$", page, re.M)}
    assert used >= {"delta-lake", "time-travel", "tables-that-a-query-overwrites", "optimize-and-vacuum"}
    assert used <= headings, used - headings


@pytest.mark.parametrize(("condition", "message", "why"), [
    ("UNRESOLVED_ROUTINE", "Cannot resolve routine `ai_query` on search path [`system`.`builtin`].", "model serving"),
    ("UNRESOLVED_ROUTINE", "Cannot resolve routine `secret` on search path [`system`.`builtin`].", "workspace"),
    ("UNRESOLVABLE_TABLE_VALUED_FUNCTION", "Could not resolve `table_changes` to a table-valued function.",
     "change data feed"),
    ("PARSE_SYNTAX_ERROR", "Syntax error at or near 'MATERIALIZED'. SQLSTATE: 42601", "Lakeflow pipelines"),
    ("PARSE_SYNTAX_ERROR", "Syntax error at or near 'AS': missing 'RETURN'.\n== SQL ==\nCREATE FUNCTION f(x INT) "
     "RETURNS INT LANGUAGE PYTHON AS $$ return x $$", "Python run in Unity Catalog"),
])
def test_a_databricks_only_feature_says_so_and_links_the_docs(condition: str, message: str, why: str) -> None:
    text = str(errors_display.clean(connect_error(condition, message)))
    assert "This runs only on Databricks" in text and why in text
    assert text.endswith("see docs/emulation.md#databricks-only-sql.")
    plain = str(errors_display.clean(connect_error("UNRESOLVED_ROUTINE", "Cannot resolve routine `nosuchfn`.")))
    assert "only on Databricks" not in plain  # a typo is not a Databricks feature
