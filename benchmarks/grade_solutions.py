"""Time `day07 check --solutions` warm: the Spark server already up, one grading already done.

    python benchmarks/grade_solutions.py [--runs 3] [--rows 30000] [--cli]

Prints each timed grading with its phases, its CPU (core-seconds of the grader, the kernels it reaped and the Spark
server: steadier than wall time on a busy machine), and the medians (issue 19's target: at most 4 s on the 2-core
machine).
``--cli`` times the whole ``day07 check --solutions`` process instead, as a learner waits for it: start-up and
imports included.

Uses ``DAY07_HOME`` when set (e.g. your kit home with its server running), else a fresh temporary kit home whose
server is started first and not counted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 4.0
"""Issue 19: a warm grading of the solutions in 4 s or less on the 2-core machine (issue 7 asked for 10 s)."""


class CpuMeter:
    """Core-seconds of one grading: this process (the grader), the processes below it (kernels, fork servers, their
    sandboxes) and the Spark server.

    The processes below are sampled every 0.2 s (their own CPU, by pid and start time, the last sample kept):
    kernels run in bubblewrap, whose exit does not hand their CPU time on to ``RUSAGE_CHILDREN``.
    """

    def __init__(self) -> None:
        import threading

        import psutil

        self._psutil = psutil
        self._seen: dict[tuple[int, float], float] = {}
        self._stop = threading.Event()
        self._me = psutil.Process()
        self._server = self._server_process()
        self._skip = {self._server.pid} if self._server is not None else set()
        self._sample()
        self._before = dict(self._seen)
        self._self0 = self._own(self._me)
        self._server0 = self._tree(self._server)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _server_process(self):  # noqa: ANN202 - psutil.Process | None
        from checkers.spark.server import server_status

        pid = server_status().pid
        try:
            return self._psutil.Process(pid) if pid is not None else None
        except self._psutil.Error:
            return None

    def _own(self, proc) -> float:  # noqa: ANN001
        try:
            t = proc.cpu_times()
            return t.user + t.system
        except self._psutil.Error:
            return 0.0

    def _tree(self, proc) -> float:  # noqa: ANN001
        if proc is None:
            return 0.0
        try:
            return self._own(proc) + sum(self._own(c) for c in proc.children(recursive=True))
        except self._psutil.Error:
            return 0.0

    def _sample(self) -> None:
        try:
            below = self._me.children(recursive=True)
        except self._psutil.Error:
            return
        for proc in below:
            if proc.pid in self._skip:
                continue
            try:
                key = (proc.pid, proc.create_time())
            except self._psutil.Error:
                continue
            self._seen[key] = max(self._seen.get(key, 0.0), self._own(proc))

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def since(self) -> tuple[float, float, float]:
        """(grader, processes below it, server) core-seconds since this meter was made."""
        self._stop.set()
        self._thread.join()
        self._sample()
        below = sum(v - self._before.get(k, 0.0) for k, v in self._seen.items())
        return self._own(self._me) - self._self0, below, self._tree(self._server) - self._server0


def grade_once(rows: int) -> tuple[float, list[tuple[str, float]], float, tuple[float, float, float]]:
    """One grading of solutions/: (seconds, [(phase, seconds into the grading)], score, CPU (grader, kernels,
    server))."""
    from checkers.grading.grade import grade_submission
    from checkers.grading.options import GradeOptions

    phases: list[tuple[str, float]] = []
    meter = CpuMeter()
    started = time.monotonic()
    report = grade_submission(folder=ROOT / "solutions", options=GradeOptions(rows=rows),
                              progress=lambda phase: phases.append((phase, time.monotonic() - started)))
    return time.monotonic() - started, phases, report.score, meter.since()


def cli_once(rows: int) -> tuple[float, int]:
    """One whole ``day07 check --solutions`` process: (seconds, exit code)."""
    import subprocess

    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "checkers", "check", "--solutions", "--rows", str(rows)],
                          cwd=ROOT, capture_output=True, check=False)
    return time.monotonic() - started, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed gradings (default 3)")
    parser.add_argument("--rows", type=int, default=None, help="rows of unseen data (default: the grader's)")
    parser.add_argument("--cli", action="store_true", help="time whole `day07 check --solutions` processes")
    args = parser.parse_args()
    owned = not os.environ.get("DAY07_HOME")
    if owned:
        os.environ["DAY07_HOME"] = tempfile.mkdtemp(prefix="day07-bench-grade-")

    from checkers.grading.options import DEFAULT_ROWS
    from checkers.spark.server import ensure_server, stop_server

    rows = args.rows or DEFAULT_ROWS
    started = time.monotonic()
    endpoint = ensure_server()
    print(f"Spark Connect server ready in {time.monotonic() - started:.1f} s (not counted)")
    try:
        if args.cli:
            return _time_cli(rows, args.runs)
        seconds, _, score, _ = grade_once(rows)
        print(f"warm-up grading: {seconds:.1f} s, score {score:g} (not counted)")

        times, cpus = [], []
        for run in range(1, args.runs + 1):
            seconds, phases, score, cpu = grade_once(rows)
            times.append(seconds)
            cpus.append(cpu)
            steps = []
            for (phase, at), (_, nxt) in zip(phases, [*phases[1:], ("end", seconds)], strict=True):
                steps.append(f"{phase.split(' (')[0]} {nxt - at:.1f}")
            print(f"run {run}: {seconds:.1f} s, score {score:g}, CPU {sum(cpu):.1f} core-s (grader {cpu[0]:.1f}, "
                  f"kernels {cpu[1]:.1f}, server {cpu[2]:.1f})  [" + "; ".join(steps) + "]", flush=True)
            time.sleep(2.0)  # the grading's kernels finish shutting down before the next meter starts
            if score != 100:
                print("the solutions did not get full marks", file=sys.stderr)
                return 1
    finally:
        if owned and endpoint.managed:
            stop_server()  # a server of this benchmark's own kit home must not outlive it
    median = statistics.median(times)
    print(f"median of {len(times)} warm gradings of solutions/ ({rows} rows): {median:.1f} s "
          f"(target ≤ {TARGET_SECONDS:g} s: {'met' if median <= TARGET_SECONDS else 'NOT met'})")
    print(f"CPU per grading, median: {statistics.median(sum(c) for c in cpus):.1f} core-seconds (grader "
          f"{statistics.median(c[0] for c in cpus):.1f}, kernels {statistics.median(c[1] for c in cpus):.1f}, "
          f"server {statistics.median(c[2] for c in cpus):.1f})")
    print(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


def _time_cli(rows: int, runs: int) -> int:
    seconds, code = cli_once(rows)
    print(f"warm-up process: {seconds:.1f} s, exit {code} (not counted)")
    times = []
    for run in range(1, runs + 1):
        seconds, code = cli_once(rows)
        print(f"run {run}: {seconds:.1f} s, exit {code}", flush=True)
        if code != 0:
            print("the solutions did not get full marks", file=sys.stderr)
            return 1
        times.append(seconds)
    print(f"median of {runs} whole `day07 check --solutions` processes ({rows} rows): {statistics.median(times):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
