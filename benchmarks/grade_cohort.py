"""Benchmark cohort grading: N copies of the solutions plus a few broken submissions, against the naive way.

    python benchmarks/grade_cohort.py [--n 27] [--broken 3] [--workers 2] [--rows 30000] [--naive 2]

Prints the per-submission median (solutions copies), the cohort wall time (the workers' Spark servers start inside
it, as `day07 grade` pays for them), peak memory (summed over this process and its children: the kernels, the fork
servers and the workers' Spark servers; as PSS, which splits shared library pages between the processes that map
them, so the sum is what the machine really spends, and as plain RSS, which counts them once per process), and the
ratio against the naive way: every notebook of a submission in a fresh kernel with its own local SparkSession
(classic PySpark, Hive catalog in a temporary folder), run one after the other. The naive way is measured on
``--naive`` submissions and extrapolated to the cohort (it only *runs* the notebooks — no checks — so the ratio
favours it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
_CONNECT_ENV = ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED", "SPARK_LOCAL_REMOTE", "SPARK_API_MODE")
TARGET_30_SECONDS = 90.0
"""Issue 19: 30 submissions graded in 90 s or less on the 2-core machine (issue 7 asked for 4 minutes)."""
TARGET_MEMORY_GIB = 3.0
BROKEN = ("bad_json", "os_exit", "missing_notebook", "job_cycle", "infinite_loop")

NAIVE_SESSION = """\
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[2]").appName("naive").config("spark.api.mode", "classic")
         .config("spark.sql.warehouse.dir", {warehouse!r})
         .config("spark.driver.extraJavaOptions", "-Dderby.system.home={derby}")
         .config("spark.sql.shuffle.partitions", "4")
         .enableHiveSupport().getOrCreate())
"""


def load_build():  # noqa: ANN201 - the tests' builder of hostile submissions
    """:mod:`tests.helpers.adversarial`, also when this script runs as ``python benchmarks/grade_cohort.py``."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.helpers import adversarial

    return adversarial


