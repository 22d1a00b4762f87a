"""The notebook context in Databricks' shape, and the check cells that read it to skip in a job run (issue 19)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from checkers.feedback import JOB_RUN_NOTE, feedback, in_job_run
from checkers.runtime.context import RunContext
from checkers.runtime.dbutils import DBUtils
from checkers.runtime.notebook_context import NoSuchElementException
from checkers.signals import SPARK_PREWARM


def _context(dbutils: DBUtils) -> Any:
    return dbutils.notebook.entry_point.getDbutils().notebook().getContext()


def test_a_job_task_has_the_job_and_run_ids_where_databricks_puts_them() -> None:
    db = DBUtils(context=RunContext(in_job=True, task_key="silver", job_id=7, job_run_id=8, task_run_id=9,
                                    notebook_path="/work/02_silver.ipynb"))
    ctx = _context(db)
    assert ctx.tags().get("jobId").isDefined() and ctx.tags().get("jobId").get() == "7"
    assert ctx.tags().get("multitaskParentRunId").get() == "8" and ctx.tags().apply("runId") == "9"
    assert ctx.jobId().get() == "7" and ctx.currentRunId().get().id() == 9
    assert str(ctx.currentRunId().get()) == "RunId(9)"
    assert ctx.notebookPath().get() == "/work/02_silver"
    attributes = json.loads(ctx.safeToJson())["attributes"]
    assert (attributes["jobId"], attributes["multitaskParentRunId"], attributes["currentRunId"]) == ("7", "8", "9")
    full = json.loads(ctx.toJson())  # the shape audit cells read: json.loads(ctx.toJson())["tags"]["jobId"]
    assert (full["tags"]["jobId"], full["tags"]["runId"], full["tags"]["taskKey"]) == ("7", "9", "silver")
    assert full["currentRunId"] == {"id": 9} and full["rootRunId"] == {"id": 8}
    assert full["extraContext"]["notebook_path"] == "/work/02_silver" and full["tags"]["user"]
    assert in_job_run(db)


def test_interactively_there_is_no_job_id() -> None:
    db = DBUtils(context=RunContext(parameters={"schema": "x"}))
    ctx = _context(db)
    assert not ctx.tags().get("jobId").isDefined() and ctx.jobId().isEmpty()
    assert ctx.jobId().getOrElse("none") == "none"
    with pytest.raises(NoSuchElementException, match="None.get"):
        ctx.currentRunId().get()
    with pytest.raises(NoSuchElementException, match="key not found: jobId"):
        ctx.tags().apply("jobId")
    assert "jobId" not in json.loads(ctx.safeToJson())["attributes"]
    full = json.loads(ctx.toJson())
    assert "jobId" not in full["tags"] and full["currentRunId"] is None and full["tags"]["user"]
    assert not in_job_run(db)


def test_a_task_the_kit_runs_without_ids_is_still_a_job_task() -> None:
    assert in_job_run(DBUtils(context=RunContext(in_job=True)))


class _Option:
    def __init__(self, value: Any = None) -> None:
        self.value = value

    def isDefined(self) -> bool:  # noqa: N802 - Scala's name
        return self.value is not None

    def get(self) -> Any:
        return self.value


class _SharedClusterContext:
    """What shared and serverless compute allow: tags() and jobId() are not whitelisted, safeToJson() is."""

    def __init__(self, attributes: dict[str, str]) -> None:
        self.attributes = attributes

    def safeToJson(self) -> str:  # noqa: N802 - Databricks' name
        return json.dumps({"attributes": self.attributes})

    def tags(self) -> Any:
        raise RuntimeError("py4j.security.Py4JSecurityException: Method public scala.collection.immutable.Map "
                           "com.databricks.backend.common.rpc.CommandContext.tags() is not whitelisted")

    jobId = tags  # noqa: N815 - Databricks' name


class _ClassicContext:
    """An older runtime: no safeToJson, but tags()."""

    def __init__(self, job_id: str | None) -> None:
        self.job_id = job_id

    def tags(self) -> Any:
        return type("Tags", (), {"get": lambda _self, key: _Option(self.job_id if key == "jobId" else None)})()


def _dbutils(context: Any) -> Any:
    handle = type("Handle", (), {"getContext": lambda _self: context})()
    java = type("Java", (), {"notebook": lambda _self: handle})()
    entry = type("Entry", (), {"getDbutils": lambda _self: java})()
    return type("DBUtils", (), {"notebook": type("Nb", (), {"entry_point": entry})()})()


@pytest.mark.parametrize(("context", "expected"), [
    (_SharedClusterContext({"user": "a@b.c", "jobId": "123", "multitaskParentRunId": "456"}), True),
    (_SharedClusterContext({"user": "a@b.c", "notebook_path": "/Users/a/x"}), False),
    (_ClassicContext("123"), True),
    (_ClassicContext(None), False),
], ids=["safeToJson-job", "safeToJson-interactive", "tags-job", "tags-interactive"])
def test_every_form_of_the_databricks_context_is_read(context: Any, expected: bool) -> None:
    assert in_job_run(_dbutils(context)) is expected


def test_no_dbutils_at_all_is_not_a_job() -> None:
    assert not in_job_run(None)


def test_in_a_job_a_check_cell_prints_one_line_and_imports_nothing_heavy(capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    before = set(sys.modules)
    feedback("silver.price", {"dbutils": DBUtils(context=RunContext(in_job=True, job_id=1))})
    assert capsys.readouterr().out == f"ℹ️ silver.price: {JOB_RUN_NOTE}\n"
    assert not {m for m in set(sys.modules) - before if m.startswith("checkers.feedback.")}


@pytest.mark.kernel
def test_the_runner_gives_a_task_its_ids_and_the_kernel_shows_them(tmp_path: Path) -> None:
    from checkers.notebooks.execute import execute_notebook

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "ctx = dbutils.notebook.entry_point.getDbutils().notebook().getContext()\n"
        "print(ctx.tags().get('jobId').getOrElse('-'), ctx.currentRunId().getOrElse('-'), ctx.safeToJson())")]
    path = tmp_path / "ids.ipynb"
    nbformat.write(nb, str(path))
    env = {SPARK_PREWARM: "0"}
    job = execute_notebook(path=path, in_job=True, task_key="gold", job_ids=(11, 22, 33), env=env,
                           output_path=tmp_path / "job.ipynb")
    by_hand = execute_notebook(path=path, env=env, output_path=tmp_path / "hand.ipynb")
    assert job.ok and by_hand.ok
    said = [nbformat.read(str(tmp_path / name), as_version=4).cells[0].outputs[0]["text"]
            for name in ("job.ipynb", "hand.ipynb")]
    first, _, rest = said[0].partition(" RunId(33) ")
    assert first == "11" and json.loads(rest)["attributes"]["multitaskParentRunId"] == "22"
    assert said[1].startswith("- - ") and "jobId" not in said[1]


def test_a_check_cell_with_no_record_at_all_asks_for_the_task_value() -> None:
    """Neither the kit's runtime record nor Databricks' input history: the count check says what to set."""
    from checkers.feedback.quality import _task_value

    verdict, message = _task_value({}, expected=3)
    assert message.startswith("no task value bad_rows yet")
