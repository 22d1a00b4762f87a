"""Loading the three job shapes, bundle variables, notebook matching, syntax errors and export round trips."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from databricks.sdk.service import jobs

from checkers.errors import CheckersError, JobDefinitionError
from checkers.jobs.export import export_job
from checkers.jobs.load import load_job
from checkers.jobs.notebook_match import match_notebook

FILES = Path(__file__).resolve().parent.parent / "files" / "jobs"
NOTEBOOKS = ("01_bronze.py", "02_silver.py", "03_gold.py")


def _copy_notebooks(dest: Path) -> None:
    for name in NOTEBOOKS:
        shutil.copy(FILES / name, dest / name)


def test_bundle_yaml_gives_sdk_settings_raw_dict_and_notebook_map() -> None:
    job = load_job(path=FILES / "day07_job.yml")

    assert job.shape == "bundle"
    assert job.job_key == "day07_job"
    assert isinstance(job.settings, jobs.JobSettings)
    assert [t.task_key for t in job.settings.tasks] == ["bronze", "bronze_has_rows", "silver", "gold"]
    assert job.settings.schedule.quartz_cron_expression == "0 0 2 * * ?"
    assert job.settings.tasks[1].condition_task.op is jobs.ConditionTaskOp.GREATER_THAN
    assert job.settings.tasks[2].depends_on[0].outcome == "true"
    assert job.raw["tasks"][0]["max_retries"] == 2
    assert job.notebooks == {"bronze": FILES / "01_bronze.py", "silver": FILES / "02_silver.py",
                             "gold": FILES / "03_gold.py"}


def test_create_json_matches_workspace_paths_by_stem_next_to_the_file() -> None:
    job = load_job(path=FILES / "day07_job_create.json")

    assert job.shape == "create"
    assert job.job_id is None
    assert job.job_key == "day07_medallion"  # derived from the name "day07-medallion"
    assert job.settings.tasks[0].notebook_task.notebook_path.startswith("/Workspace/Users/")
    assert {k: p.name for k, p in job.notebooks.items()} == {
        "ingest": "01_bronze.py", "clean": "02_silver.py", "aggregate": "03_gold.py"}


def test_jobs_get_json_unwraps_settings_and_keeps_job_id() -> None:
    job = load_job(path=FILES / "day07_job_get.json")

    assert job.shape == "get"
    assert job.job_id == 718238273981232
    assert job.settings.name == "day07-medallion"
    assert job.settings.format is jobs.Format.MULTI_TASK
    assert job.settings.tasks[0].run_if is jobs.RunIf.ALL_SUCCESS
    assert "job_id" not in job.raw and job.document["creator_user_name"] == "learner@example.com"
    assert {k: p.name for k, p in job.notebooks.items()} == {
        "bronze": "01_bronze.py", "silver": "02_silver.py", "gold": "03_gold.py"}


def test_bundle_variables_are_substituted_with_the_field_types_the_cli_would_give() -> None:
    job = load_job(path=FILES / "bundle_with_variables.yml")

    assert job.settings.name == "day07_vars-medallion"  # ${bundle.name}
    assert [(p.name, p.default) for p in job.settings.parameters] == [
        ("schema", "day07_dev"), ("run_date", "2024-01-01")]
    bronze = job.settings.tasks[0]
    assert bronze.max_retries == 3  # "${var.retries}" → the integer field gets an integer
    assert bronze.notebook_task.notebook_path == "./01_bronze.py"
    # YAML 1.2 as the Databricks CLI reads it: `no` stays text, a date stays text
    assert bronze.notebook_task.base_parameters == {"target": "day07_dev.bronze_events", "full_refresh": "no"}
    assert job.notebooks["silver"] == FILES / "02_silver.py"
    assert job.unresolved == []


def test_unresolved_bundle_variable_is_recorded_with_its_key() -> None:
    job = load_job(path=FILES / "bad_unresolved_variable.yml")

    assert [(u.name, u.key) for u in job.unresolved] == [("var.catalog", "parameters[0].default")]
    assert job.settings.parameters[0].default == "${var.catalog}.day07"


def test_bundle_with_several_jobs_needs_a_key() -> None:
    with pytest.raises(JobDefinitionError) as info:
        load_job(path=FILES / "two_jobs.yml")
    assert "first_job" in str(info.value) and "second_job" in str(info.value)

    assert load_job(path=FILES / "two_jobs.yml", job_key="second_job").settings.name == "second"

    with pytest.raises(JobDefinitionError, match="second_job"):
        load_job(path=FILES / "two_jobs.yml", job_key="secnd_job")


def test_yaml_syntax_error_names_file_line_and_column() -> None:
    with pytest.raises(JobDefinitionError) as info:
        load_job(path=FILES / "bad_yaml_syntax.yml")
    message = str(info.value)
    assert "bad_yaml_syntax.yml" in message
    assert "line 10, column 10" in message
    assert "max_retries" in message


def test_json_syntax_error_names_file_and_line() -> None:
    with pytest.raises(JobDefinitionError) as info:
        load_job(path=FILES / "bad_json_syntax.json")
    assert "bad_json_syntax.json" in str(info.value)
    assert "line 5" in str(info.value)


@pytest.mark.parametrize(("name", "text", "fragment"), [
    ("dup.yml", "resources:\n  jobs:\n    j:\n      name: a\n      name: b\n", "duplicate key 'name'"),
    ("dup.json", '{"name": "a", "name": "b"}', "duplicate key 'name'"),
    ("tabs.yml", "resources:\n\tjobs: {}\n", "tab"),
    ("other.yml", "foo: 1\n", "does not look like a job definition"),
    ("list.yml", "- a\n- b\n", "not a mapping"),
    ("empty.yml", "\n", "empty"),
    ("nojobs.yml", "resources:\n  pipelines: {}\n", "no jobs"),
])
def test_unreadable_job_files_raise_a_message_naming_the_file(tmp_path: Path, name: str, text: str,
                                                              fragment: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(JobDefinitionError) as info:
        load_job(path=path)
    assert name in str(info.value)
    assert fragment in str(info.value).lower() or fragment in str(info.value)


def test_missing_job_file_is_a_checkers_error(tmp_path: Path) -> None:
    with pytest.raises(CheckersError, match="not found"):
        load_job(path=tmp_path / "nope.yml")


def test_settings_of_the_wrong_json_types_are_reported_not_crashed_on(tmp_path: Path) -> None:
    path = tmp_path / "job.json"
    path.write_text(json.dumps({"name": "x", "tasks": "bronze"}), encoding="utf-8")
    with pytest.raises(JobDefinitionError) as info:
        load_job(path=path)
    assert [f.code for f in info.value.findings] == ["wrong_type"]
    assert "`tasks` should be a list" in str(info.value)


def test_depends_on_written_as_text_gets_a_yaml_hint(tmp_path: Path) -> None:
    path = tmp_path / "job.yml"
    path.write_text("resources:\n  jobs:\n    j:\n      tasks:\n        - task_key: silver\n"
                    "          depends_on: bronze\n", encoding="utf-8")
    with pytest.raises(JobDefinitionError) as info:
        load_job(path=path)
    assert "tasks[1]" not in info.value.message and "tasks[0].depends_on" in info.value.message
    assert info.value.hint is not None and "- task_key: bronze" in info.value.hint


def test_notebook_match_by_stem_prefers_ipynb_and_notes_the_ambiguity(tmp_path: Path) -> None:
    (tmp_path / "nb.ipynb").write_text("{}", encoding="utf-8")
    (tmp_path / "nb.py").write_text("# Databricks notebook source\n", encoding="utf-8")
    job_file = tmp_path / "job.json"

    match = match_notebook(notebook_path="/Workspace/Users/me/nb", job_path=job_file)

    assert match.file == tmp_path / "nb.ipynb"
    assert match.note is not None and "nb.py" in match.note


def test_relative_notebook_path_with_explicit_suffix_wins_over_stem(tmp_path: Path) -> None:
    (tmp_path / "nb.ipynb").write_text("{}", encoding="utf-8")
    (tmp_path / "nb.py").write_text("# Databricks notebook source\n", encoding="utf-8")

    match = match_notebook(notebook_path="./nb.py", job_path=tmp_path / "job.yml")

    assert match.file == tmp_path / "nb.py"


def test_plain_python_file_is_noted_as_not_a_databricks_notebook(tmp_path: Path) -> None:
    (tmp_path / "nb.py").write_text("print('hi')\n", encoding="utf-8")

    match = match_notebook(notebook_path="/Workspace/nb", job_path=tmp_path / "job.json")

    assert match.file == tmp_path / "nb.py"
    assert match.note is not None and "Databricks notebook source" in match.note


def _without_notebook_paths(settings: jobs.JobSettings) -> dict:
    d = settings.as_dict()
    for task in d.get("tasks", []):
        task.get("notebook_task", {}).pop("notebook_path", None)
        task.get("notebook_task", {}).pop("source", None)
    return d


@pytest.mark.parametrize("source", ["day07_job.yml", "day07_job_create.json", "day07_job_get.json",
                                    "bundle_with_variables.yml"])
def test_export_yaml_round_trips_from_another_folder(tmp_path: Path, source: str) -> None:
    job = load_job(path=FILES / source)
    out = tmp_path / "exported" / "job.yml"
    out.parent.mkdir()

    out.write_text(export_job(job, to="yaml", relative_to=out.parent), encoding="utf-8")
    again = load_job(path=out)

    assert again.shape == "bundle"
    assert again.notebooks.keys() == job.notebooks.keys()
    assert all(again.notebooks[k].resolve() == job.notebooks[k].resolve() for k in job.notebooks)
    assert all(p.startswith(".") for p in (t.notebook_task.notebook_path for t in again.settings.tasks
                                             if t.notebook_task))
    assert _without_notebook_paths(again.settings) == _without_notebook_paths(job.settings)


@pytest.mark.parametrize("source", ["day07_job.yml", "day07_job_get.json"])
def test_export_json_round_trips_with_absolute_workspace_paths(tmp_path: Path, source: str) -> None:
    job = load_job(path=FILES / source)
    _copy_notebooks(tmp_path)
    out = tmp_path / "job.json"

    out.write_text(export_job(job, to="json", workspace_dir="/Workspace/Users/me/day07"), encoding="utf-8")
    again = load_job(path=out)

    assert again.shape == "create"
    paths = [t.notebook_task.notebook_path for t in again.settings.tasks if t.notebook_task]
    assert paths and all(p.startswith("/Workspace/Users/me/day07/") and "." not in p.rsplit("/", 1)[1]
                         for p in paths)
    assert {k: p.name for k, p in again.notebooks.items()} == {k: p.name for k, p in job.notebooks.items()}
    assert _without_notebook_paths(again.settings) == _without_notebook_paths(job.settings)


def test_export_keeps_bundle_permissions_as_create_access_control_list(tmp_path: Path) -> None:
    src = tmp_path / "job.yml"
    src.write_text("resources:\n  jobs:\n    j:\n      name: j\n      permissions:\n"
                   "        - level: CAN_VIEW\n          group_name: learners\n"
                   "      tasks:\n        - task_key: a\n          condition_task: {op: EQUAL_TO, left: '1', "
                   "right: '1'}\n", encoding="utf-8")

    exported = json.loads(export_job(load_job(path=src), to="json"))

    assert exported["access_control_list"] == [{"permission_level": "CAN_VIEW", "group_name": "learners"}]


@pytest.mark.parametrize("suffix", [".json", ".yml"])
def test_absurdly_nested_file_is_a_job_error_not_a_recursion_crash(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"deep{suffix}"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(JobDefinitionError, match="nested too deeply"):
        load_job(path=path)


def test_the_default_target_gives_variables_and_overrides_the_job_as_deploy_would(tmp_path: Path) -> None:
    """`databricks bundle deploy` without `-t` takes the target marked `default: true`: its variable values, its
    name as ${bundle.target}, and its job overrides (tasks merged by task_key)."""
    (tmp_path / "resources").mkdir()
    (tmp_path / "01_bronze.py").write_text("# Databricks notebook source\n", encoding="utf-8")
    (tmp_path / "databricks.yml").write_text("""
bundle: {name: day07}
include: [resources/*.yml]
variables:
  schema: {description: no default here}
  catalog: {default: main}
targets:
  dev:
    default: true
    variables: {schema: day07_dev}
    resources:
      jobs:
        pipeline:
          tasks:
            - task_key: bronze
              max_retries: 2
  prod:
    variables: {schema: day07, catalog: prod}
""", encoding="utf-8")
    job_file = tmp_path / "resources" / "pipeline.yml"
    job_file.write_text("""
resources:
  jobs:
    pipeline:
      name: pipeline-${bundle.target}
      parameters:
        - {name: schema, default: "${var.catalog}.${var.schema}"}
      tasks:
        - task_key: bronze
          notebook_task: {notebook_path: ../01_bronze.py}
""", encoding="utf-8")
    job = load_job(path=job_file)
    assert job.unresolved == []
    assert job.settings.name == "pipeline-dev"
    assert [(p.name, p.default) for p in job.settings.parameters] == [("schema", "main.day07_dev")]
    assert job.settings.tasks[0].max_retries == 2 and job.settings.tasks[0].notebook_task is not None