class PeakMemory:
    """Samples PSS and RSS of this process tree (the grader, kernels, fork servers and the workers' Spark servers)
    every 0.25 s; keeps the peaks."""

    def __init__(self) -> None:
        self.peak = 0
        self.peak_rss = 0
        self.breakdown: dict[str, tuple[int, int]] = {}
        """At the PSS peak: kind of process → (how many, PSS bytes)."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _kind(p: psutil.Process) -> str:
        try:
            name, line = p.name(), " ".join(p.cmdline())
        except psutil.Error:
            return "other"
        if name == "java":
            return "Spark servers"
        if "forkserver" in line and "relay" not in line:
            return "fork servers"
        if "ipykernel" in line or "relay" in line or "kernel" in line:
            return "kernels"
        if name in ("bwrap", "prlimit", "nice", "sh", "bash"):
            return "launchers"
        return "grader and workers"

    def _sample(self) -> tuple[int, int, dict[str, tuple[int, int]]]:
        me = psutil.Process()
        procs = {me.pid: me}
        for child in me.children(recursive=True):  # kernels, fork servers, the workers' Spark servers
            procs[child.pid] = child
        pss = rss = 0
        kinds: dict[str, tuple[int, int]] = {}
        for p in procs.values():
            try:
                info = p.memory_full_info()
            except psutil.Error:
                continue
            pss += info.pss
            rss += info.rss
            kind = self._kind(p)
            count, total = kinds.get(kind, (0, 0))
            kinds[kind] = (count + 1, total + info.pss)
        return pss, rss, kinds

    def _run(self) -> None:
        while not self._stop.is_set():
            pss, rss, kinds = self._sample()
            if pss > self.peak:
                self.peak, self.breakdown = pss, kinds
            self.peak_rss = max(self.peak_rss, rss)
            self._stop.wait(0.25)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def naive_one(folder: Path, *, data: Path, work: Path) -> float:
    """Run 00 (twice: with values, with defaults), 01, 02, 03, each in a fresh kernel with its own SparkSession."""
    import nbformat

    from checkers.notebooks.execute import execute_notebook

    warehouse, derby = work / "warehouse", work / "derby"
    derby.mkdir(parents=True, exist_ok=True)
    for name in _CONNECT_ENV:  # the kernel inherits the environment: no Spark Connect at all
        os.environ.pop(name, None)
    os.environ["DAY07_KERNEL_POOL"] = "0"  # the naive way starts each kernel when it needs it
    env = dict(os.environ)
    params = {"source_path": str(data), "schema": "naive"}
    started = time.monotonic()
    for stem, p in (("00_widgets", {"layer": "silver", **params}), ("00_widgets", {}), ("01_bronze", params),
                    ("02_silver", params), ("03_gold", params)):
        nb = nbformat.read(str(folder / f"{stem}.ipynb"), as_version=4)
        nb.cells.insert(0, nbformat.v4.new_code_cell(NAIVE_SESSION.format(warehouse=str(warehouse),
                                                                         derby=str(derby))))
        path = work / f"{stem}.ipynb"
        nbformat.write(nb, str(path))
        result = execute_notebook(path=path, parameters=p, env=env, in_job=stem != "00_widgets",
                                  task_key=stem, work_dir=work / f"{stem}-run")
        if not result.ok:
            print(f"  naive {stem}: {result.message}", file=sys.stderr)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=27, help="copies of the solutions (default 27: 30 in all)")
    parser.add_argument("--broken", type=int, default=3, help=f"broken submissions, from {', '.join(BROKEN)}")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rows", type=int, default=None, help="rows of unseen data (default: the grader's)")
    parser.add_argument("--naive", type=int, default=2, help="submissions graded the naive way (0: skip)")
    parser.add_argument("--seed", type=int, default=4711)
    parser.add_argument("--cell-timeout", type=float, default=120.0)
    args = parser.parse_args()

    build = load_build()
    from checkers.grading.cohort import grade_cohort
    from checkers.grading.options import DEFAULT_ROWS

    root = Path(tempfile.mkdtemp(prefix="day07-bench-cohort-"))
    cohort = root / "cohort"
    for i in range(args.n):
        build.build(cohort / f"solution_{i:03d}", None)
    for variant in BROKEN[: args.broken]:
        build.build(cohort / f"broken_{variant}", variant)
    total = args.n + min(args.broken, len(BROKEN))
    rows = args.rows or DEFAULT_ROWS
    print(f"Cohort: {args.n} solutions + {total - args.n} broken, {rows} rows, {args.workers} workers, in {root}")

    naive = None
    if args.naive:
        from checkers.data.generate import generate_events

        saved = {k: os.environ[k] for k in _CONNECT_ENV if k in os.environ}
        data = generate_events(out=root / "naive" / "events.csv", rows=rows, seed=args.seed).path
        times = []
        for i in range(args.naive):
            seconds = naive_one(cohort / f"solution_{i:03d}", data=data, work=root / "naive" / f"s{i}")
            times.append(seconds)
            print(f"  naive solution_{i:03d}: {seconds:.1f} s (notebooks only, no checks)", flush=True)
        os.environ.update(saved)
        os.environ.pop("DAY07_KERNEL_POOL", None)
        naive = statistics.median(times)
        print(f"naive way: {naive:.1f} s per submission (median of {len(times)}, serial); "
              f"extrapolated cohort {naive * total:.0f} s", flush=True)

    # Each worker grades on a Spark server of its own, started by grade_cohort: counted, as `day07 grade` pays it.
    with PeakMemory() as mem:
        started = time.monotonic()
        result = grade_cohort(cohort_dir=cohort, out_dir=root / "out", workers=args.workers, seed=args.seed,
                              rows=rows, cell_timeout=args.cell_timeout,
                              progress=lambda e, d, n: print(f"  [{d}/{n}] {e.id}: {e.status} {e.score} "
                                                             f"({e.duration_seconds} s)", flush=True))
        wall = time.monotonic() - started
    solutions = [e for e in result.entries if e.id.startswith("solution_")]
    durations = [e.duration_seconds or 0.0 for e in solutions]
    wrong = [e.id for e in solutions if e.score != 100]
    median = statistics.median(durations)
    per_sub_wall = wall / total
    print(f"\nper-submission median (solutions, wall clock of one grading, {args.workers} at once): {median:.1f} s")
    print(f"cohort wall time: {wall:.1f} s for {total} submissions ({per_sub_wall:.1f} s per submission; "
          f"{per_sub_wall * 30:.0f} s per 30, target ≤ {TARGET_30_SECONDS:g} s: "
          f"{'met' if per_sub_wall * 30 <= TARGET_30_SECONDS else 'NOT met'})")
    print(f"peak memory (grader, kernels and the workers' Spark servers): {mem.peak / 2**30:.2f} GiB PSS "
          f"({mem.peak_rss / 2**30:.2f} GiB summing RSS, which counts shared libraries once per process; "
          f"target ≤ {TARGET_MEMORY_GIB:g} GiB: {'met' if mem.peak / 2**30 <= TARGET_MEMORY_GIB else 'NOT met'})")
    print("  at the peak: " + "; ".join(f"{kind} {count}× {total / 2**30:.2f} GiB"
                                         for kind, (count, total) in sorted(mem.breakdown.items(),
                                                                            key=lambda kv: -kv[1][1])))
    if wrong:
        print(f"WARNING: solution copies without 100: {wrong}")

    if naive is not None:
        print(f"ratio naive / ours: per submission (cohort wall / N) {naive / per_sub_wall:.1f}x; "
              f"one grading vs one naive run {naive / median:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
