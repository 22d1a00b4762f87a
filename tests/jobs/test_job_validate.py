"""One small job file per finding; the contract's job must come out clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checkers.errors import JobDefinitionError
from checkers.jobs.findings import Finding, errors
from checkers.jobs.load import load_job
from checkers.jobs.validate import load_valid_job, raise_for_errors, validate_job

FILES = Path(__file__).resolve().parent.parent / "files" / "jobs"


def _findings(name: str) -> list[Finding]:
    return validate_job(load_job(path=FILES / name))


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    for nb in ("01_bronze", "02_silver"):
        (tmp_path / f"{nb}.py").write_text("# Databricks notebook source\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["day07_job.yml", "day07_job_create.json", "day07_job_get.json",
                                  "bundle_with_variables.yml"])
def test_good_job_files_have_no_findings(name: str) -> None:
    assert _findings(name) == []


@pytest.mark.parametrize(("name", "code", "task_key", "key", "fragment"), [
    ("bad_typo_key.yml", "unknown_key", "silver", "tasks[1].depends_0n",
     "`depends_0n` is not a task field — did you mean `depends_on`?"),
    ("bad_cycle.yml", "cycle", "a", "tasks[0].depends_on[0].task_key", "a → b → c → a"),
    ("bad_missing_dependency.yml", "missing_dependency", "silver", "tasks[1].depends_on[1].task_key",
     "did you mean `bronze`"),
    ("bad_duplicate_task_key.yml", "duplicate_task_key", "silver", "tasks[2].task_key", "tasks[1] and tasks[2]"),
    ("bad_outcome.yml", "outcome_not_condition", "silver", "tasks[1].depends_on[0].outcome",
     "`bronze` is not a condition task"),
    ("bad_missing_notebook.yml", "notebook_not_found", "bronze", "tasks[0].notebook_task.notebook_path",
     "./notebooks/01_bronze.py"),
    ("bad_cron.yml", "invalid_cron", None, "schedule.quartz_cron_expression", "has 5 fields"),
    ("bad_timezone.yml", "invalid_timezone", None, "schedule.timezone_id", "Europe/Berln"),
    ("bad_parameter_name.yml", "invalid_parameter_name", None, "parameters[0].name", "'source path'"),
    ("bad_unknown_reference.yml", "unknown_reference", "bronze", "tasks[0].notebook_task.base_parameters.label",
     "did you mean `{{job.name}}`"),
    ("bad_unknown_parameter_reference.yml", "unknown_reference", "bronze",
     "tasks[0].notebook_task.base_parameters.target", "did you mean `schema`"),
    ("bad_reference_not_upstream.yml", "reference_not_upstream", "bronze",
     "tasks[0].notebook_task.base_parameters.expected", "`silver`, which is not upstream of `bronze`"),
    ("bad_run_if.yml", "invalid_run_if", "silver", "tasks[1].run_if", "did you mean `ALL_SUCCESS`"),
    ("bad_condition_op.yml", "invalid_condition_op", "has_rows", "tasks[1].condition_task.op",
     "did you mean `GREATER_THAN`"),
    ("bad_no_task_type.yml", "no_task_type", "silver", "tasks[1]", "no task type"),
    ("bad_several_task_types.yml", "several_task_types", "bronze", "tasks[0].notebook_task",
     "condition_task, notebook_task"),
    ("bad_unresolved_variable.yml", "unresolved_variable", None, "parameters[0].default", "${var.catalog}"),
    ("bad_wrong_type.json", "wrong_type", None, "email_notifications.on_failure", "should be a list"),
    ("bad_missing_required.yml", "missing_required", "bronze", "tasks[0].notebook_task.notebook_path",
     "required"),
    ("bad_for_each_inputs.yml", "for_each_inputs", "per_type", "tasks[0].for_each_task.inputs",
     "not a JSON array"),
    ("bad_for_each_missing_notebook.yml", "notebook_not_found", "per_type",
     "tasks[0].for_each_task.task.notebook_task.notebook_path", "./02_silverr.py"),
])
def test_each_bad_file_gives_exactly_its_error(name: str, code: str, task_key: str | None, key: str,
                                               fragment: str) -> None:
    errs = errors(_findings(name))

    assert [f.code for f in errs] == [code]
    (finding,) = errs
    assert finding.task_key == task_key
    assert finding.key == key
    assert fragment in finding.message
    if task_key is not None:
        assert f"`{task_key}`" in finding.message  # the message names the task
    assert finding.hint


@pytest.mark.parametrize(("name", "codes"), [
    ("warn_isolated_task.yml", ["isolated_task"]),
    ("warn_schedule_too_frequent.yml", ["schedule_too_frequent"]),
    ("warn_retry_immediately.yml", ["retry_immediately"]),
    ("warn_malformed_reference.yml", ["condition_not_numeric", "malformed_reference"]),
    ("warn_runs_only_on_databricks.yml", ["runs_only_on_databricks"]),
])
def test_legal_but_suspicious_jobs_give_warnings_only(name: str, codes: list[str]) -> None:
    findings = _findings(name)

    assert errors(findings) == []
    assert sorted(f.code for f in findings) == codes


def test_nested_unknown_key_names_its_parent_and_the_close_match(tmp_path: Path) -> None:
    path = _write(tmp_path, "job.yml", """
