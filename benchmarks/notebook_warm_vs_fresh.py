"""Time one small Spark notebook: against the kit's warm Spark Connect server vs a fresh local SparkSession.

Both ways run the same notebook in a fresh Jupyter kernel, so the only difference is where Spark comes from.
Run:  python benchmarks/notebook_warm_vs_fresh.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "tests" / "files" / "notebooks" / "spark_roundtrip.py"
FRESH_SESSION = (
    "from pyspark.sql import SparkSession\n"
    "spark = (SparkSession.builder.master('local[2]').config('spark.sql.session.timeZone', 'UTC')"
    ".config('spark.ui.enabled', 'false').config('spark.sql.warehouse.dir', {warehouse!r}).getOrCreate())"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="Runs of each way (default 3).")
    args = parser.parse_args()

    from checkers.notebooks.execute import execute_notebook
    from checkers.notebooks.formats import read_notebook
    from checkers.spark.client import kernel_env
    from checkers.spark.server import ensure_server

    work = Path(tempfile.mkdtemp(prefix="day07-bench-"))
    os.environ.setdefault("DAY07_HOME", str(work / "home"))

    # The naive way: the same cells, after a cell that builds a classic local SparkSession in the kernel.
    fresh_nb = read_notebook(NOTEBOOK)
    fresh_nb.cells.insert(0, nbformat.v4.new_code_cell(FRESH_SESSION.format(warehouse=str(work / "warehouse"))))
    fresh_path = work / "fresh_session.ipynb"
    nbformat.write(fresh_nb, str(fresh_path))

    started = time.monotonic()
    endpoint = ensure_server()
    print(f"warm-up: Spark Connect server ready in {time.monotonic() - started:.1f} s (paid once)")
    env = kernel_env(endpoint)
    execute_notebook(path=NOTEBOOK, parameters={"schema": "bench_warmup"}, env=env)  # first-query costs

    warm: list[float] = []
    fresh: list[float] = []
    for i in range(args.runs):
        result = execute_notebook(path=NOTEBOOK, parameters={"schema": f"bench_warm_{i}"}, env=env)
        if not result.ok:
            print(f"warm run failed: {result.message}", file=sys.stderr)
            return 1
        warm.append(result.duration)
        result = _run_without_remote(execute_notebook, fresh_path, f"bench_fresh_{i}", work)
        if not result.ok:
            print(f"fresh run failed: {result.message}", file=sys.stderr)
            return 1
        fresh.append(result.duration)
        print(f"run {i + 1}: warm server {warm[-1]:.1f} s, fresh SparkSession {fresh[-1]:.1f} s")

    w, f = statistics.median(warm), statistics.median(fresh)
    print(f"\nmedian per notebook: warm server {w:.1f} s, fresh SparkSession {f:.1f} s")
    print(f"ratio (fresh / warm): {f / w:.1f}x faster with the kit's warm server")
    return 0


def _run_without_remote(execute, path, schema, work):  # type: ignore[no-untyped-def]
    """The kernel inherits os.environ: drop the Connect settings so the notebook builds its own classic session."""
    names = ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED")
    saved = {name: os.environ.pop(name) for name in names if name in os.environ}
    try:
        return execute(path=path, parameters={"schema": schema}, env={"SPARK_LOCAL_DIRS": str(work / "local")},
                       cell_timeout=300)
    finally:
        os.environ.update(saved)


if __name__ == "__main__":
    sys.exit(main())
