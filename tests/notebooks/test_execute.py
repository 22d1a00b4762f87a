"""Running notebooks in real kernels: parameters, exit, failures, timeouts, dead kernels, nested runs, Spark."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from checkers.notebooks.execute import FAILED_TAG, execute_notebook

pytestmark = pytest.mark.kernel


@pytest.fixture()
def nbdir(files: Path) -> Path:
    return files / "notebooks"


@pytest.mark.parametrize("name", ["widgets_echo.py", "widgets_echo.ipynb"])
def test_parameters_become_widget_values_and_exit_ends_the_notebook(nbdir: Path, tmp_path: Path, name: str) -> None:
    out = tmp_path / "out.ipynb"
    result = execute_notebook(path=nbdir / name, parameters={"layer": "gold", "run_id": "r1"}, output_path=out)
    assert result.ok, result.message
    echoed = json.loads(result.exit_value or "")
    # passed value wins over the default; an undeclared passed value is visible in getAll
    assert echoed["layer"] == "gold"
    assert echoed["source_path"] == "/Volumes/workspace/ecommerce/ecommerce_data/2019-Oct.csv"
    assert echoed["all"]["run_id"] == "r1"
    assert [(w.name, w.kind) for w in result.record.widgets] == [("source_path", "text"), ("layer", "dropdown")]
    saved = nbformat.read(str(out), as_version=4)
    texts = ["".join(o.get("text", "")) for c in saved.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert any("Notebook exited:" in t for t in texts)
    # the cell after exit never ran, so it has no outputs and no traceback
    assert saved.cells[-1].get("outputs") == []


def test_failing_cell_is_reported_and_marked_in_the_saved_notebook(nbdir: Path, tmp_path: Path) -> None:
    out = tmp_path / "failed.ipynb"
    result = execute_notebook(path=nbdir / "raises_in_cell_3.py", output_path=out)
    assert result.status == "failed"
    assert result.failure is not None
    assert (result.failure.index, result.failure.ename) == (2, "ValueError")
    assert result.failure.evalue == "bad value in cell three"
    assert "raise ValueError" in result.failure.source
    assert any("ValueError" in line for line in result.failure.traceback)
    assert "cell 3 raised ValueError" in result.message
    saved = nbformat.read(str(out), as_version=4)
    assert "failed at cell 3" in saved.cells[0].source
    tagged = [c for c in saved.cells if FAILED_TAG in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and "raise ValueError" in tagged[0].source
    assert "before the error" in "".join(o.get("text", "") for c in saved.cells for o in c.get("outputs", []))


def test_cell_timeout_interrupts_and_reports_the_cell(nbdir: Path) -> None:
    result = execute_notebook(path=nbdir / "sleeps_forever.py", cell_timeout=2)
    assert result.status == "timeout"
    assert result.failure is not None and result.failure.index == 1
    assert "timed out" in result.message


def test_a_kernel_stopped_mid_cell_prints_nothing_on_the_console(nbdir: Path,
                                                                 capfd: pytest.CaptureFixture[str]) -> None:
    """Stopping a kernel while a cell runs makes ipykernel log a ZMQError traceback: it goes to the kernel's log."""
    import time

    from checkers.notebooks.kernels import kernel_service

    result = execute_notebook(path=nbdir / "sleeps_forever.py", cell_timeout=2)
    assert result.status == "timeout"
    deadline = time.monotonic() + 30
    while kernel_service()._tasks and time.monotonic() < deadline:  # the kernel's shutdown runs in the background
        time.sleep(0.2)
    time.sleep(1.0)
    err = capfd.readouterr().err
    assert "Traceback" not in err and "ZMQError" not in err, err[-2000:]


def test_notebook_timeout_bounds_the_whole_run(nbdir: Path) -> None:
    result = execute_notebook(path=nbdir / "sleeps_forever.py", cell_timeout=600, timeout=6)
    assert result.status == "timeout"
    assert result.duration < 60


def test_dead_kernel_is_a_result_with_its_own_message(nbdir: Path, tmp_path: Path) -> None:
    result = execute_notebook(path=nbdir / "kills_kernel.py", output_path=tmp_path / "dead.ipynb")
    assert result.status == "kernel_died"
    assert "kernel died" in result.message
    assert result.failure is not None and result.failure.index == 1
    assert (tmp_path / "dead.ipynb").exists()


def test_task_values_flow_in_a_job_and_use_debug_value_outside(nbdir: Path) -> None:
    in_job = execute_notebook(path=nbdir / "task_values.py", in_job=True, task_key="silver",
                              task_values={"bronze": {"bronze_rows": 99}})
    assert in_job.ok, in_job.message
    assert in_job.record.task_values == {"silver_rows": 100, "info": {"ok": True, "items": [1, 2]}}
    interactive = execute_notebook(path=nbdir / "task_values.py")
    assert json.loads(interactive.exit_value or "") == {"upstream": 42}