resources:
  jobs:
    j:
      name: j
      schedule:
        quartz_cron_expression: "0 0 2 * * ?"
        timezone: UTC
      tasks:
        - task_key: bronze
          notebook_task:
            notebook_pth: ./01_bronze.py
""")
    by_key = {f.key: f for f in validate_job(load_job(path=path))}

    assert "did you mean `notebook_path`" in by_key["tasks[0].notebook_task.notebook_pth"].message
    assert "not a field of `notebook_task`" in by_key["tasks[0].notebook_task.notebook_pth"].message
    assert "did you mean `timezone_id`" in by_key["schedule.timezone"].message
    assert by_key["schedule.timezone_id"].code == "missing_required"
    assert by_key["tasks[0].notebook_task.notebook_path"].code == "missing_required"


def test_self_dependency_is_a_cycle_of_one(tmp_path: Path) -> None:
    path = _write(tmp_path, "job.yml", """
resources:
  jobs:
    j:
      tasks:
        - task_key: bronze
          depends_on: [{task_key: bronze}]
          notebook_task: {notebook_path: ./01_bronze.py}
""")
    (finding,) = errors(validate_job(load_job(path=path)))
    assert finding.code == "cycle"
    assert "bronze → bronze" in finding.message


@pytest.mark.parametrize("other", ["trigger: {periodic: {interval: 1, unit: DAYS}}", "continuous: {}"])
def test_a_schedule_and_another_trigger_is_one_trigger_too_many(tmp_path: Path, other: str) -> None:
    path = _write(tmp_path, "job.yml", f"""
resources:
  jobs:
    j:
      schedule: {{quartz_cron_expression: "0 0 2 * * ?", timezone_id: UTC}}
      {other}
      tasks:
        - task_key: bronze
          notebook_task: {{notebook_path: ./01_bronze.py}}
""")
    (finding,) = errors(validate_job(load_job(path=path)))
    assert finding.code == "several_triggers" and "only one trigger" in finding.message
    assert finding.key == other.split(":")[0]


def test_only_the_tasks_in_a_cycle_are_reported_once(tmp_path: Path) -> None:
    path = _write(tmp_path, "job.yml", """
resources:
  jobs:
    j:
      tasks:
        - {task_key: start, notebook_task: {notebook_path: ./01_bronze.py}}
        - {task_key: x, depends_on: [{task_key: start}, {task_key: y}], notebook_task: {notebook_path: ./01_bronze.py}}
        - {task_key: y, depends_on: [{task_key: x}], notebook_task: {notebook_path: ./02_silver.py}}
        - {task_key: end, depends_on: [{task_key: y}], notebook_task: {notebook_path: ./02_silver.py}}
