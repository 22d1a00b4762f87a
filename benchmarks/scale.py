"""The solution job on generated data of 1 M and 10 M rows, against two yardsticks measured in the same run.

    python benchmarks/scale.py [--rows 1000000 10000000] [--data-dir DIR] [--no-plain] [--runs 1]

For each size it prints each task's time and rows per second (input rows / task time) for:

- **the kit**: ``day07 run`` of ``solutions/job.yml`` (feedback cells included, as a learner runs it) on the kit's
  shared Spark server, started before and not counted;
- **plain PySpark**: the same notebooks, one after the other, each in a fresh kernel whose first cell builds
  ``SparkSession.builder.master("local[*]")`` with a Hive metastore (so the next notebook finds the table), the way
  a learner would without the kit; each notebook's time includes its session's start, as it would for them;
- **the floor**: one CSV scan and count of the same file (``spark.read.csv(...).count()``) on the kit's server.

Then the ratios (plain / kit, kit / floor) and the server's peak memory (RSS of the JVM and its Python workers).
The data files are generated once into ``--data-dir`` (not counted) and reused by later runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from checkers.signals import KIT_SERVER

ROOT = Path(__file__).resolve().parent.parent
TARGET_10M_SECONDS = 120.0
"""Issue 19: the solution job on 10 M generated rows in 2 minutes or less, feedback cells included."""
CONNECT_ENV = ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED", "SPARK_LOCAL_REMOTE", "SPARK_API_MODE", KIT_SERVER)
PLAIN_SESSION = """\
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[*]").appName("plain")
         .config("spark.sql.warehouse.dir", {warehouse!r})
         .config("spark.driver.extraJavaOptions", "-Dderby.system.home={derby}")
         .enableHiveSupport().getOrCreate())
"""


@dataclass
class Timing:
    """One way of running the job on one file."""

    label: str
    tasks: dict[str, float] = field(default_factory=dict)
    total: float = 0.0
    ok: bool = True
    note: str = ""


class PeakRss:
    """Samples the RSS of a process and its children every half second; keeps the peak (and the CPU it used)."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set() and self.pid is not None:
            try:
                root = psutil.Process(self.pid)
                self.peak = max(self.peak, sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]))
            except psutil.Error:
                pass
            self._stop.wait(0.5)

    def _cpu(self) -> float:
        import psutil

        try:
            times = psutil.Process(self.pid).cpu_times() if self.pid is not None else None
        except psutil.Error:
            return 0.0
        return 0.0 if times is None else times.user + times.system + times.children_user + times.children_system

    def __enter__(self) -> PeakRss:
        self.cpu = -self._cpu()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.cpu += self._cpu()


def data_file(rows: int, folder: Path) -> Path:
    """The generated file of ``rows`` rows over 31 days (made once, then reused)."""
    from checkers.data.generate import generate_events

    path = folder / f"events_{rows}.csv"
    if not path.exists():
        started = time.monotonic()
        generate_events(out=path, rows=rows, seed=7, days=31)
        print(f"  generated {path} ({path.stat().st_size / 2**30:.2f} GiB) in {time.monotonic() - started:.0f} s "
              "(not counted)", flush=True)
    return path


def run_kit(path: Path, rows: int, schema: str) -> Timing:
    """``day07 run`` of the solution job, as a learner runs it (feedback cells included)."""
    from checkers.jobs.load import load_job
    from checkers.jobs.run import run_job

    job = load_job(path=ROOT / "solutions" / "job.yml")
    started = time.monotonic()
    record = run_job(job=job, parameters={"source_path": str(path), "schema": schema})
    timing = Timing("kit", total=time.monotonic() - started, ok=record.result_state == "SUCCESS",
                    note=record.message if record.result_state != "SUCCESS" else "")
    for task in record.tasks:
        if task.duration is not None and task.type == "notebook":
            timing.tasks[task.task_key] = task.duration
    return timing


def job_notebooks() -> list[tuple[str, Path]]:
    """The solution job's notebook tasks, in the order the job runs them (one after the other)."""
    from checkers.jobs.load import load_job
    from checkers.jobs.plan import plan_job

    job = load_job(path=ROOT / "solutions" / "job.yml")
    return [(key, Path(job.notebooks[key])) for key in plan_job(job).order if key in job.notebooks]


def run_plain(path: Path, rows: int, work: Path) -> Timing:
    """The same notebooks in fresh kernels with a classic ``local[*]`` SparkSession each (no kit server)."""
    import nbformat

    from checkers.notebooks.execute import execute_notebook

    warehouse, derby = work / "warehouse", work / "derby"
    derby.mkdir(parents=True, exist_ok=True)
    saved = {k: os.environ.pop(k) for k in (*CONNECT_ENV, "DAY07_KERNEL_MEMORY_MB") if k in os.environ}
    os.environ["DAY07_KERNEL_POOL"] = "0"  # a learner's kernel starts when the notebook opens
    os.environ["DAY07_KERNEL_MEMORY_MB"] = "0"  # its Spark runs inside the kernel: no kit memory guard without the kit
    timing = Timing("plain PySpark")
    started = time.monotonic()
    try:
        for key, notebook in job_notebooks():
            stem = notebook.stem
            nb = nbformat.read(str(notebook), as_version=4)
            nb.cells.insert(0, nbformat.v4.new_code_cell(PLAIN_SESSION.format(warehouse=str(warehouse),
                                                                             derby=str(derby))))
            copy = work / f"{stem}.ipynb"
            nbformat.write(nb, str(copy))
            # As a job task, like the kit's run (a feedback cell sees the same job context there and here).
            result = execute_notebook(path=copy, parameters={"source_path": str(path), "schema": "plain"},
                                      in_job=True, task_key=key, env=dict(os.environ), work_dir=work / f"{stem}-run",
                                      cell_timeout=3600, **_job_ids(execute_notebook, task=len(timing.tasks) + 1))
            timing.tasks[key] = result.duration
            if not result.ok:
                timing.ok, timing.note = False, result.message
                break
    finally:
        for name in ("DAY07_KERNEL_POOL", "DAY07_KERNEL_MEMORY_MB"):
            os.environ.pop(name, None)
        os.environ.update(saved)
    timing.total = time.monotonic() - started
    return timing


