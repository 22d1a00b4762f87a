"""The kit's shared server keeps the kit's answers from UDFs, and what a UDF starts ends with the grading."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from checkers.config import PROJECT_ROOT
from checkers.spark.server import connect
from checkers.spark.strays import end_strays

pytestmark = pytest.mark.spark


def _sleepers(seconds: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if proc.info["cmdline"] == ["sleep", seconds]:
            found.append(proc)
    return found


def test_a_udf_cannot_reach_the_answers_and_what_it_starts_is_ended_after_the_grading(
        spark_endpoint: Any, bwrap: str) -> None:
    """A UDF tries the grader and the solutions, and leaves a process that left its process group; the kit ends it
    (and the Python workers), and the next UDF still runs."""
    from pyspark.sql import functions as F

    seconds = str(4000 + os.getpid() % 1000 + time.time_ns() % 997)  # this test's own sleeper
    solutions = str(PROJECT_ROOT / "solutions" / "02_silver.ipynb")

    def probe(_):  # noqa: ANN001, ANN202 - type hints would make Spark take it for an Arrow UDF
        import importlib
        import os
        import subprocess

        try:
            importlib.import_module("checkers." + "grading.expect")
            found = "imported"
        except ImportError as exc:
            found = type(exc).__name__
        subprocess.run(["sh", "-c", f"setsid sleep {seconds} >/dev/null 2>&1 &"], check=True)
        return f"{found} {os.path.exists(solutions)}"

    assert Path(solutions).is_file()
    session = connect(endpoint=spark_endpoint)
    try:
        seen = session.range(1).select(F.udf(probe, "string")("id").alias("r")).collect()[0].r
        assert seen == "ModuleNotFoundError False"
        deadline = time.monotonic() + 30
        while not _sleepers(seconds) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = _sleepers(seconds)
        assert left, "the UDF's process should still be running after its query"

        ended = end_strays()
        assert {p.pid for p in left} <= set(ended)
        assert not _sleepers(seconds)
        # Spark starts its Python workers again for the next UDF.
        again = session.range(3).select(F.udf(lambda x: x * 2, "long")("id").alias("d")).collect()
        assert sorted(r.d for r in again) == [0, 2, 4]
    finally:
        for proc in _sleepers(seconds):
            proc.kill()
        session.stop()
