"""Which Spark server (the kit's shared one, or a grading worker's own), where its files are, and how big it is.

One description that the launch command, the state on disk and the lifecycle all read, so that none of them has to
import another to learn it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from checkers.config import Settings, settings
from checkers.spark.memory import ServerSizing, grading_sizing, shared_sizing

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
"""The server's main class: on its command line, and how a live pid is told to be a server of the kit's."""


@dataclass(frozen=True)
class ServerSpec:
    """Which server: the kit's shared one, or one of its own in ``root`` (a grading worker's).

    A grading worker's server is its own JVM with its own warehouse and metastore, so gradings that run at the
    same time never share a server: one submission cannot read, copy or drop another's tables. ``confined``
    runs it (and the Python workers it starts for UDFs) in a bubblewrap sandbox that sees only its own folders,
    the kit's volumes and code, read-only, and :attr:`data_dir` read-only: not the kit home, not the other
    gradings, not the host's ``/tmp``.
    """

    root: Path | None = None
    """Folder of this server's state, warehouse, metastore and unseen data (None: the kit's shared server)."""
    confined: bool = False
    """Run it in the bubblewrap sandbox (it then dies with the process that started it)."""
    hidden: tuple[Path, ...] = ()
    """Folders a confined server must not see besides the kit home (a cohort's submissions and out folder)."""
    sizing: ServerSizing | None = None
    """Its heap and tuning (default: a grading server's for a worker, the machine's share for the shared one)."""
    catalog: str = "hive"
    """``hive``: tables are kept in a Derby metastore and survive a restart (the shared server). ``in-memory``: a
    grading worker's server, thrown away after its cohort: no metastore to create at start (~10 s) or to write at
    every ``CREATE``/``DROP``; a restarted one starts empty, and the grading it broke is graded again anyway."""

    @property
    def data_dir(self) -> Path | None:
        """Where the grader puts the unseen data this server reads (read-only to it when confined)."""
        return None if self.root is None else self.root / "data"


@dataclass(frozen=True)
class ServerPaths:
    """The files and folders of one server."""

    spark_dir: Path
    state: Path
    token: Path
    lock: Path
    log: Path
    conf_dir: Path
    warehouse_dir: Path
    metastore_dir: Path
    local_dir: Path
    """Spark's scratch space (``spark.local.dir``): shuffle files and spill stay inside the kit's folders."""
    spec: ServerSpec = field(default_factory=ServerSpec)

    @classmethod
    def of(cls, s: Settings, spec: ServerSpec | None = None) -> ServerPaths:
        spec = spec or ServerSpec()
        root = spec.root
        d = s.spark_dir if root is None else root / "spark"
        return cls(spark_dir=d, state=d / "server.json", token=d / "token", lock=d / "server.lock",
                   log=d / "server.log", conf_dir=d / "conf",
                   warehouse_dir=s.warehouse_dir if root is None else root / "warehouse",
                   metastore_dir=s.metastore_dir if root is None else root / "metastore",
                   local_dir=d / "local", spec=spec)


def sizing_for(spec: ServerSpec | None = None, *, memory: str | None = None) -> ServerSizing:
    """The size of the server ``spec`` names: its own, a grading worker's, or the shared server's (``memory``,
    else ``DAY07_SPARK_MEMORY``, else a share of the machine)."""
    if spec is not None and spec.sizing is not None:
        return spec.sizing
    s = settings()
    if spec is not None and spec.root is not None:
        return grading_sizing(setting=s.spark_memory)
    return shared_sizing(memory, setting=s.spark_memory)