""")
    cycles = [f for f in validate_job(load_job(path=path)) if f.code == "cycle"]

    assert [f.message.split(": ", 1)[1].split(" (")[0] for f in cycles] == [
        "the dependencies form a cycle: x → y → x"]


def test_reference_through_a_condition_task_counts_as_upstream() -> None:
    # the contract job: silver would read bronze's value through bronze_has_rows
    job = load_job(path=FILES / "day07_job.yml")
    job.raw["tasks"][2]["notebook_task"]["base_parameters"] = {"rows": "{{tasks.bronze.values.bronze_rows}}"}

    assert validate_job(job) == []


def test_job_parameter_default_cannot_read_task_values(tmp_path: Path) -> None:
    path = _write(tmp_path, "job.yml", """
resources:
  jobs:
    j:
      parameters:
        - {name: rows, default: "{{tasks.bronze.values.bronze_rows}}"}
        - {name: run, default: "{{job.run_id}}"}
      tasks:
        - {task_key: bronze, notebook_task: {notebook_path: ./01_bronze.py}}
""")
    (finding,) = errors(validate_job(load_job(path=path)))
    assert finding.code == "reference_not_upstream"
    assert finding.key == "parameters[0].default"


def test_unknown_namespace_passes_as_text_with_a_warning(tmp_path: Path) -> None:
    path = _write(tmp_path, "job.yml", """
resources:
  jobs:
    j:
      tasks:
        - task_key: bronze
          notebook_task:
            notebook_path: ./01_bronze.py
            base_parameters: {rows: "{{bronze.values.rows}}"}
""")
    (finding,) = validate_job(load_job(path=path))
    assert (finding.level, finding.code) == ("warning", "literal_braces")


def test_bundle_only_keys_are_allowed_in_bundles_only(tmp_path: Path) -> None:
    task = {"task_key": "bronze", "notebook_task": {"notebook_path": "/Workspace/x/01_bronze"}}
    bundle = _write(tmp_path, "job.yml", json.dumps({"resources": {"jobs": {"j": {
        "tasks": [task], "permissions": [{"level": "CAN_VIEW", "group_name": "users"}]}}}}))
    create = _write(tmp_path, "create.json", json.dumps({
        "tasks": [task], "permissions": [{"level": "CAN_VIEW", "group_name": "users"}],
        "access_control_list": [{"permission_level": "CAN_VIEW", "group_name": "users"}]}))

    assert validate_job(load_job(path=bundle)) == []
    assert [(f.code, f.key) for f in validate_job(load_job(path=create))] == [("unknown_key", "permissions")]


def test_json_is_strict_about_types_while_bundles_coerce_like_the_cli(tmp_path: Path) -> None:
    task = {"task_key": "bronze", "max_retries": "2", "min_retry_interval_millis": 1000,
            "notebook_task": {"notebook_path": "/Workspace/x/01_bronze", "base_parameters": {"n": 5}}}
    create = _write(tmp_path, "create.json", json.dumps({"tasks": [task]}))
    bundle = _write(tmp_path, "job.yml", json.dumps({"resources": {"jobs": {"j": {"tasks": [task]}}}}))

    assert sorted(f.key for f in errors(validate_job(load_job(path=create)))) == [
        "tasks[0].max_retries", "tasks[0].notebook_task.base_parameters.n"]
    assert validate_job(load_job(path=bundle)) == []


def test_notebook_note_becomes_a_warning(tmp_path: Path) -> None:
    path = _write(tmp_path, "job.yml", """
resources:
  jobs:
    j:
      tasks:
        - {task_key: bronze, notebook_task: {notebook_path: ./plain.py}}
