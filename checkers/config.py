"""Where the kit keeps its things, and its default limits.

Every location lives under one kit home (``DAY07_HOME``, default ``~/.day07``) so a learner can
see, back up or delete all of it at once. Each setting has an environment override.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from checkers.errors import ConfigError

#: Root of the repository when the package runs from a checkout (lessons/, solutions/ live here).
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _float_env(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"Environment variable {name}={raw!r} is not a number.",
                          hint=f"Set {name} to a number of seconds, or unset it.") from None


def _bool_env(name: str, default: bool) -> bool:
    raw = (os.environ.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"Environment variable {name}={raw!r} is not on or off.",
                      hint=f"Set {name} to 1 or 0, or unset it.")


def _path_env(name: str) -> Path | None:
    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser()
    if not path.is_absolute():
        raise ConfigError(f"Environment variable {name}={raw!r} is not an absolute path.",
                          hint=f"Set {name} to a folder every node of the cluster sees at the same path, e.g. "
                               "/mnt/day07, or unset it.")
    return path


@dataclass(frozen=True)
class Settings:
    """Resolved settings; build with :func:`settings` so environment overrides apply."""

    home: Path
    """Kit home: Spark server state, warehouse, volumes, runs."""
    spark_remote: str | None = None
    """``SPARK_REMOTE``: use this Spark Connect endpoint instead of the embedded server."""
    cell_timeout: float = 600.0
    """Seconds one cell may run before it is interrupted (``DAY07_CELL_TIMEOUT``)."""
    kernel_startup_timeout: float = 60.0
    """Seconds to wait for a kernel to start (``DAY07_KERNEL_TIMEOUT``)."""
    server_startup_timeout: float = 180.0
    """Seconds to wait for the Spark Connect server to answer (``DAY07_SPARK_TIMEOUT``)."""
    kernel_memory_mb: float = 2048.0
    """Memory (resident, MB) one notebook kernel may use before it is stopped (``DAY07_KERNEL_MEMORY_MB``; 0 = no
    limit). Spark's own work runs in the server, so a notebook needs little; a runaway one must not take the machine."""
    max_output_bytes: float = 1024 * 1024
    """Output one cell may produce; the rest is dropped with a note (``DAY07_MAX_OUTPUT_BYTES``; 0 = no limit)."""
    kernel_pool: float = 2
    """Kernels kept started ahead of need, so a task does not wait for one (``DAY07_KERNEL_POOL``; 0 = off)."""
    kernel_fork: bool = True
    """Fork notebook kernels from a process that has imported what they all import, one per grading sandbox (Linux;
    ``DAY07_KERNEL_FORK``): a kernel then starts in a fraction of the CPU. ``0`` starts each one from scratch."""
    sandbox: bool = True
    """Run grading kernels in a bubblewrap sandbox when ``bwrap`` is installed (``DAY07_SANDBOX``)."""
    spark_memory: str = "auto"
    """Heap of the kit's shared Spark server (``DAY07_SPARK_MEMORY``, e.g. ``4g``; ``day07 spark start --memory``
    for one start). ``auto``: a quarter of this machine's memory, between 1 and 8 GiB. What does not fit spills to
    disk inside the kit home. A grading worker's own server stays small (768 MB) for the usual unseen data."""
    spark_master: str | None = None
    """A Spark cluster the kit's servers run their work on (``DAY07_SPARK_MASTER``, e.g. ``spark://host:7077``);
    unset: this machine's cores (``local[*]``). Set ``shared_dir`` with it: the cluster's nodes must read the data."""
    shared_dir: Path | None = None
    """A folder every node of the cluster reads and writes at the same path (``DAY07_SHARED_DIR``: NFS, or object
    storage mounted as a folder). The warehouse, the volumes and the grader's unseen data go there instead of the
    kit home; the server's state, token and metastore stay in the kit home."""
    progress: bool = True
    """Show the progress of long Spark queries: a line in the cell, a bar in ``day07 run``'s live view
    (``DAY07_PROGRESS``). The grader never shows it."""
    delta_versions: float = 10
    """Table versions whose files the local Delta stand-in keeps for time travel (``DAY07_DELTA_VERSIONS``; 0 =
    none). Old versions are hard links to files a later write replaced, so each kept version costs the disk space
    of the files it no longer shares with the current table."""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def spark_dir(self) -> Path:
        """Server state: pid, port, token, logs."""
        return self.home / "spark"

    @property
    def data_home(self) -> Path:
        """Where files the Spark server's work reads or writes live: ``shared_dir`` on a cluster, else the kit home."""
        return self.shared_dir or self.home

    @property
    def warehouse_dir(self) -> Path:
        """Managed tables (``spark.sql.warehouse.dir``)."""
        return self.data_home / "warehouse"

    @property
    def metastore_dir(self) -> Path:
        """Embedded Derby metastore, so tables survive a server restart."""
        return self.home / "metastore"

    @property
    def volumes_dir(self) -> Path:
        """Local stand-in for ``/Volumes``."""
        return self.data_home / "volumes"

    @property
    def runs_dir(self) -> Path:
        """Run folders: run records and executed notebooks."""
        return self.home / "runs"


def settings() -> Settings:
    """Read the settings from the environment now (tests change it per test)."""
    home = Path(os.environ.get("DAY07_HOME") or Path.home() / ".day07").expanduser()
    return Settings(
        home=home,
        spark_remote=os.environ.get("SPARK_REMOTE") or None,
        cell_timeout=_float_env("DAY07_CELL_TIMEOUT", 600.0),
        kernel_startup_timeout=_float_env("DAY07_KERNEL_TIMEOUT", 60.0),
        server_startup_timeout=_float_env("DAY07_SPARK_TIMEOUT", 180.0),
        kernel_memory_mb=_float_env("DAY07_KERNEL_MEMORY_MB", 2048.0),
        max_output_bytes=_float_env("DAY07_MAX_OUTPUT_BYTES", 1024 * 1024),
        kernel_pool=_float_env("DAY07_KERNEL_POOL", 2),
        sandbox=_bool_env("DAY07_SANDBOX", True),
        kernel_fork=_bool_env("DAY07_KERNEL_FORK", True),
        delta_versions=_float_env("DAY07_DELTA_VERSIONS", 10),
        spark_memory=(os.environ.get("DAY07_SPARK_MEMORY") or "auto").strip(),
        spark_master=(os.environ.get("DAY07_SPARK_MASTER") or "").strip() or None,
        shared_dir=_path_env("DAY07_SHARED_DIR"),
        progress=_bool_env("DAY07_PROGRESS", True),
    )
