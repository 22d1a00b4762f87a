"""Every knob of the kit, declared once: its environment variable, type, default and meaning.

Every location lives under one kit home (``DAY07_HOME``, default ``~/.day07``) so a learner can
see, back up or delete all of it at once. :func:`settings` reads the environment each time it is called (tests
change it per test). The docs' settings page is generated from :class:`Settings`. Values that the kit's own
processes pass to each other are not knobs: they live in :mod:`checkers.signals`.
"""

from __future__ import annotations

import os
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

from checkers.errors import ConfigError

#: Root of the repository when the package runs from a checkout (lessons/, solutions/ live here).
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _setting(env: str, default: Any = MISSING, *, factory: Any = MISSING, minimum: float | None = None,
             relative_ok: bool = False, shown: str | None = None) -> Any:
    """A field of :class:`Settings`, read from the environment variable ``env``.

    ``relative_ok``: a relative path is taken from the current folder (else it is refused). ``shown``: the default as
    the docs show it, for one computed by ``factory``."""
    meta = {"env": env, "minimum": minimum, "relative_ok": relative_ok, "shown": shown}
    if factory is not MISSING:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def _parse(name: str, kind: str, raw: str, *, minimum: float | None, relative_ok: bool) -> Any:
    """One environment value as the field's type, or a :class:`ConfigError` that names the variable."""
    raw = raw.strip()
    base = kind.replace(" | None", "")
    if base == "bool":
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"Environment variable {name}={raw!r} is not on or off.",
                          hint=f"Set {name} to 1 or 0, or unset it.")
    if base in ("int", "float"):
        try:
            value: float = int(raw) if base == "int" else float(raw)
        except ValueError:
            what = "a whole number" if base == "int" else "a number"
            raise ConfigError(f"Environment variable {name}={raw!r} is not {what}.",
                              hint=f"Set {name} to {what}, or unset it (see the settings page of the docs).") from None
        if minimum is not None and value < minimum:
            raise ConfigError(f"Environment variable {name}={raw!r} is below {minimum:g}.",
                              hint=f"Set {name} to {minimum:g} or more, or unset it.")
        return value
    if base == "Path":
        path = Path(raw).expanduser()
        if relative_ok:
            return path.absolute()  # every process of the kit (kernels run elsewhere) must find the same folder
        if not path.is_absolute():
            raise ConfigError(f"Environment variable {name}={raw!r} is not an absolute path.",
                              hint=f"Set {name} to an absolute path (e.g. /mnt/day07), or unset it.")
        return path
    return raw


def _default_home() -> Path:
    return Path.home() / ".day07"