""")
    (tmp_path / "plain.py").write_text("print('not a notebook')\n", encoding="utf-8")

    (finding,) = validate_job(load_job(path=path))
    assert (finding.level, finding.code, finding.task_key) == ("warning", "notebook_note", "bronze")


def test_raise_for_errors_lists_every_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "job.yml", """
resources:
  jobs:
    j:
      tasks:
        - {task_key: bronze, depends_0n: [], notebook_task: {notebook_path: ./01_bronze.py}}
        - {task_key: silver, depends_on: [{task_key: bronz}], notebook_task: {notebook_path: ./nope.py}}
""")
    findings = validate_job(load_job(path=path))

    with pytest.raises(JobDefinitionError) as info:
        raise_for_errors(findings, path=path)

    assert sorted(f.code for f in info.value.findings) == ["missing_dependency", "notebook_not_found",
                                                           "unknown_key"]
    assert "3 problems" in info.value.message
    for key in ("tasks[0].depends_0n", "tasks[1].depends_on[0].task_key", "tasks[1].notebook_task.notebook_path"):
        assert key in info.value.message
    raise_for_errors([f for f in findings if f.level == "warning"], path=path)  # warnings alone pass


def test_load_valid_job_returns_the_job_or_raises() -> None:
    assert load_valid_job(path=FILES / "day07_job.yml").job_key == "day07_job"
    with pytest.raises(JobDefinitionError, match="cycle"):
        load_valid_job(path=FILES / "bad_cycle.yml")


def test_a_graded_job_runs_no_notebook_outside_its_folder(tmp_path: Path) -> None:
    """A path that climbs out of the submission (to another learner's work, or the kit's solutions) finds nothing
    when the job is loaded for grading; the same file loaded for `day07 run` still runs it."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "02_silver.py").write_text("# Databricks notebook source\n", encoding="utf-8")
    sub = tmp_path / "sub"
    sub.mkdir()
    job = _write(sub, "job.yml", "resources:\n  jobs:\n    j:\n      tasks:\n"
                 "        - task_key: bronze\n          notebook_task: {notebook_path: ./01_bronze.py}\n"
                 "        - task_key: silver\n"
                 "          notebook_task: {notebook_path: ../sub/../elsewhere/02_silver.py}\n"
                 "          depends_on: [{task_key: bronze}]\n")
    graded = load_job(path=job, root=sub)
    assert sorted(graded.notebooks) == ["bronze"]
    found = [f for f in validate_job(graded) if f.level == "error"]
    assert [(f.code, f.task_key) for f in found] == [("notebook_outside", "silver")]
    assert f"to {elsewhere / '02_silver.py'})" in found[0].message and "only the submission's own" in found[0].message
    assert load_job(path=job).notebooks["silver"] == sub / "../sub/../elsewhere/02_silver.py"
    assert not [f for f in validate_job(load_job(path=job)) if f.level == "error"]


def test_a_for_each_over_a_notebook_runs_here_and_its_loop_settings_are_checked(tmp_path: Path) -> None:
    def loop(inputs: str, concurrency: object) -> list[Finding]:
        path = _write(tmp_path, "job.yml", f"""
resources:
  jobs:
    fan:
      name: fan
      tasks:
        - task_key: bronze
          notebook_task: {{notebook_path: ./01_bronze.py}}
        - task_key: per_type
          depends_on: [{{task_key: bronze}}]
          for_each_task:
            inputs: '{inputs}'
            concurrency: {concurrency}
            task:
              task_key: per_type_iteration
              notebook_task:
                notebook_path: ./02_silver.py
                base_parameters: {{event_type: "{{{{input.type}}}}"}}
""")
        return validate_job(load_job(path=path))

    assert loop('[{"type": "view"}, {"type": "cart"}]', 2) == []
    assert loop("{{tasks.bronze.values.types}}", 1) == []  # a reference is resolved when the loop starts
    (finding,) = loop('["view"]', 0)
    assert finding.code == "for_each_concurrency" and finding.key == "tasks[1].for_each_task.concurrency"
    (finding,) = loop('{"type": "view"}', 1)
    assert finding.code == "for_each_inputs" and "not a JSON array" in finding.message
