"""The kit's shared server keeps the kit's answers from UDFs, and what a UDF starts ends with the grading."""

from __future__ import annotations

import os
import sys
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


def _posers(seconds: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        line = proc.info["cmdline"] or []
        if "pyspark.daemon" in line and any(seconds in part for part in line):
            found.append(proc)
    return found


def test_a_udf_cannot_reach_the_answers_and_what_it_starts_is_ended_after_the_grading(
        spark_endpoint: Any, bwrap: str, tmp_path: Path) -> None:
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

        # SQL alone can start a process too (a script transform), named like Spark's Python daemon.
        posing = str(int(seconds) + 1)
        script = tmp_path / "pose.sh"
        script.write_text(f"setsid {sys.executable} -c 'import time; time.sleep({posing})' -m pyspark.daemon "
                          ">/dev/null 2>&1 &\ncat\n", encoding="utf-8")
        session.sql(f"SELECT TRANSFORM(id) USING 'sh {script}' AS (out) FROM range(1)").collect()
        deadline = time.monotonic() + 30
        while not _posers(posing) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _posers(posing), "the transform's process should be running"

        ended = end_strays()
        assert {p.pid for p in left + _posers(posing)} <= set(ended)
        assert not _sleepers(seconds) and not _posers(posing)
        # Spark starts its Python workers again for the next UDF.
        again = session.range(3).select(F.udf(lambda x: x * 2, "long")("id").alias("d")).collect()
        assert sorted(r.d for r in again) == [0, 2, 4]
    finally:
        for proc in _sleepers(seconds) + _posers(str(int(seconds) + 1)):
            proc.kill()
        session.stop()
