"""When a Spark server dies: the cohort's watchdog restarts it, the hit submission is graded again, clients fail fast.

A cohort grades on servers of its own, one per worker; these tests SIGKILL them. They also run in a separate kit
home (one for the module), so the test session's shared server is never touched.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from checkers.grading.cohort import grade_cohort
from checkers.grading.gradebook import Gradebook
from checkers.grading.options import submission_seed
from checkers.spark.client import Endpoint, bounded_retries
from checkers.spark.server import connect, ensure_server, server_status, stop_server
from checkers.spark.spec import ServerSpec

SOLUTIONS = Path(__file__).parents[2] / "solutions"
ROWS = 2000
HANG_GUARD_SECONDS = 120.0
"""Not a timing assertion: only keeps a client that retries for many minutes from hanging the suite."""

pytestmark = [
    pytest.mark.spark,
    # PySpark warns "[RETRIES_EXCEEDED]" when it gives up on a dead server, then raises the real error; the
    # suite's warnings-as-errors would raise the warning instead and hide the error the kit really gets.
    pytest.mark.filterwarnings(r"ignore:\[RETRIES_EXCEEDED\]:UserWarning"),
]


@pytest.fixture(scope="module")
def own_server(kit_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    """A kit home with its own server for this module (killing the shared one would break other tests)."""
    home = tmp_path_factory.mktemp("server-death-home")
    shared = os.environ["DAY07_HOME"]
    os.environ["DAY07_HOME"] = str(home)
    try:
        yield ensure_server()
    finally:
        try:
            stop_server()
        finally:
            os.environ["DAY07_HOME"] = shared


def _grading_server() -> ServerSpec:
    """The server of the cohort's (only) worker: a grading never runs on the kit's shared server."""
    roots = sorted(Path(os.environ["DAY07_HOME"]).glob("graders/*/w1"), key=lambda p: p.stat().st_mtime)
    assert roots, "no grading server folder: the cohort should have started one"
    return ServerSpec(root=roots[-1])


def _kill_server(spec: ServerSpec | None = None) -> int:
    """SIGKILL a server (no clean shutdown: what a crash or the OOM killer does); returns its pid."""
    status = server_status(spec)
    assert status.running and status.pid is not None, "the server should be running before it is killed"
    top = psutil.Process(status.pid)  # the JVM, or the sandbox that holds it: the JVM is what crashes
    jvm = next((p for p in (top, *top.children(recursive=True)) if p.name() == "java"), top)
    os.kill(jvm.pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = server_status(spec)
        if not now.running or now.pid != status.pid:
            return status.pid
        time.sleep(0.1)
    raise AssertionError(f"server pid {status.pid} still looks alive 60 s after SIGKILL")


def _cohort(root: Path, *ids: str) -> Path:
    for sid in ids:
        shutil.copytree(SOLUTIONS, root / sid, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return root


def _assert_gradebook_matches(out: Path, entries: list[Any]) -> None:
    book = Gradebook.load(out_dir=out)
    assert book is not None
    assert {sid: (e.status, e.attempts, e.score) for sid, e in book.entries.items()} == {
        e.id: (e.status, e.attempts, e.score) for e in entries}
    csv_rows = {line.split(",")[0]: line for line in (out / "gradebook.csv").read_text().splitlines()[1:]}
    assert set(csv_rows) == {e.id for e in entries}
    for e in entries:
        assert f",{e.status}," in csv_rows[e.id]


def test_a_killed_server_is_restarted_and_its_grading_repeated_and_one_dying_every_time_fails_with_0(
        own_server: Endpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One cohort, one worker, graded in id order:

    * ``a_doomed``: the grader kills the server from inside each of its gradings (deterministic);
    * ``a_hit``: a thread SIGKILLs the server once a task of its job runs (a real crash mid-grading);
    * ``b_after``: graded as usual on the restarted server.
    """
    import checkers.grading.grade as grade_module

    real = grade_module.grade_submission
    doomed_kills: list[int] = []

    def server_dies_for_a_doomed(*, name: str, **kwargs: Any) -> Any:
        if name == "a_doomed":
            doomed_kills.append(_kill_server(kwargs["options"].server))
            raise ConnectionError("the Spark Connect server went away")  # what its session would report
        return real(name=name, **kwargs)

    monkeypatch.setattr(grade_module, "grade_submission", server_dies_for_a_doomed)
    cohort = _cohort(tmp_path / "cohort", "a_doomed", "a_hit", "b_after")
    out = tmp_path / "out"
    first_attempt = out / "submissions" / "a_hit" / "attempt-1"
    killed: list[int] = []
    done = threading.Event()

    def kill_once_a_task_runs() -> None:
        while not done.is_set():
            if any(first_attempt.glob("runs/*/tasks/*")):
                killed.append(_kill_server(_grading_server()))
                return
            time.sleep(0.2)

    killer = threading.Thread(target=kill_once_a_task_runs, name="test-killer", daemon=True)
    killer.start()
    try:
        result = grade_cohort(cohort_dir=cohort, out_dir=out, workers=1, rows=ROWS)
    finally:
        done.set()
        killer.join(60)
    assert len(killed) == 1, "the job of a_hit never started a task, so the server was never killed"

    # Killed at every attempt: graded twice, each time on a restarted server and its own data, then failed with 0
    # (its own code stopping the server must not buy it "not graded").
    doomed = result.entry("a_doomed")
    assert len(doomed_kills) == 2 and doomed_kills[0] != doomed_kills[1]
    assert doomed.status == "failed" and doomed.attempts == 2
    assert doomed.score == 0 and doomed.max_score == 100 and doomed.report is None
    assert doomed.seed != submission_seed(result.seed, "a_doomed")  # the second attempt had data of its own
    assert "Spark server died while grading it" in doomed.message and "died again" in doomed.message
    assert "went away" in doomed.message
    # Killed once mid-grading: graded again on the restarted server, with full marks; the next one once.
    hit, after = result.entry("a_hit"), result.entry("b_after")
    assert hit.status == "passed" and hit.attempts == 2, hit.message
    assert hit.max_score and hit.score == hit.max_score and hit.failed_checks == []
    assert after.status == "passed" and after.attempts == 1, after.message
    assert after.max_score and after.score == after.max_score
    assert (out / "submissions" / "a_hit" / "attempt-2").is_dir()
    assert not (out / "submissions" / "b_after" / "attempt-2").exists()
    assert hit.report is not None
    assert "graded a second time: the Spark server died while grading it" in (out / hit.report).read_text()
    _assert_gradebook_matches(out, result.entries)
    assert result.summary["statuses"] == {"failed": 1, "passed": 2}
    assert result.summary["not_graded"] == []
    assert not list(Path(os.environ["DAY07_HOME"]).glob("graders/*/w1"))  # stopped and removed at the end