def test_notebook_run_runs_a_child_with_arguments(nbdir: Path, tmp_path: Path) -> None:
    result = execute_notebook(path=nbdir / "calls_child.py", work_dir=tmp_path)
    assert result.ok, result.message
    assert result.exit_value == "child said hello from-parent"
    assert list((tmp_path / "nested").glob("*child.ipynb"))


@pytest.mark.spark
def test_two_notebooks_share_one_spark_server(nbdir: Path, spark_endpoint: Any, spark: Any) -> None:
    from checkers.spark.client import kernel_env
    from checkers.spark.server import server_status

    before = server_status()
    env = kernel_env(spark_endpoint)
    first = execute_notebook(path=nbdir / "spark_roundtrip.py", parameters={"schema": "exec_a"}, env=env,
                             in_job=True)
    second = execute_notebook(path=nbdir / "spark_roundtrip.py", parameters={"schema": "exec_b"}, env=env,
                              in_job=True)
    assert first.ok and second.ok, (first.message, second.message)
    assert first.exit_value == "UTC"
    assert first.record.task_values == {"rows": 3}
    assert server_status().pid == before.pid
    for schema in ("exec_a", "exec_b"):
        rows = spark.table(f"{schema}.letters").orderBy("id").collect()
        assert [(r.id, r.letter) for r in rows] == [(1, "a"), (2, "b"), (3, "c")]


def test_concurrent_starts_never_see_a_half_written_kernelspec(tmp_path: Path) -> None:
    """The runner starts kernels from several threads at once; each must read a whole kernel.json."""
    import threading

    from checkers.notebooks.kernels import _kernel_manager

    errors: list[Exception] = []

    def start_many() -> None:
        for _ in range(100):
            try:
                assert _kernel_manager(tmp_path, writable=())[0].kernel_spec.argv
            except Exception as exc:  # collect, the main thread asserts
                errors.append(exc)

    threads = [threading.Thread(target=start_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_a_kernel_does_not_pass_its_own_run_context_or_pooled_flag_to_the_kernels_it_starts(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A notebook run from inside a pooled, bound kernel gets a context of its own and is not taken for a pooled one."""
    from checkers.notebooks import execute
    from checkers.signals import POOLED_KERNEL, RUN_CONTEXT, SANDBOX_ROOT

    monkeypatch.setenv(POOLED_KERNEL, "1")
    monkeypatch.setenv(RUN_CONTEXT, "/parent/context.json")
    monkeypatch.setenv(SANDBOX_ROOT, str(tmp_path))  # a sandboxed parent's children stay sandboxed
    env, writable = execute._kernel_environment({"EXTRA": "x"})
    assert POOLED_KERNEL not in env and RUN_CONTEXT not in env
    assert env["EXTRA"] == "x" and writable == [tmp_path]
    env, _ = execute._kernel_environment({POOLED_KERNEL: "1"})  # the pool sets it on purpose for its own kernels
    assert env[POOLED_KERNEL] == "1"


def test_widgets_kept_in_a_databricks_export_are_there_as_after_an_import_but_not_in_a_job(tmp_path: Path) -> None:
    """A widget made in the widget bar lives only in the export's metadata; a cell may read it without declaring it.
    A passed value wins; a job run (or the grader) never sees saved widgets."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        'import json\ndbutils.notebook.exit(json.dumps({"layer": dbutils.widgets.get("layer"), '
        '"day": dbutils.widgets.get("day")}))')])
    nb.metadata["application/vnd.databricks.v1+notebook"] = {"widgets": {
        "layer": {"currentValue": "Silver", "widgetInfo": {"widgetType": "dropdown", "defaultValue": "Bronze",
                                                           "name": "layer", "options": {"choices": ["Bronze"]}}},
        "day": {"currentValue": "2026-01-15", "typedWidgetInfo": {"defaultValue": "2026-01-15", "name": "day"}}}}
    path = tmp_path / "ui_widgets.ipynb"
    nbformat.write(nb, str(path))

    result = execute_notebook(path=path, parameters={"day": "2019-10-02"}, saved_widgets=True)
    assert result.ok, result.message
    assert json.loads(result.exit_value or "{}") == {"layer": "Bronze", "day": "2019-10-02"}
    in_job = execute_notebook(path=path, parameters={"day": "2019-10-02"}, saved_widgets=True, in_job=True)
    assert not in_job.ok and "No input widget named 'layer'" in in_job.message
