"""The local runner against Databricks' rules, with condition tasks only (no kernel, so these are fast).

Condition tasks give every upstream outcome without a notebook: a true comparison SUCCEEDS, a numeric
comparison of a word FAILS, the branch a condition did not take is EXCLUDED, a task after a failure is
UPSTREAM_FAILED, and ``disabled: true`` gives DISABLED. The expected states below are written from the
Databricks documentation ("Configure task dependencies", "Disabled tasks in Lakeflow Jobs", "How does
Databricks determine job run status?", "If/else condition task"), not from the runner's code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from checkers.errors import JobDefinitionError, JobRunError
from checkers.jobs.events import RunEvent
from checkers.jobs.load import load_job
from checkers.jobs.record import RunRecord, load_run, new_run_dir
from checkers.jobs.rules import run_if_decision
from checkers.jobs.run import repair_run, run_job

JOB_FILES = Path(__file__).resolve().parent.parent / "files" / "jobs"

TRUE = {"op": "EQUAL_TO", "left": "1", "right": "1"}
FAILS = {"op": "GREATER_THAN", "left": "not-a-number", "right": "1"}
FALSE = {"op": "EQUAL_TO", "left": "1", "right": "2"}


def write_job(folder: Path, tasks: list[dict[str, Any]], *, name: str = "conformance", **settings: Any) -> Path:
    """A bundle YAML job made of the given tasks (condition tasks unless a task says otherwise)."""
    path = folder / f"{name.replace(' ', '_')}.yml"
    job = {"name": name, **settings, "tasks": tasks}
    path.write_text(yaml.safe_dump({"resources": {"jobs": {"job": job}}}, sort_keys=False), encoding="utf-8")
    return path


def cond(key: str, spec: dict[str, str] = TRUE, *deps: str | tuple[str, str], **extra: Any) -> dict[str, Any]:
    """A condition task; a dependency is a task key or (task key, outcome)."""
    task: dict[str, Any] = {"task_key": key}
    if deps:
        task["depends_on"] = [{"task_key": d} if isinstance(d, str) else {"task_key": d[0], "outcome": d[1]}
                              for d in deps]
    task["condition_task"] = dict(spec)
    task.update(extra)
    return task


def run(path: Path, runs: Path, **kwargs: Any) -> RunRecord:
    return run_job(job=load_job(path=path), runs_dir=runs, **kwargs)


@pytest.fixture()
def runs(tmp_path: Path) -> Path:
    return tmp_path / "runs"


# --------------------------------------------------------------------------------------------- run_if

# Upstream tasks producing each outcome.
SOURCES = [
    cond("s1"), cond("s2"),                                       # SUCCESS
    cond("f1", FAILS), cond("f2", FAILS),                         # FAILED
    cond("c", FALSE),                                             # SUCCESS, outcome false
    cond("e1", TRUE, ("c", "true")), cond("e2", TRUE, ("c", "true")),  # EXCLUDED: branch not taken
    cond("uf", TRUE, "f1"),                                       # UPSTREAM_FAILED
    cond("d1", disabled=True), cond("d2", disabled=True),         # DISABLED
]
RUN_IFS = ("ALL_SUCCESS", "AT_LEAST_ONE_SUCCESS", "NONE_FAILED", "ALL_DONE", "AT_LEAST_ONE_FAILED", "ALL_FAILED")
R, UF, EX, DIS = "SUCCESS", "UPSTREAM_FAILED", "EXCLUDED", "DISABLED"

# upstream mix → expected state for each run_if, in RUN_IFS order.
# S success, F failed, E excluded, D disabled, U upstream-failed.
# - Excluded counts as success; a task whose dependencies are all excluded is excluded.
# - Unmet ALL_SUCCESS / AT_LEAST_ONE_SUCCESS / NONE_FAILED → UPSTREAM_FAILED; unmet AT_LEAST_ONE_FAILED /
#   ALL_FAILED → EXCLUDED. NONE_FAILED needs one dependency that ran without failing.
# - Disabled (docs table): ALL_SUCCESS does not run; AT_LEAST_ONE_SUCCESS runs if another parent succeeded;
#   NONE_FAILED runs if one parent completed without failure, not when all are disabled; ALL_DONE runs;
#   AT_LEAST_ONE_FAILED runs if another parent failed; ALL_FAILED does not run (disabled is no failure).
#   A task that does not run *because* of a disabled parent is DISABLED; otherwise its usual state.
MATRIX: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "S":   (["s1"],             (R,   R,   R,   R, EX, EX)),
    "F":   (["f1"],             (UF,  UF,  UF,  R, R,  R)),
    "E":   (["e1"],             (EX,  EX,  EX,  EX, EX, EX)),
    "D":   (["d1"],             (DIS, DIS, DIS, R, EX, EX)),
    "U":   (["uf"],             (UF,  UF,  UF,  R, R,  R)),
    "SS":  (["s1", "s2"],       (R,   R,   R,   R, EX, EX)),
    "FF":  (["f1", "f2"],       (UF,  UF,  UF,  R, R,  R)),
    "EE":  (["e1", "e2"],       (EX,  EX,  EX,  EX, EX, EX)),
    "DD":  (["d1", "d2"],       (DIS, DIS, DIS, R, EX, EX)),
    "SF":  (["s1", "f1"],       (UF,  R,   UF,  R, R,  EX)),
    "SE":  (["s1", "e1"],       (R,   R,   R,   R, EX, EX)),
    "FE":  (["f1", "e1"],       (UF,  R,   UF,  R, R,  EX)),
    "SFE": (["s1", "f1", "e1"], (UF,  R,   UF,  R, R,  EX)),
    "SU":  (["s1", "uf"],       (UF,  R,   UF,  R, R,  EX)),
    "SD":  (["s1", "d1"],       (DIS, R,   R,   R, EX, EX)),
    "FD":  (["f1", "d1"],       (UF,  DIS, UF,  R, R,  EX)),
    "ED":  (["e1", "d1"],       (DIS, R,   R,   R, EX, EX)),
}


@pytest.fixture(scope="module")
def matrix_run(tmp_path_factory: pytest.TempPathFactory) -> RunRecord:
    """One job: every upstream mix × every run_if, each a leaf condition task over the same sources."""
    folder = tmp_path_factory.mktemp("matrix")
    leaves = [cond(f"{mix}__{run_if}", TRUE, *ups, run_if=run_if)
              for mix, (ups, _) in MATRIX.items() for run_if in RUN_IFS]
    return run(write_job(folder, SOURCES + leaves, name="run_if matrix"), folder / "runs")


def test_sources_give_every_upstream_outcome(matrix_run: RunRecord) -> None:
    states = matrix_run.states
    assert [states[k] for k in ("s1", "f1", "c", "e1", "uf", "d1")] == [
        "SUCCESS", "FAILED", "SUCCESS", "EXCLUDED", "UPSTREAM_FAILED", "DISABLED"]
    assert matrix_run.task("c").outcome == "false"
    assert matrix_run.task("d1").attempts == []  # a disabled task never starts


@pytest.mark.parametrize("mix", list(MATRIX))
def test_every_run_if_against_every_upstream_mix(matrix_run: RunRecord, mix: str) -> None:
    ups, expected = MATRIX[mix]
    got = tuple(matrix_run.task(f"{mix}__{run_if}").result_state for run_if in RUN_IFS)
    assert dict(zip(RUN_IFS, got, strict=True)) == dict(zip(RUN_IFS, expected, strict=True)), f"upstream {ups}"


def test_skipped_tasks_say_why_and_never_run(matrix_run: RunRecord) -> None:
    skipped = matrix_run.task("SF__ALL_SUCCESS")
    assert skipped.attempts == [] and skipped.life_cycle_state == "SKIPPED"
    assert "ALL_SUCCESS" in skipped.message and "f1 FAILED" in skipped.message
    assert "excluded" in matrix_run.task("EE__ALL_DONE").message
    assert "disabled" in matrix_run.task("D__ALL_SUCCESS").message


def test_canceled_upstream_makes_success_conditions_upstream_canceled() -> None:
    # Canceled tasks come only from a job timeout (tested with kernels); the rule itself, per the docs:
    # "the cancellation propagates to downstream tasks, and tasks with Run if conditions that handle
    # failures will run".
    assert run_if_decision("ALL_SUCCESS", ["CANCELED"]) == "UPSTREAM_CANCELED"
    assert run_if_decision("NONE_FAILED", ["SUCCESS", "UPSTREAM_CANCELED"]) == "UPSTREAM_CANCELED"
    assert run_if_decision("ALL_SUCCESS", ["CANCELED", "FAILED"]) == "UPSTREAM_FAILED"
    assert run_if_decision("AT_LEAST_ONE_FAILED", ["CANCELED"]) is None
    assert run_if_decision("ALL_DONE", ["CANCELED", "TIMEDOUT"]) is None


def test_a_leaf_that_did_not_succeed_fails_the_job(matrix_run: RunRecord) -> None:
    assert matrix_run.result_state == "FAILED"
    assert "SF__ALL_SUCCESS" in matrix_run.message


# --------------------------------------------------------------------------------------------- job result


@pytest.mark.parametrize(("tasks", "expected"), [
    ([cond("a"), cond("b", TRUE, "a")], "SUCCESS"),
    # a failure handled by a leaf that runs on failure: every leaf succeeded
    ([cond("a", FAILS), cond("cleanup", TRUE, "a", run_if="AT_LEAST_ONE_FAILED")], "SUCCESS_WITH_FAILURES"),
    # excluded leaves count as success; so does a disabled one
    ([cond("check", FALSE), cond("yes", TRUE, ("check", "true")), cond("no", TRUE, ("check", "false")),
      cond("off", disabled=True)], "SUCCESS"),
    ([cond("a"), cond("b", FAILS, "a")], "FAILED"),
    ([cond("a", FAILS), cond("b", TRUE, "a")], "FAILED"),
], ids=["all-succeed", "handled-failure", "excluded-and-disabled-leaves", "leaf-fails", "leaf-upstream-failed"])
def test_job_result_comes_from_the_leaves(tmp_path: Path, runs: Path, tasks: list[dict[str, Any]],
                                          expected: str) -> None:
    record = run(write_job(tmp_path, tasks), runs)
    assert record.result_state == expected


# --------------------------------------------------------------------------------------------- conditions


def test_condition_operators_compare_text_or_numbers_as_databricks_does(tmp_path: Path, runs: Path) -> None:
    cases = {
        "eq_text": ({"op": "EQUAL_TO", "left": "12.0", "right": "12"}, "false"),
        "ne_text": ({"op": "NOT_EQUAL", "left": "12.0", "right": "12"}, "true"),
        "eq_same": ({"op": "EQUAL_TO", "left": "day07", "right": "day07"}, "true"),
        "ge_number": ({"op": "GREATER_THAN_OR_EQUAL", "left": "12.0", "right": "12"}, "true"),
        "gt_number": ({"op": "GREATER_THAN", "left": "10", "right": "9"}, "true"),  # "10" < "9" as text
        "lt_number": ({"op": "LESS_THAN", "left": "10", "right": "9"}, "false"),
        "le_negative": ({"op": "LESS_THAN_OR_EQUAL", "left": "-1.5", "right": " -1.5 "}, "true"),
    }
    tasks = [cond(k, spec) for k, (spec, _) in cases.items()]
    tasks.append(cond("gt_word", {"op": "GREATER_THAN", "left": "many", "right": "0"}))
    record = run(write_job(tmp_path, tasks), runs)

    for key, (_, outcome) in cases.items():
        task = record.task(key)
        assert (task.result_state, task.outcome) == ("SUCCESS", outcome), key
    word = record.task("gt_word")
    assert word.result_state == "FAILED" and word.outcome is None
    assert "'many'" in word.message and "not a number" in word.message


def test_condition_branches_run_one_side_and_exclude_the_other(tmp_path: Path, runs: Path) -> None:
    tasks = [
        cond("has_rows", {"op": "GREATER_THAN", "left": "{{job.parameters.rows}}", "right": "0"}),
        cond("load", TRUE, ("has_rows", "true")),
        cond("alert", TRUE, ("has_rows", "false")),
        cond("after_load", TRUE, "load"),
        cond("after_alert", TRUE, "alert"),
    ]
    path = write_job(tmp_path, tasks, parameters=[{"name": "rows", "default": "5"}])
    with_rows = run(path, runs)
    without = run(path, runs, parameters={"rows": "0"})

    assert [with_rows.states[k] for k in ("load", "alert", "after_load", "after_alert")] == [
        "SUCCESS", "EXCLUDED", "SUCCESS", "EXCLUDED"]
    assert [without.states[k] for k in ("load", "alert", "after_load", "after_alert")] == [
        "EXCLUDED", "SUCCESS", "EXCLUDED", "SUCCESS"]
    assert with_rows.task("has_rows").condition == {"op": "GREATER_THAN", "left": "5", "right": "0",
                                                    "outcome": "true"}
    assert with_rows.result_state == without.result_state == "SUCCESS"


# --------------------------------------------------------------------------------------------- parameters


def test_job_parameters_take_run_values_and_resolve_references(tmp_path: Path, runs: Path) -> None:
    params = [{"name": "env", "default": "dev"}, {"name": "tag", "default": "run-{{job.run_id}}"},
              {"name": "day", "default": "{{job.start_time.iso_date}}"}]
    tasks = [cond("check_env", {"op": "EQUAL_TO", "left": "{{job.parameters.env}}", "right": "prod"}),
             cond("check_tag", {"op": "EQUAL_TO", "left": "{{job.parameters.tag}}", "right": "{{task.name}}"}),
             cond("check_repair", {"op": "EQUAL_TO", "left": "{{job.repair_count}}", "right": "0"})]
    record = run(write_job(tmp_path, tasks, parameters=params), runs, parameters={"env": "prod"})

    assert record.parameters_given == {"env": "prod"}
    assert record.parameters == {"env": "prod", "tag": f"run-{record.run_id}",
                                 "day": record.start_time.date().isoformat()}
    assert record.task("check_env").outcome == "true"
    assert record.task("check_tag").condition["right"] == "check_tag"
    assert record.task("check_repair").outcome == "true"


def test_an_unknown_run_parameter_is_refused_before_anything_runs(tmp_path: Path, runs: Path) -> None:
    path = write_job(tmp_path, [cond("a")], parameters=[{"name": "env", "default": "dev"}])
    with pytest.raises(JobRunError, match="no parameter `evn`") as info:
        run(path, runs, parameters={"evn": "prod"})
    assert "env" in info.value.message
    assert not runs.exists() or list(runs.iterdir()) == []


def test_a_reference_that_cannot_resolve_fails_only_its_task(tmp_path: Path, runs: Path) -> None:
    tasks = [cond("a"), cond("b", {"op": "EQUAL_TO", "left": "{{tasks.a.values.missing}}", "right": "1"}, "a")]
    record = run(write_job(tmp_path, tasks), runs)
    assert record.states == {"a": "SUCCESS", "b": "FAILED"}
    assert "{{tasks.a.values.missing}}" in record.task("b").message


# --------------------------------------------------------------------------------------------- refusals


def test_an_invalid_job_is_refused_with_every_problem(runs: Path) -> None:
    with pytest.raises(JobDefinitionError, match="cycle"):
        run_job(job=load_job(path=JOB_FILES / "bad_cycle.yml"), runs_dir=runs)


def test_without_validation_a_cycle_still_cannot_run(runs: Path) -> None:
    with pytest.raises(JobRunError, match="cycle"):
        run_job(job=load_job(path=JOB_FILES / "bad_cycle.yml"), runs_dir=runs, validate=False)


def test_a_task_type_that_cannot_run_locally_fails_with_a_message(tmp_path: Path, runs: Path) -> None:
    tasks = [cond("a"), {"task_key": "py", "depends_on": [{"task_key": "a"}],
                         "spark_python_task": {"python_file": "job.py"}}]
    record = run_job(job=load_job(path=write_job(tmp_path, tasks)), runs_dir=runs, validate=False)
    assert record.states == {"a": "SUCCESS", "py": "FAILED"}
    assert "spark_python_task" in record.task("py").message


@pytest.mark.parametrize("value", [0, -1])
def test_max_parallel_must_be_positive(tmp_path: Path, runs: Path, value: int) -> None:
    with pytest.raises(JobRunError, match="max_parallel"):
        run(write_job(tmp_path, [cond("a")]), runs, max_parallel=value)


# --------------------------------------------------------------------------------------------- record


def test_the_record_on_disk_matches_the_contract_and_round_trips(tmp_path: Path, runs: Path) -> None:
    events: list[str] = []

    def on_event(event: RunEvent) -> None:
        events.append(f"{event.kind}:{event.task_key or ''}")

    record = run(write_job(tmp_path, [cond("a"), cond("b", FAILS, "a")]), runs, on_event=on_event)
    data = json.loads((Path(record.run_dir) / "run.json").read_text(encoding="utf-8"))

    assert Path(record.run_dir) == runs / str(record.run_id)
    assert data["result_state"] == "FAILED"
    assert [{k: t[k] for k in ("task_key", "result_state")} for t in data["tasks"]] == [
        {"task_key": "a", "result_state": "SUCCESS"}, {"task_key": "b", "result_state": "FAILED"}]
    assert data["life_cycle_state"] == "TERMINATED" and data["pid"] is None
    assert RunRecord.from_dict(data).to_dict() == data
    assert load_run(run_id="last", runs_dir=runs).to_dict() == data
    assert events[0] == "run_started:" and events[-1] == "run_finished:"
    assert events.index("task_finished:a") < events.index("task_started:b")


def test_run_ids_are_unique_and_increasing_under_concurrency(tmp_path: Path) -> None:
    got: list[int] = []
    lock = threading.Lock()

    def reserve() -> None:
        run_id, folder = new_run_dir(tmp_path)
        assert folder.name == str(run_id)
        with lock:
            got.append(run_id)

    threads = [threading.Thread(target=reserve) for _ in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == list(range(1, 25))
    assert new_run_dir(tmp_path)[0] == 25


def test_an_unknown_run_id_names_the_runs_that_exist(runs: Path, tmp_path: Path) -> None:
    run(write_job(tmp_path, [cond("a")]), runs)
    with pytest.raises(JobRunError, match="No run 99") as info:
        load_run(run_id=99, runs_dir=runs)
    assert "1" in (info.value.hint or "")


# --------------------------------------------------------------------------------------------- repair


def test_repair_reruns_what_failed_and_its_dependents_with_the_fixed_job(tmp_path: Path, runs: Path) -> None:
    tasks = [cond("ok"),
             cond("check", FAILS, "ok"),
             cond("after", {"op": "EQUAL_TO", "left": "{{job.repair_count}}", "right": "1"}, "check"),
             cond("side", TRUE, "ok")]
    path = write_job(tmp_path, tasks)
    first = run(path, runs)
    assert first.states == {"ok": "SUCCESS", "check": "FAILED", "after": "UPSTREAM_FAILED", "side": "SUCCESS"}

    tasks[1]["condition_task"] = dict(TRUE)  # the fix
    write_job(tmp_path, tasks)
    repaired = repair_run(run_id=first.run_id, runs_dir=runs)

    assert repaired.run_id == first.run_id and repaired.run_dir == first.run_dir
    assert repaired.repair_count == 1
    assert repaired.states == {"ok": "SUCCESS", "check": "SUCCESS", "after": "SUCCESS", "side": "SUCCESS"}
    assert repaired.task("after").outcome == "true"  # {{job.repair_count}} is 1 now
    assert [len(repaired.task(k).attempts) for k in ("ok", "check", "after", "side")] == [1, 2, 1, 1]
    assert [a.repair_count for a in repaired.task("check").attempts] == [0, 1]
    assert repaired.repairs[0].rerun_tasks == ["check", "after"]
    assert repaired.repairs[0].previous_result_state == "FAILED"
    assert repaired.result_state == "SUCCESS"
    assert load_run(run_id=first.run_id, runs_dir=runs).to_dict() == repaired.to_dict()

    with pytest.raises(JobRunError, match="nothing to repair"):
        repair_run(run_id=first.run_id, runs_dir=runs)


def test_repair_can_rerun_chosen_tasks(tmp_path: Path, runs: Path) -> None:
    path = write_job(tmp_path, [cond("a"), cond("b", TRUE, "a"), cond("c")])
    first = run(path, runs)
    repaired = repair_run(run_id=first.run_id, runs_dir=runs, rerun_tasks=["a"])
    assert repaired.repairs[0].rerun_tasks == ["a", "b"]
    assert [len(repaired.task(k).attempts) for k in "abc"] == [2, 2, 1]
    with pytest.raises(JobRunError, match="no task `zz`"):
        repair_run(run_id=first.run_id, runs_dir=runs, rerun_tasks=["zz"])


def test_a_run_still_in_progress_cannot_be_repaired_but_an_abandoned_one_can(tmp_path: Path,
                                                                               runs: Path) -> None:
    path = write_job(tmp_path, [cond("a"), cond("b", TRUE, "a")])
    record = run(path, runs)
    data = json.loads(record.path.read_text(encoding="utf-8"))
    data.update(result_state=None, life_cycle_state="RUNNING", pid=os.getpid())
    data["tasks"][1].update(result_state=None, life_cycle_state="PENDING")
    record.path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(JobRunError, match="still in progress"):
        repair_run(run_id=record.run_id, runs_dir=runs)

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    data["pid"] = int(gone.stdout)
    record.path.write_text(json.dumps(data), encoding="utf-8")
    repaired = repair_run(run_id=record.run_id, runs_dir=runs)
    assert repaired.repairs[0].previous_task_states == {"a": "SUCCESS", "b": "CANCELED"}
    assert repaired.repairs[0].rerun_tasks == ["b"]
    assert repaired.result_state == "SUCCESS"
