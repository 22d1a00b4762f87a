"""How big a Spark server is: its heap from the machine and the work, and the JVM and Spark options that go with it.

Two kinds of work share one code path:

- **small** — a grading worker's server (30 000 rows of unseen data, thousands of tiny queries): a 512 MB serial-GC
  heap and the JIT's quick tier only, so a cohort's whole footprint stays under 3 GiB and no CPU goes into
  optimising code that small tables never pay back;
- **large** — the kit's shared server, which runs a learner's ``day07 run`` on any file, up to the real month
  (42 million rows, 5.6 GB): a heap sized from the machine (:func:`auto_heap_mb`), the optimising JIT (the
  generated code of a scan over millions of rows runs several times faster once C2 compiles it) and enough shuffle
  partitions that no task holds more than a slice of the data. Spark spills what does not fit to the server's own
  ``local`` folder, inside the kit home.

``DAY07_SPARK_MEMORY`` (or ``day07 spark start --memory``) sets the heap of the shared server by hand.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from checkers.errors import ConfigError

SMALL_HEAP_MB = 512
"""Heap of a grading worker's server: tables there are tens of thousands of rows. Spark needs 450 MB at least. A
cohort of 30 (``benchmarks/grade_cohort.py``), same session: peak 2.94 GiB PSS with 512 MB against 3.06 GiB with
768 MB, the same median time per grading (20.9 s). The rest of such a server is not heap: ~200 MB of classes
(metaspace), up to 96 MB of compiled code, GC and thread structures."""
MIN_AUTO_HEAP_MB = 1024
MAX_AUTO_HEAP_MB = 8192
"""Beyond this a bigger heap buys little on a laptop: Spark spills to disk, and a serial or parallel collector on a
few cores slows down with heap size."""
AUTO_SHARE = 0.25
"""Share of the machine's memory the shared server may take by default (kernels, the browser and the OS keep the
rest)."""
SMALL_ROWS = 1_000_000
"""A grading on more rows of unseen data than this gets a server sized like the shared one."""
COMMON_JVM_OPTIONS = ("-XX:MaxDirectMemorySize=256m", "-XX:ReservedCodeCacheSize=96m",
                      "-Darrow.enable_unsafe_memory_access=true", "-Darrow.enable_null_check_for_get=false")
"""Direct memory and code cache bounded (so the process stays near its heap); Arrow's bounds checks off: results
reach the client through Arrow, and the checks cost ~5 % of the server's CPU (measured with Java Flight Recorder)."""
SMALL_JVM_OPTIONS = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
"""Serial GC: on two cores a small heap collects fastest without concurrent GC threads competing with the kernels.
C1 only (``TieredStopAtLevel=1``): every query brings new generated classes, and the optimising C2 compiler spent
~5 s of CPU per grading compiling them, for small tables that never pay it back (server CPU per warm grading of the
solutions, summed over its threads from ``/proc``: 10.3 s -> 6.2 s)."""
LARGE_JVM_OPTIONS = ("-XX:+UseParallelGC", "-XX:Tier4InvocationThreshold=50000", "-XX:Tier4MinInvocationThreshold=6000",
                     "-XX:Tier4CompileThreshold=150000", "-XX:Tier4BackEdgeThreshold=400000")
"""Parallel GC: the throughput collector, for a heap of gigabytes filled by sort and aggregation buffers. The full
tiered JIT, but C2 only for code ten times hotter than by default. On a file of millions of rows C2 compiles the hot
loops at once (the solution job on 10 M rows, server CPU: 533 s on the small profile's 768 MB serial-GC C1-only
server, 271 s on a 4 GB parallel-GC server with C2). The small gradings the shared server also runs
(``day07 check``) rarely reach those thresholds: in paired runs, server CPU per grading was 11.5 s with C1 only,
15.4 s (+34 %) with C2's default thresholds, and +15 % over C1 with these."""
SMALL_SHUFFLE_PARTITIONS = 4
LARGE_SHUFFLE_PARTITIONS = 64
"""With adaptive execution (on by default) Spark merges small partitions after a shuffle, so a small table still
ends in a few tasks, while a month of events is cut into slices a task can sort within its share of the heap."""

SMALL_DATA_SQL_CONFS = {"spark.sql.codegen.wholeStage": "false", "spark.sql.codegen.factoryMode": "NO_CODEGEN",
                        "spark.sql.shuffle.partitions": "4"}
