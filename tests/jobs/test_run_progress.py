"""A long Spark query's progress reaches ``day07 run``'s live view, not the executed notebook."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import nbformat
from rich.console import Console

from checkers.jobs.events import RunEvent
from checkers.jobs.live import LiveView, graph_table
from checkers.jobs.record import RUNNING, RunRecord, TaskRun
from checkers.runtime.progress import QueryProgress

FILES = Path(__file__).resolve().parent.parent / "files"
Day07 = Callable[..., tuple[int, str, str]]


def _record() -> RunRecord:
    task = TaskRun(task_key="silver", type="notebook", life_cycle_state=RUNNING)
    return RunRecord(run_id=7, job_name="pipeline", job_path="job.yml", run_dir="/tmp/run", tasks=[task])


def _progress(done: int, total: int, *, finished: bool = False) -> QueryProgress:
    return QueryProgress(tasks=total, tasks_done=done, stages=2, stages_done=0, running=2, bytes_read=3 * 2**30,
                         seconds=12.0, done=finished)


def test_the_live_view_shows_a_bar_beside_the_running_task_only_while_its_query_runs() -> None:
    record = _record()
    plain = graph_table(record)
    assert "Spark" not in [c.header for c in plain.columns]
    table = graph_table(record, {"silver": _progress(11, 44)})
    console = Console(file=io.StringIO(), width=120, color_system=None)
    console.print(table)
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert re.search(r"silver .*RUNNING.*▕██ +▏  25 % · 3\.0 GiB", shown), shown
    finished = graph_table(record, {"silver": _progress(44, 44, finished=True)})
    assert "Spark" not in [c.header for c in finished.columns]


def test_in_a_log_progress_is_one_line_per_task_at_most_every_30_seconds() -> None:
    out = io.StringIO()
    view = LiveView(Console(file=out, width=120, color_system=None))  # not a terminal: one line per change
    record = _record()
    with view:
        for done in (4, 8, 12):
            view.on_event(RunEvent(kind="task_progress", record=record, task_key="silver",
                                   progress=_progress(done, 44)))
    lines = [line for line in out.getvalue().splitlines() if "Spark:" in line]
    assert lines == ["  … silver: Spark: 4/44 tasks (9 %), stage 1 of 2, 3.0 GiB read, 12 s"]


def test_a_long_query_in_a_job_task_reports_progress_to_the_run_not_into_its_notebook(
        day07: Day07, spark_endpoint: object, kit_home: Path) -> None:
    code, out, err = day07("run", str(FILES / "runner" / "slow_query.yml"))

    assert code == 0, out + err
    found = re.search(r"… slow: Spark: (\d+)/(\d+) tasks \((\d+) %\)", out)
    assert found, out
    assert int(found.group(2)) >= 4  # the four partitions of the held query (and any stage after them)
    run_id = re.search(r"^Run (\d+)", out, re.MULTILINE)
    assert run_id, out
    executed = next((kit_home / "runs" / run_id.group(1)).rglob("*.ipynb"))
    outputs = [o for cell in nbformat.read(str(executed), as_version=4).cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if "Spark:" in str(o)]
