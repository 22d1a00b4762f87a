"""The local runner with real notebook kernels: parameters, task values, parallel branches, disabled tasks,
retries, task and job timeouts, and repair. Each job runs once per module; several tests read its record.

The notebooks never touch Spark (so no server starts): what is tested here is orchestration.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import nbformat
import pytest

import checkers.jobs.rules as rules_module
from checkers.jobs.load import load_job
from checkers.jobs.record import RunRecord, load_run
from checkers.jobs.run import repair_run, run_job

pytestmark = pytest.mark.kernel

RUNNER = Path(__file__).resolve().parent.parent / "files" / "runner"


def _run(name: str, runs: Path, **kwargs: object) -> RunRecord:
    return run_job(job=load_job(path=RUNNER / name), runs_dir=runs, cell_timeout=120, **kwargs)  # type: ignore[arg-type]


def _exit_json(record: RunRecord, key: str) -> dict:
    return json.loads(record.task(key).exit_value or "")


# --------------------------------------------------------------------------------------------- parameters


@pytest.fixture(scope="module")
def params_run(tmp_path_factory: pytest.TempPathFactory) -> RunRecord:
    return _run("params.yml", tmp_path_factory.mktemp("runs"), parameters={"from_job": "from-run"})


def test_widget_values_follow_run_job_base_widget_precedence(params_run: RunRecord) -> None:
    widgets = _exit_json(params_run, "producer")
    assert widgets["from_job"] == "from-run"  # run parameter over job default over base_parameters
    assert widgets["from_base"] == "base-wins-over-the-widget-default"
    assert widgets["only_widget"] == "widget-default"  # nothing passed: the widget's default


def test_references_are_resolved_before_the_task_starts(params_run: RunRecord) -> None:
    widgets = _exit_json(params_run, "producer")
    assert widgets["task_name"] == "producer"
    assert widgets["job_ref"] == "job says from-run"
    assert widgets["count"] == "1"
    assert widgets["run_tag"] == f"run-{params_run.run_id}"  # job parameters are pushed down too
    assert widgets["day"] == params_run.start_time.date().isoformat()
    assert params_run.task("producer").parameters == {k: v for k, v in widgets.items() if k != "only_widget"}


def test_task_values_flow_to_conditions_and_later_notebooks(params_run: RunRecord) -> None:
    assert params_run.task("producer").task_values == {"rows": 42, "ready": True}
    assert params_run.task("has_rows").condition == {"op": "GREATER_THAN_OR_EQUAL", "left": "42",
                                                      "right": "42.0", "outcome": "true"}
    consumer = _exit_json(params_run, "consumer")
    assert consumer["from_api"] == 42
    assert consumer["params"]["rows_ref"] == "42"
    assert consumer["params"]["ready_ref"] == "true"  # a boolean task value reads as "true"
    assert consumer["params"]["repair"] == "0"
    # text comparison: "42" is not "42.0", so that branch is excluded
    assert params_run.task("same_text").outcome == "false"
    assert params_run.states["only_if_same_text"] == "EXCLUDED"
    assert params_run.result_state == "SUCCESS"


def test_each_attempt_leaves_its_executed_notebook(params_run: RunRecord) -> None:
    attempt = params_run.task("consumer").attempts[0]
    assert attempt.notebook == "tasks/consumer/attempt_1.ipynb"
    saved = nbformat.read(str(Path(params_run.run_dir) / attempt.notebook), as_version=4)
    outputs = "".join(o.get("text", "") for c in saved.cells for o in c.get("outputs", []))
    assert "Notebook exited" in outputs
    assert params_run.task("has_rows").attempts[0].notebook is None  # condition tasks run no notebook


# --------------------------------------------------------------------------------------------- fan-out/in


@pytest.fixture(scope="module")
def fan_run(tmp_path_factory: pytest.TempPathFactory) -> RunRecord:
    barrier = tmp_path_factory.mktemp("barrier")
    return _run("fan_out_in.yml", tmp_path_factory.mktemp("runs"), parameters={"barrier": str(barrier)},
                max_parallel=2)


def test_independent_tasks_run_at_the_same_time(fan_run: RunRecord) -> None:
    # each notebook waits for the other to arrive, so both succeeding already proves they overlapped
    assert fan_run.states["left"] == fan_run.states["right"] == "SUCCESS"
    left, right = fan_run.task("left").attempts[0], fan_run.task("right").attempts[0]
    assert left.start_time < right.end_time and right.start_time < left.end_time
    assert fan_run.task("join").outcome == "true"
    join_start: datetime = fan_run.task("join").start_time
    assert join_start >= max(left.end_time, right.end_time)


def test_disabled_tasks_never_start_and_disable_what_needs_them(fan_run: RunRecord) -> None:
    assert fan_run.states["switched_off"] == "DISABLED"
    assert fan_run.task("switched_off").attempts == []
    assert fan_run.states["needs_switched_off"] == "DISABLED"
    assert fan_run.states["done_anyway"] == "SUCCESS"  # ALL_DONE treats a disabled parent as done
    assert fan_run.result_state == "SUCCESS"


# --------------------------------------------------------------------------------------------- retries


@pytest.fixture(scope="module")
def retries_run(tmp_path_factory: pytest.TempPathFactory) -> RunRecord:
    markers = tmp_path_factory.mktemp("markers")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rules_module, "FOREVER_RETRIES_CAP", 1)  # so `forever` costs two kernels, not six
        return _run("retries.yml", tmp_path_factory.mktemp("runs"), max_parallel=2, max_retry_interval=1.0,
                    parameters={"fail_marker": str(markers / "failed_once")})


def test_a_failed_attempt_is_retried_and_can_succeed(retries_run: RunRecord) -> None:
    flaky = retries_run.task("flaky")
    assert [a.state for a in flaky.attempts] == ["FAILED", "SUCCESS"]
    assert [a.parameters["attempt"] for a in flaky.attempts] == ["1", "2"]  # {{task.execution_count}}
    assert flaky.result_state == "SUCCESS" and flaky.exit_value == "succeeded on attempt 2"
    assert flaky.attempts[0].error == {"cell": 2, "ename": "RuntimeError",
                                       "evalue": "first attempt (1) fails on purpose"}
    gap = (flaky.attempts[1].start_time - flaky.attempts[0].end_time).total_seconds()
    assert gap >= 0.3  # min_retry_interval_millis: 300
    run_dir = Path(retries_run.run_dir)
    assert (run_dir / "tasks/flaky/attempt_1.ipynb").is_file() and (run_dir / "tasks/flaky/attempt_2.ipynb").is_file()


def test_retries_stop_after_max_retries(retries_run: RunRecord) -> None:
    broken = retries_run.task("broken")
    assert [a.state for a in broken.attempts] == ["FAILED", "FAILED"]
    assert broken.result_state == "FAILED"
    assert "ValueError" in broken.message


def test_a_long_retry_interval_is_capped_when_asked_and_the_retry_still_happens(retries_run: RunRecord) -> None:
    broken = retries_run.task("broken")
    assert [a.state for a in broken.attempts] == ["FAILED", "FAILED"]
    assert broken.notes == ["min_retry_interval_millis is capped at 1 s here "
                            "(the grader does not wait minutes between retries)"]
    assert retries_run.task("flaky").notes == []  # 300 ms is under the cap: waited as asked


def test_retry_forever_is_capped_locally_and_says_so(retries_run: RunRecord) -> None:
    forever = retries_run.task("forever")
    assert [a.state for a in forever.attempts] == ["FAILED", "FAILED"]
    assert forever.result_state == "FAILED"
    assert forever.notes == ["max_retries -1 (retry forever) is capped at 1 retries when running locally"]


def test_a_timeout_is_retried_only_with_retry_on_timeout(retries_run: RunRecord) -> None:
    hangs_once = retries_run.task("hangs_once")
    assert [a.state for a in hangs_once.attempts] == ["TIMEDOUT", "SUCCESS"]
    assert "timeout_seconds" in hangs_once.attempts[0].message
    hangs = retries_run.task("hangs")
    assert [a.state for a in hangs.attempts] == ["TIMEDOUT"]  # max_retries 2, but retry_on_timeout is false
    assert hangs.result_state == "TIMEDOUT"
    assert retries_run.result_state == "FAILED"  # two leaves did not succeed


# --------------------------------------------------------------------------------------------- job timeout


def test_the_job_timeout_stops_running_tasks_and_cancels_the_rest(tmp_path: Path) -> None:
    record = _run("job_timeout.yml", tmp_path / "runs", max_parallel=1)
    assert record.states == {"hangs": "TIMEDOUT", "after_hangs": "CANCELED", "queued": "CANCELED"}
    assert "job run reached its timeout_seconds" in record.task("hangs").message
    assert record.task("queued").attempts == [] and record.task("after_hangs").attempts == []
    assert record.result_state == "TIMEDOUT"


# --------------------------------------------------------------------------------------------- repair


def test_repair_reruns_only_what_failed_and_keeps_task_values(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    runs = tmp_path / "runs"
    first = _run("repair.yml", runs, parameters={"marker": str(marker)})
    assert first.states == {"producer": "SUCCESS", "gate": "FAILED", "consumer": "UPSTREAM_FAILED",
                            "side": "SUCCESS"}
    assert first.result_state == "FAILED"

    marker.write_text("now it exists", encoding="utf-8")
    repaired = repair_run(run_id=first.run_id, runs_dir=runs, cell_timeout=120)

    assert repaired.states == {"producer": "SUCCESS", "gate": "SUCCESS", "consumer": "SUCCESS", "side": "SUCCESS"}
    assert repaired.result_state == "SUCCESS" and repaired.repair_count == 1
    assert [len(repaired.task(k).attempts) for k in ("producer", "gate", "consumer", "side")] == [1, 2, 1, 1]
    consumer = _exit_json(repaired, "consumer")
    assert consumer["from_api"] == 42  # the kept producer's task value
    assert consumer["params"] == {"rows_ref": "42", "repair": "1", "marker": str(marker)}
    run_dir = Path(repaired.run_dir)
    assert sorted(p.name for p in (run_dir / "tasks" / "gate").glob("*.ipynb")) == ["attempt_1.ipynb",
                                                                                    "attempt_2.ipynb"]
    assert load_run(run_id=first.run_id, runs_dir=runs).repairs[0].rerun_tasks == ["gate", "consumer"]


# --------------------------------------------------------------------------------------------- for_each_task


@pytest.fixture(scope="module")
def loop_run(tmp_path_factory: pytest.TempPathFactory) -> RunRecord:
    return _run("for_each.yml", tmp_path_factory.mktemp("runs"), max_parallel=2)


def test_a_for_each_runs_its_notebook_once_per_element_with_input_references(loop_run: RunRecord) -> None:
    per_layer = loop_run.task("per_layer")
    assert per_layer.type == "for_each" and per_layer.result_state == "SUCCESS"
    assert sorted((a.iteration, a.parameters["item"]) for a in per_layer.attempts) == [
        (0, "bronze"), (1, "silver"), (2, "gold")]
    assert per_layer.message == "3 iterations succeeded"
    assert per_layer.task_values == {}  # an iteration's task values are its own
    run_dir = Path(loop_run.run_dir)
    for attempt in per_layer.attempts:
        executed = nbformat.read(run_dir / (attempt.notebook or ""), as_version=4)
        assert attempt.parameters["item"] in json.dumps(executed.cells[-1].outputs)


def test_a_failed_iteration_is_retried_then_fails_the_loop_and_what_waits_for_it(loop_run: RunRecord) -> None:
    per_day = loop_run.task("per_day")
    assert [(a.iteration, a.parameters, a.state) for a in per_day.attempts] == [
        (0, {"item": "ok", "day": "1"}, "SUCCESS"),
        (1, {"item": "bad", "day": "2"}, "FAILED"),
        (1, {"item": "bad", "day": "2"}, "FAILED")]  # max_retries 1, per iteration
    assert per_day.result_state == "FAILED"
    assert "1 of 2 iterations" in per_day.message and "item 'bad' fails on purpose" in per_day.message
    assert loop_run.states["after_days"] == "UPSTREAM_FAILED"
    assert loop_run.result_state == "FAILED"
