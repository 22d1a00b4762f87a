"""Dynamic value references: finding them, resolving them, and the errors Databricks gives."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from checkers.errors import CheckersError
from checkers.jobs.refs import RefContext, RefError, find_refs, name_problem, resolve

BERLIN_SUMMER = timezone(timedelta(hours=2))

CONTEXT = RefContext(
    job_id=6,
    job_name="day07-medallion",
    run_id=550315892394120,
    repair_count=1,
    start_time=datetime(2026, 3, 29, 1, 30, 15, tzinfo=BERLIN_SUMMER),  # 2026-03-28 23:30:15 UTC, a Saturday
    trigger_type="periodic",
    job_parameters={"schema": "day07", "source-path": "/Volumes/raw"},
    task_name="silver",
    task_run_id=99,
    execution_count=2,
    notebook_path="/Workspace/Users/me/day07/02_silver",
    task_values={"bronze": {"bronze_rows": 42, "ok": True, "label": "fine", "stats": {"n": 1}},
                 "bronze-1": {"row count": 7}},
    task_result_states={"bronze": "SUCCESS"},
    workspace_id=1234567890,
    workspace_url="https://adb-1234567890.1.azuredatabricks.net",
)


@pytest.mark.parametrize(("text", "expected"), [
    ("job_{{job.run_id}}", "job_550315892394120"),
    ("{{job.id}}", "6"),
    ("{{job.name}}", "day07-medallion"),
    ("{{job.repair_count}}", "1"),
    ("{{job.trigger.type}}", "periodic"),
    ("{{job.start_time.iso_date}}", "2026-03-28"),  # start times are UTC
    ("{{job.start_time.iso_datetime}}", "2026-03-28T23:30:15"),
    ("{{job.start_time.is_weekday}}", "false"),
    ("{{job.parameters.schema}}", "day07"),
    ("{{job.parameters.`source-path`}}/events.csv", "/Volumes/raw/events.csv"),
    ("{{task.name}}", "silver"),
    ("{{task.run_id}}", "99"),
    ("{{task.execution_count}}", "2"),
    ("{{task.notebook_path}}", "/Workspace/Users/me/day07/02_silver"),
    ("{{tasks.bronze.values.bronze_rows}}", "42"),
    ("{{tasks.bronze.values.ok}}", "true"),  # booleans serialise to true/false
    ("{{tasks.bronze.values.label}}", "fine"),  # text goes in without quotes
    ("{{tasks.bronze.values.stats}}", '{"n": 1}'),
    ("{{tasks.`bronze-1`.values.`row count`}}", "7"),
    ("{{tasks.bronze.result_state}}", "SUCCESS"),
    ("{{workspace.id}}", "1234567890"),
    ("{{workspace.url}}", "https://adb-1234567890.1.azuredatabricks.net"),
    ("{{ job.id }}", "6"),
    ("{{job.id}", "{{job.id}"),  # a missing brace: literal text
    ("{job.id}}", "{job.id}}"),
    ("{{my.value}}", "{{my.value}}"),  # unknown namespace: literal text
    ("{{}}", "{{}}"),
    ("a {{job.id}} b {{job.id} c", "a 6 b {{job.id} c"),
    ("no references here", "no references here"),
])
def test_resolution_table(text: str, expected: str) -> None:
    assert resolve(text, context=CONTEXT) == expected


@pytest.mark.parametrize(("text", "reference", "fragment"), [
    ("{{job.naem}}", "{{job.naem}}", "did you mean `{{job.name}}`"),
    ("x {{job.parameters}} y", "{{job.parameters}}", "not a dynamic value reference"),
    ("{{task.nmae}}", "{{task.nmae}}", "did you mean `{{task.name}}`"),
    ("{{tasks.bronze.value.bronze_rows}}", "{{tasks.bronze.value.bronze_rows}}", "not a dynamic value reference"),
    ("{{job.parameters.catalog}}", "{{job.parameters.catalog}}", "no parameter `catalog`"),
    ("{{tasks.bronze.values.missing}}", "{{tasks.bronze.values.missing}}", "set no task value `missing`"),
    ("{{tasks.gold.values.x}}", "{{tasks.gold.values.x}}", "set no task value"),
    ("{{tasks.gold.run_id}}", "{{tasks.gold.run_id}}", "has not run"),
])
def test_unknown_names_in_known_namespaces_raise_naming_the_reference(text: str, reference: str,
                                                                      fragment: str) -> None:
    with pytest.raises(RefError) as info:
        resolve(text, context=CONTEXT)
    assert isinstance(info.value, CheckersError)
    assert info.value.reference == reference
    assert reference in info.value.message
    assert fragment in info.value.message


def test_notebook_path_of_a_task_without_notebook_is_an_error() -> None:
    ctx = RefContext(task_name="has_rows", notebook_path=None)
    with pytest.raises(RefError, match="runs no notebook"):
        resolve("{{task.notebook_path}}", context=ctx)


def test_find_refs_positions_paths_and_backticks() -> None:
    text = "x={{tasks.`my.task`.values.k}}, y={{job.id}}, z={{job.id}"
    refs = find_refs(text)

    assert [r.path for r in refs] == [("tasks", "my.task", "values", "k"), ("job", "id")]
    assert [text[r.start:r.end] for r in refs] == ["{{tasks.`my.task`.values.k}}", "{{job.id}}"]
    assert refs[0].task_key == "my.task"
    assert refs[0].name == "tasks.`my.task`.values.k"
    assert all(r.known for r in refs)
    assert not find_refs("{{other.thing}}")[0].known


def test_name_problem_only_judges_known_namespaces() -> None:
    (known_bad,) = find_refs("{{workspace.uri}}")
    (unknown,) = find_refs("{{foo.bar}}")
    (good,) = find_refs("{{job.parameters.anything}}")

    assert name_problem(known_bad) is not None and "workspace.url" in name_problem(known_bad)
    assert name_problem(unknown) is None
    assert name_problem(good) is None