def test_sessions_to_a_dead_server_fail_with_a_clear_error_instead_of_retrying_for_minutes(
        own_server: Endpoint) -> None:
    """The grader's session (``connect``, already used) and a new kernel-style one (PySpark's, then bounded)."""
    import grpc
    from pyspark.errors.exceptions.connect import SparkConnectGrpcException
    from pyspark.sql.connect.session import SparkSession

    endpoint = ensure_server()  # the earlier tests may have moved it
    used = connect(endpoint=endpoint)
    assert used.range(3).count() == 3
    _kill_server()  # no watchdog here: it stays dead
    sessions = {"used before": used,
                "new, kernel-style": bounded_retries(session=SparkSession.builder.remote(endpoint.url).create())}
    errors: dict[str, BaseException | None] = {}

    def query(label: str, session: Any) -> None:
        try:
            session.range(1).collect()
            errors[label] = None
        except Exception as exc:  # noqa: BLE001 - recorded for the assertions
            errors[label] = exc
        finally:
            session.stop()  # releasing the session retries too: it must also give up

    threads = [threading.Thread(target=query, args=item, daemon=True) for item in sessions.items()]
    for t in threads:
        t.start()
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    assert not [t for t in threads if t.is_alive()], f"still retrying after {HANG_GUARD_SECONDS:.0f} s"
    for label, exc in errors.items():
        assert isinstance(exc, SparkConnectGrpcException), f"{label}: {exc!r}"
        assert exc.getGrpcStatusCode() == grpc.StatusCode.UNAVAILABLE, label
        assert "failed to connect" in str(exc).lower(), f"{label}: {exc}"
    assert sorted(errors) == sorted(sessions)


def test_day07_check_grades_again_when_its_server_dies_and_fails_a_submission_it_dies_under_twice(
        own_server: Endpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``day07 check`` (also Gradescope's autograder) on the kit's own server: the first death buys a second grading
    on other data; a second one is the submission's doing, so its report fails every check with 0."""
    from types import SimpleNamespace

    import checkers.grading.grade as grade_module
    from checkers.cli.check_cmd import _grade_twice_if_the_server_dies
    from checkers.grading.options import GradeOptions

    seeds: list[int | None] = []

    def dies_once(*, options: Any, **_kwargs: Any) -> Any:
        seeds.append(options.seed)
        if len(seeds) == 1:
            _kill_server()
            raise ConnectionError("the Spark Connect server went away")
        return SimpleNamespace(all_passed=True, notes=[])

    monkeypatch.setattr(grade_module, "grade_submission", dies_once)
    report = _grade_twice_if_the_server_dies(SOLUTIONS, options=GradeOptions(seed=11, rows=ROWS), work_dir=None,
                                             name="once", progress=None)
    assert seeds == [11, None]  # the second grading gets data of its own
    assert report.notes == ["graded a second time: the Spark server died while grading it (ConnectionError: the "
                            "Spark Connect server went away); the first grading does not count"]
    assert server_status().running  # started again

    def dies_always(**_kwargs: Any) -> Any:
        _kill_server()
        raise ConnectionError("the Spark Connect server went away")

    monkeypatch.setattr(grade_module, "grade_submission", dies_always)
    report = _grade_twice_if_the_server_dies(SOLUTIONS, options=GradeOptions(rows=ROWS), work_dir=None,
                                             name="twice", progress=None)
    assert report.score == 0 and report.max_score == 100 and not report.all_passed
    assert {c.status for c in report.checks} == {"failed"}
    assert "died again" in report.checks[0].message and "stopped the server" in report.checks[0].message