"""Interpreted execution: compiling each query's generated Java (Janino, then the JIT) costs more CPU than it saves
on tens of thousands of rows (server CPU per warm grading, paired runs: -17 %). Results are the same. And few
shuffle partitions. Set on a grading worker's server, and on the sessions of a grading's kernels on the shared
server (see :data:`checkers.signals.SPARK_SESSION_CONF`)."""

Profile = Literal["small", "large"]


@dataclass(frozen=True)
class ServerSizing:
    """The size of one server, and where it came from (shown by ``day07 spark status``)."""

    heap_mb: int
    """Java heap (``-Xmx``), MB."""
    profile: Profile
    """``small`` (a grading worker's server) or ``large`` (the shared server, any file)."""
    source: str
    """Why this size, e.g. ``auto: 25 % of 23.4 GiB`` or ``DAY07_SPARK_MEMORY=4g``."""
    cores_max: int | None = None
    """On a cluster: at most this many of its cores (a grading worker's share); None: as many as it gives."""

    @property
    def heap(self) -> str:
        """The heap as Java writes it, e.g. ``512m`` or ``4096m``."""
        return f"{self.heap_mb}m"

    def jvm_options(self) -> list[str]:
        """Garbage collector, JIT tiers and bounded off-heap memory for this profile."""
        tier = SMALL_JVM_OPTIONS if self.profile == "small" else LARGE_JVM_OPTIONS
        return [*tier, *COMMON_JVM_OPTIONS]

    def spark_confs(self) -> dict[str, str]:
        """Spark settings that depend on the size of the work."""
        if self.profile == "large":
            return {"spark.sql.shuffle.partitions": str(LARGE_SHUFFLE_PARTITIONS)}
        return {**SMALL_DATA_SQL_CONFS, "spark.sql.shuffle.partitions": str(SMALL_SHUFFLE_PARTITIONS)}


def parse_memory(text: str, *, where: str) -> int:
    """``4g`` / ``4096m`` / ``4G`` / ``4096`` (MB) → MB; ``where`` names the flag or variable in the error."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    if match is None:
        raise ConfigError(f"{where}={text!r} is not an amount of memory.",
                          hint="Write it like 4g, 6144m or auto (a quarter of this machine's memory).")
    number, unit = float(match.group(1)), match.group(2) or "m"
    mb = int(number * {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}[unit])
    if mb < 512:
        raise ConfigError(f"{where}={text!r} is too small for a Spark server.",
                          hint="Give it at least 512m; 1g or more for files of millions of rows.")
    return mb


def machine_memory_bytes() -> int:
    """Physical memory, or the container's limit (cgroup) when that is lower."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        import psutil

        total = int(psutil.virtual_memory().total)
    for limit_file in (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes")):
        try:
            raw = limit_file.read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if raw.isdigit() and 0 < int(raw) < total:
            total = int(raw)
    return total


def auto_heap_mb(total_bytes: int | None = None) -> int:
    """A quarter of the machine's memory, at least 1 GiB and at most 8 GiB."""
    total = machine_memory_bytes() if total_bytes is None else total_bytes
    return int(min(MAX_AUTO_HEAP_MB, max(MIN_AUTO_HEAP_MB, total * AUTO_SHARE / 2**20)))


def shared_sizing(memory: str | None = None, *, setting: str = "auto") -> ServerSizing:
    """The shared server's size: ``memory`` (``--memory``) if given, else the setting (``DAY07_SPARK_MEMORY``)."""
    chosen, where = (memory, "--memory") if memory else (setting or "auto", "DAY07_SPARK_MEMORY")
    if chosen.strip().lower() == "auto":
        total = machine_memory_bytes()
        return ServerSizing(heap_mb=auto_heap_mb(total), profile="large",
                            source=f"auto: {AUTO_SHARE:.0%} of {total / 2**30:.1f} GiB, within "
                                   f"{MIN_AUTO_HEAP_MB // 1024}-{MAX_AUTO_HEAP_MB // 1024} GiB")
    return ServerSizing(heap_mb=parse_memory(chosen, where=where), profile="large", source=f"{where}={chosen}")


def grading_sizing(rows: int | None = None, *, setting: str = "auto") -> ServerSizing:
    """A grading worker's server: small for the usual unseen data, like the shared one for millions of rows."""
    if rows is not None and rows > SMALL_ROWS:
        sized = shared_sizing(setting=setting)
        return ServerSizing(heap_mb=sized.heap_mb, profile="large",
                            source=f"{rows:,} rows of unseen data; {sized.source}")
    return ServerSizing(heap_mb=SMALL_HEAP_MB, profile="small", source="a grading server (small tables)")
