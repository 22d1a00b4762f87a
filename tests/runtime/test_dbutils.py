"""dbutils semantics as Databricks documents them, checked directly on the runtime objects (no kernel needed)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from checkers.runtime.context import RunContext, RuntimeRecord
from checkers.runtime.dbutils import TASK_VALUE_LIMIT, DBUtils, NotebookExit, WorkflowException
from checkers.runtime.widgets import InputWidgetNotDefined, InvalidWidgetArgument


def make(parameters: dict[str, str] | None = None, **kw: object) -> DBUtils:
    return DBUtils(context=RunContext(parameters=parameters or {}, **kw))  # type: ignore[arg-type]


def reporting() -> tuple[DBUtils, RuntimeRecord]:
    """A dbutils whose events build a record as the executor builds it (each event as it is emitted)."""
    seen = RuntimeRecord()
    db = DBUtils(context=RunContext(report_events=True), emit=lambda kind, **fields: seen.apply({"kind": kind,
                                                                                                  **fields}))
    return db, seen


class TestWidgets:
    def test_default_applies_when_nothing_passed(self) -> None:
        db = make()
        db.widgets.text("schema", "day07")
        assert db.widgets.get("schema") == "day07"

    def test_passed_value_wins_over_default_and_declaring_does_not_overwrite_it(self) -> None:
        db = make({"schema": "grader_1"})
        db.widgets.text("schema", "day07")
        db.widgets.text("schema", "again")
        assert db.widgets.get("schema") == "grader_1"

    def test_passed_value_readable_without_declaration(self) -> None:
        db = make({"source_path": "/tmp/x.csv"})
        assert db.widgets.get("source_path") == "/tmp/x.csv"

    def test_undefined_widget_error_names_it_and_the_existing_ones(self) -> None:
        db = make({"passed": "1"})
        db.widgets.text("schema", "day07")
        with pytest.raises(InputWidgetNotDefined) as info:
            db.widgets.get("layer")
        message = str(info.value)
        assert "'layer'" in message and "schema" in message and "passed" in message

    def test_dropdown_default_must_be_a_choice(self) -> None:
        db = make()
        with pytest.raises(InvalidWidgetArgument, match="'platinum'.*not one of its choices"):
            db.widgets.dropdown("layer", "platinum", ["bronze", "silver", "gold"])
        with pytest.raises(InvalidWidgetArgument):
            db.widgets.multiselect("layers", "x", ["bronze"])

    def test_combobox_default_may_be_outside_choices(self) -> None:
        db = make()
        db.widgets.combobox("colour", "teal", ["red", "blue"])
        assert db.widgets.get("colour") == "teal"

    def test_multiselect_value_comes_back_comma_joined(self) -> None:
        db = make({"layers": "bronze,gold"})
        db.widgets.multiselect("layers", "bronze", ["bronze", "silver", "gold"])
        assert db.widgets.get("layers") == "bronze,gold"

    def test_get_all_has_declared_and_passed_values(self) -> None:
        db = make({"layer": "gold", "extra": "e"})
        db.widgets.dropdown("layer", "bronze", ["bronze", "silver", "gold"])
        db.widgets.text("schema", "day07")
        assert db.widgets.getAll() == {"layer": "gold", "schema": "day07", "extra": "e"}

    def test_get_argument_returns_default_instead_of_raising(self) -> None:
        db = make()
        with pytest.warns(DeprecationWarning):
            assert db.widgets.getArgument("missing", "fallback") == "fallback"

    def test_remove_and_remove_all(self) -> None:
        db = make()
        db.widgets.text("a", "1")
        db.widgets.text("b", "2")
        db.widgets.remove("a")
        with pytest.raises(InputWidgetNotDefined):
            db.widgets.get("a")
        db.widgets.removeAll()
        with pytest.raises(InputWidgetNotDefined):
            db.widgets.get("b")

    def test_declarations_are_reported_for_the_grader_as_they_happen(self) -> None:
        db, record = reporting()
        db.widgets.text("source_path", "/x", "Source")
        assert [w.name for w in record.widgets] == ["source_path"]
        db.widgets.dropdown("layer", "bronze", ["bronze", "silver", "gold"])
        db.widgets.get("layer")
        assert [(w.name, w.kind, w.default, w.choices, w.label) for w in record.widgets] == [
            ("source_path", "text", "/x", None, "Source"),
            ("layer", "dropdown", "bronze", ["bronze", "silver", "gold"], None),
        ]
        assert record.widgets_read == ["layer"]


class TestTaskValues:
    def test_outside_a_job_get_returns_debug_value(self) -> None:
        db = make()
        assert db.jobs.taskValues.get("bronze", "bronze_rows", debugValue=7) == 7

    def test_outside_a_job_without_debug_value_raises_type_error(self) -> None:
        db = make()
        with pytest.raises(TypeError, match="debugValue"):
            db.jobs.taskValues.get("bronze", "bronze_rows", default=3)

    def test_in_a_job_get_reads_upstream_value(self) -> None:
        db = make(in_job=True, task_values={"bronze": {"bronze_rows": 120}})
        assert db.jobs.taskValues.get("bronze", "bronze_rows", debugValue=1) == 120

    def test_in_a_job_missing_key_returns_default_or_raises(self) -> None:
        db = make(in_job=True, task_values={"bronze": {"bronze_rows": 120}})
        assert db.jobs.taskValues.get("bronze", "other", default=5) == 5
        with pytest.raises(ValueError, match="set no value named 'other'"):
            db.jobs.taskValues.get("bronze", "other")
        with pytest.raises(ValueError, match="No task values from task 'silver'"):
            db.jobs.taskValues.get("silver", "x")

    def test_set_must_be_json_serialisable_and_small(self) -> None:
        db, record = reporting()
        db.jobs.taskValues.set("rows", 12)
        db.jobs.taskValues.set("flag", True)
        with pytest.raises(TypeError, match="JSON-serialisable"):
            db.jobs.taskValues.set("bad", object())
        with pytest.raises(ValueError, match="48 KiB"):
            db.jobs.taskValues.set("big", "x" * TASK_VALUE_LIMIT)
        assert record.task_values == {"rows": 12, "flag": True}
        db.record.task_values["rows"] = 10**6  # a later change in the kernel is not reported
        assert record.task_values == {"rows": 12, "flag": True}


class TestNotebook:
    def test_exit_records_value_and_is_not_an_exception_subclass(self) -> None:
        db, record = reporting()
        with pytest.raises(NotebookExit) as info:
            try:
                db.notebook.exit(json.dumps({"a": 1}))
            except Exception:  # a learner's broad except must not swallow the exit
                pytest.fail("dbutils.notebook.exit was caught by `except Exception`")
        assert info.value.value == '{"a": 1}'
        assert record.exited and record.exit_value == '{"a": 1}'

    def test_run_without_a_runner_is_a_workflow_exception(self) -> None:
        with pytest.raises(WorkflowException):
            make().notebook.run("./child", 10, {})


class TestWhatOnlyAWorkspaceHas:
    """Calls written on Databricks that have no local counterpart get an answer or a message naming the call."""

    def test_older_notebooks_read_their_parameters_from_the_current_bindings(self) -> None:
        bindings = make({"schema": "grade_x"}).notebook.entry_point.getCurrentBindings()
        assert bindings["schema"] == "grade_x" and bindings.get("missing") is None

    def test_the_context_names_the_user_and_has_no_workspace_facts(self) -> None:
        from checkers.runtime.notebook_context import NoSuchElementException

        context = make().notebook.entry_point.getDbutils().notebook().getContext()
        assert context.userName().get() == context.tags().apply("user")
        for missing in (context.apiUrl(), context.apiToken(), context.clusterId(), context.browserHostName(),
                        context.workspaceId()):
            assert missing.getOrElse("none") == "none"
            with pytest.raises(NoSuchElementException):
                missing.get()

    @pytest.mark.parametrize(("owner", "call"), [
        (lambda db: db.notebook.entry_point.getDbutils().notebook().getContext(), "getContext().sparkVersion"),
        (lambda db: db.widgets, "dbutils.widgets.getAllRaw"),
        (lambda db: db.jobs.taskValues, "dbutils.jobs.taskValues.delete"),
        (lambda db: db.notebook, "dbutils.notebook.getContext"),
        (lambda db: db, "dbutils.credentials"),
        (lambda db: db.secrets, "dbutils.secrets.putSecret"),
    ])
    def test_an_unknown_call_names_itself_and_what_is_there(self, owner: Any, call: str) -> None:
        target = owner(make())
        name = call.rsplit(".", 1)[1]
        with pytest.raises(AttributeError, match=rf"^{re.escape(call)} is not part of the kit's local"):
            getattr(target, name)
        assert not hasattr(target, name)
        assert not hasattr(target, "_private")  # private names stay plain: copy, pickle and IPython probe them

    def test_widgets_help_lists_the_methods(self, capsys: pytest.CaptureFixture[str]) -> None:
        make().widgets.help()
        out = capsys.readouterr().out
        assert "dropdown" in out and "getArgument" in out

    def test_fs_has_no_mounts_and_mount_is_a_clear_error(self) -> None:
        from checkers.runtime.fs import LocalFS

        fs = LocalFS()
        assert fs.mounts() == []
        with pytest.raises(AttributeError, match=r"dbutils\.fs\.mount is not part"):
            fs.mount("s3a://bucket", "/mnt/bucket")
