"""Grading on a real Spark cluster: a standalone master and two workers on 127.0.0.1, the data on a shared folder.

The kit's server is then a Spark Connect server whose work runs on the cluster's executors (``DAY07_SPARK_MASTER``);
the warehouse, the volumes and the grader's unseen data live in ``DAY07_SHARED_DIR``. The test uses a kit home of
its own, so the test session's shared server is never touched.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from checkers.spark.cluster import LocalCluster, start_local_cluster

SOLUTIONS = Path(__file__).parents[2] / "solutions"
ROWS = 2000

pytestmark = [pytest.mark.spark]


@pytest.fixture(scope="module")
def cluster(kit_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A master and two one-core workers, and a kit home and shared folder pointed at it (all for this module)."""
    from checkers.spark.server import stop_server

    root = tmp_path_factory.mktemp("cluster")
    started = start_local_cluster(root=root / "daemons", workers=2, cores=1, memory="1g")
    saved = {k: os.environ.get(k) for k in ("DAY07_HOME", "DAY07_SPARK_MASTER", "DAY07_SHARED_DIR")}
    os.environ.update({"DAY07_HOME": str(root / "home"), "DAY07_SPARK_MASTER": started.master,
                       "DAY07_SHARED_DIR": str(root / "shared")})
    (root / "shared").mkdir()
    try:
        yield started
    finally:
        try:
            stop_server()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            started.stop()


def _executors_ran_on(cluster: LocalCluster) -> set[str]:
    """The workers whose work folder holds an executor of some application (``app-*/<n>/``)."""
    return {w.name for w in cluster.root.glob("worker*") if any(w.glob("app-*/*/stderr"))}


def test_the_solutions_get_full_marks_on_a_cluster_with_the_data_on_the_shared_folder(cluster: LocalCluster) -> None:
    from checkers.grading.grade import grade_submission
    from checkers.grading.options import GradeOptions
    from checkers.spark.server import server_status

    report = grade_submission(folder=SOLUTIONS, options=GradeOptions(rows=ROWS, keep=True))

    failed = {c.id: c.message for c in report.required_checks if c.status != "passed"}
    assert report.score == report.max_score, failed
    status = server_status()
    assert status.master == cluster.master
    shared = Path(os.environ["DAY07_SHARED_DIR"])
    # The executors wrote the tables into the shared warehouse, and read the unseen data from the shared folder.
    assert Path(report.data_file).is_relative_to(shared)
    assert (shared / "warehouse" / f"{report.schema}.db" / "silver_events").is_dir()
    assert not (Path(os.environ["DAY07_HOME"]) / "warehouse").exists()
    # The work ran on the cluster: the master knows the kit's application, and its workers ran executors of it.
    apps = [a.get("name") for a in cluster.status().get("activeapps", []) or []]
    assert "day07-connect" in apps
    assert _executors_ran_on(cluster) <= {"worker1", "worker2"} and _executors_ran_on(cluster)