@dataclass(frozen=True)
class Settings:
    """Resolved settings; build with :func:`settings` so environment overrides apply."""

    home: Path = _setting("DAY07_HOME", factory=_default_home, relative_ok=True, shown="~/.day07")
    """Kit home: Spark server state, warehouse, volumes, runs."""
    spark_remote: str | None = _setting("SPARK_REMOTE", None)
    """A Spark Connect endpoint (``sc://host:port``) to use instead of the kit's own server (``SPARK_REMOTE``)."""
    cell_timeout: float = _setting("DAY07_CELL_TIMEOUT", 600.0, minimum=0)
    """Seconds one cell may run before it is interrupted (``DAY07_CELL_TIMEOUT``)."""
    kernel_startup_timeout: float = _setting("DAY07_KERNEL_TIMEOUT", 60.0, minimum=0)
    """Seconds to wait for a kernel to start (``DAY07_KERNEL_TIMEOUT``)."""
    server_startup_timeout: float = _setting("DAY07_SPARK_TIMEOUT", 180.0, minimum=0)
    """Seconds to wait for the Spark Connect server to answer (``DAY07_SPARK_TIMEOUT``)."""
    kernel_memory_mb: float = _setting("DAY07_KERNEL_MEMORY_MB", 2048.0, minimum=0)
    """Memory (resident, MB) one notebook kernel may use before it is stopped (``DAY07_KERNEL_MEMORY_MB``; 0 = no
    limit). Spark's own work runs in the server, so a notebook needs little; a runaway one must not take the machine."""
    max_output_bytes: int = _setting("DAY07_MAX_OUTPUT_BYTES", 1024 * 1024, minimum=0)
    """Output one cell may produce; the rest is dropped with a note (``DAY07_MAX_OUTPUT_BYTES``; 0 = no limit)."""
    kernel_pool: int = _setting("DAY07_KERNEL_POOL", 2, minimum=0)
    """Kernels kept started ahead of need, so a task does not wait for one (``DAY07_KERNEL_POOL``; 0 = off)."""
    kernel_fork: bool = _setting("DAY07_KERNEL_FORK", True)
    """Fork notebook kernels from a process that has imported what they all import, one per grading sandbox (Linux;
    ``DAY07_KERNEL_FORK``). A kernel then starts in a fraction of the CPU. ``0`` starts each one from scratch."""
    sandbox: bool = _setting("DAY07_SANDBOX", True)
    """Run grading kernels in a bubblewrap sandbox when ``bwrap`` is installed (``DAY07_SANDBOX``)."""
    spark_memory: str = _setting("DAY07_SPARK_MEMORY", "auto")
    """Heap of the kit's shared Spark server (``DAY07_SPARK_MEMORY``, e.g. ``4g``; ``day07 spark start --memory``
    for one start). ``auto``: a quarter of this machine's memory, between 1 and 8 GiB. What does not fit spills to
    disk inside the kit home. A grading worker's own server stays small (512 MB) for the usual unseen data."""
    spark_master: str | None = _setting("DAY07_SPARK_MASTER", None)
    """A Spark cluster the kit's servers run their work on (``DAY07_SPARK_MASTER``, e.g. ``spark://host:7077``);
    unset: this machine's cores (``local[*]``). Set ``DAY07_SHARED_DIR`` with it: the cluster's nodes must read the
    data."""
    shared_dir: Path | None = _setting("DAY07_SHARED_DIR", None)
    """A folder every node of the cluster reads and writes at the same path (``DAY07_SHARED_DIR``: NFS, or object
    storage mounted as a folder). The warehouse, the volumes and the grader's unseen data go there instead of the
    kit home; the server's state, token and metastore stay in the kit home."""
    progress: bool = _setting("DAY07_PROGRESS", True)
    """Show the progress of long Spark queries: a line in the cell, a bar in ``day07 run``'s live view
    (``DAY07_PROGRESS``). The grader never shows it."""
    delta_versions: int = _setting("DAY07_DELTA_VERSIONS", 10, minimum=0)
    """Table versions whose files the local Delta stand-in keeps for time travel (``DAY07_DELTA_VERSIONS``; 0 =
    none). Old versions are hard links to files a later write replaced, so each kept version costs the disk space
    of the files it no longer shares with the current table."""
    display_rows: int = _setting("DAY07_DISPLAY_ROWS", 100, minimum=1)
    """Rows one ``display()`` renders in a notebook (``DAY07_DISPLAY_ROWS``). Databricks shows more; saved notebooks
    stay small."""
    deploy_retry_timeout: int = _setting("DAY07_DEPLOY_RETRY_TIMEOUT", 30, minimum=1)
    """Seconds ``day07 deploy`` keeps retrying a workspace that does not answer, or answers 429/503
    (``DAY07_DEPLOY_RETRY_TIMEOUT``)."""
    chromium: Path | None = _setting("DAY07_CHROMIUM", None)
    """The Chromium binary that takes the docs' screenshots and runs the browser tests (``DAY07_CHROMIUM``); unset:
    Debian's ``/usr/bin/chromium``, else ``chromium`` on the ``PATH``."""

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
    values: dict[str, Any] = {}
    for spec in fields(Settings):
        raw = os.environ.get(spec.metadata["env"])
        if raw is not None and raw.strip():
            values[spec.name] = _parse(spec.metadata["env"], str(spec.type), raw, minimum=spec.metadata["minimum"],
                                       relative_ok=spec.metadata["relative_ok"])
    return Settings(**values)


def env_name(setting: str) -> str:
    """The environment variable of the setting named ``setting`` (a field of :class:`Settings`)."""
    return next(spec.metadata["env"] for spec in fields(Settings) if spec.name == setting)


def knobs() -> list[tuple[str, str, Any, str]]:
    """Every setting as (environment variable, type, default, field name), for the docs' settings page."""
    out = []
    for spec in fields(Settings):
        default = spec.metadata["shown"] if spec.default is MISSING else spec.default
        out.append((spec.metadata["env"], str(spec.type), default, spec.name))
    return out