def _job_ids(execute: object, *, task: int) -> dict[str, object]:
    """``job_ids`` for the executor when it takes them (job id, job run id, task run id)."""
    import inspect

    return {"job_ids": (1, 1, task)} if "job_ids" in inspect.signature(execute).parameters else {}  # type: ignore[arg-type]


def run_floor(path: Path) -> Timing:
    """One CSV scan and count of the file on the kit's server."""
    from checkers.spark.server import connect

    spark = connect()
    try:
        started = time.monotonic()
        spark.read.option("header", True).csv(str(path)).count()
        return Timing("floor (CSV scan + count)", total=time.monotonic() - started)
    finally:
        spark.stop()


def show(timing: Timing, rows: int) -> None:
    parts = [f"{k} {v:.1f} s ({rows / v / 1e6:.2f} M rows/s)" for k, v in timing.tasks.items() if v > 0]
    state = "" if timing.ok else f"  FAILED: {timing.note}"
    print(f"  {timing.label}: {timing.total:.1f} s" + (f"  [{'; '.join(parts)}]" if parts else "") + state,
          flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000], help="sizes to run")
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "day07-scale-data",
                        help="where the generated files are kept between runs")
    parser.add_argument("--no-plain", action="store_true", help="skip the plain PySpark yardstick")
    parser.add_argument("--runs", type=int, default=1, help="runs of each way per size (medians are shown)")
    args = parser.parse_args()

    owned = not os.environ.get("DAY07_HOME")
    if owned:
        os.environ["DAY07_HOME"] = tempfile.mkdtemp(prefix="day07-bench-scale-")
    args.data_dir.mkdir(parents=True, exist_ok=True)
    from checkers.spark.server import ensure_server, server_status, stop_server

    started = time.monotonic()
    endpoint = ensure_server()
    status = server_status()
    print(f"Spark server ready in {time.monotonic() - started:.1f} s (not counted): {status.memory}")
    results: dict[int, dict[str, list[Timing]]] = {}
    peaks: dict[int, int] = {}
    try:
        for rows in args.rows:
            path = data_file(rows, args.data_dir)
            print(f"\n{rows:,} rows ({path.stat().st_size / 2**30:.2f} GiB):", flush=True)
            ways: dict[str, list[Timing]] = {"kit": [], "plain": [], "floor": []}
            for run in range(args.runs):
                ways["floor"].append(run_floor(path))
                show(ways["floor"][-1], rows)
                with PeakRss(server_status().pid) as peak:
                    ways["kit"].append(run_kit(path, rows, schema=f"scale_{rows}_{run}"))
                peaks[rows] = max(peaks.get(rows, 0), peak.peak)
                show(ways["kit"][-1], rows)
                print(f"    server: {peak.cpu:.0f} core-s of CPU, peak RSS {peak.peak / 2**30:.2f} GiB", flush=True)
                if not args.no_plain:
                    ways["plain"].append(run_plain(path, rows, Path(tempfile.mkdtemp(prefix="day07-plain-"))))
                    show(ways["plain"][-1], rows)
            results[rows] = ways
    finally:
        if owned and endpoint.managed:
            stop_server()

    print("\nSummary (medians; ratios from the same run):")
    for rows, ways in results.items():
        kits = [t.total for t in ways["kit"] if t.ok]
        if not kits:
            print(f"  {rows:,} rows: the kit's run failed")
            continue
        kit = statistics.median(kits)
        floor = statistics.median(t.total for t in ways["floor"])
        line = (f"  {rows:,} rows: kit {kit:.1f} s ({rows / kit / 1e6:.2f} M rows/s), floor {floor:.1f} s, "
                f"kit / floor {kit / floor:.1f}x")
        plains = [t.total for t in ways["plain"] if t.ok]
        if plains:
            plain = statistics.median(plains)
            line += f", plain PySpark {plain:.1f} s, plain / kit {plain / kit:.2f}x"
        elif ways["plain"]:
            line += ", plain PySpark failed (no ratio)"
        line += f"; server peak RSS {peaks.get(rows, 0) / 2**30:.2f} GiB"
        if rows == 10_000_000:
            line += f" (target ≤ {TARGET_10M_SECONDS:g} s: {'met' if kit <= TARGET_10M_SECONDS else 'NOT met'})"
        print(line)
    print(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
