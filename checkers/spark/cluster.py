"""Beyond one machine: the kit's Spark servers on a standalone cluster, and a cluster on loopback to try it with.

With ``DAY07_SPARK_MASTER=spark://host:7077`` every Spark server the kit starts (the shared one, and each grading
worker's own) is a Spark Connect server whose work runs on that cluster's executors instead of this machine's cores:
each server is one application of the cluster, so gradings side by side still never share one. The files the work
reads and writes (the warehouse, the volumes, the grader's unseen data) must then be on a path every node reads at
the same place: ``DAY07_SHARED_DIR`` (NFS, or object storage mounted as a folder). The metastore, the server's state
and its token stay in the kit home, on the machine that runs the server.

:class:`LocalCluster` starts a master and workers on 127.0.0.1 from PySpark's own jars (the wheel has no
``start-master.sh``; the classes are started directly, as the kit does for its server), for the test suite and for
trying the set-up on one machine (``day07 spark cluster start``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from checkers.config import settings
from checkers.errors import ConfigError, SparkServerError
from checkers.spark.java import check_java, module_options, spark_classpath, spark_home
from checkers.spark.memory import ServerSizing
from checkers.spark.ports import LOOPBACK, any_free_port, port_open

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
DAEMON_HEAP = "256m"
"""Heap of a master or worker daemon: they only schedule; the executors they launch have their own."""
STATE_FILE = "cluster.json"


def master_address(master: str) -> tuple[str, int]:
    """``spark://host:7077`` → (host, port); a clear error for anything else."""
    parts = urlsplit(master)
    try:
        host, port = parts.hostname, parts.port or 7077
    except ValueError:
        host, port = None, 0
    if parts.scheme != "spark" or not host:
        raise ConfigError(f"DAY07_SPARK_MASTER={master!r} is not a standalone master URL.",
                          hint="Write it like spark://host:7077 (a Spark standalone master), or unset it to run on "
                               "this machine's cores.")
    return host, port


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def driver_host(master: str) -> str:
    """The address of this machine that the cluster's executors reach the server at: loopback for a master on
    loopback, else the interface this machine uses to reach the master."""
    host, port = master_address(master)
    if _is_loopback(host):
        return LOOPBACK
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect((host, port))  # no packet is sent: this only picks the route
        except OSError as exc:
            raise SparkServerError(f"Cannot find a route to the Spark master {master}: {exc}.",
                                   hint="Check DAY07_SPARK_MASTER and the network.") from None
        return str(sock.getsockname()[0])


def cluster_confs(*, master: str, sizing: ServerSizing) -> dict[str, str]:
    """Spark settings of a server whose work runs on the cluster at ``master``.

    The server's gRPC port stays on loopback with its token; the driver's own ports (the executors talk to them)
    listen on the address the cluster reaches. Each executor uses one core; a grading worker's server takes at most
    ``sizing.cores_max`` of the cluster's cores, so the servers of a cohort share it instead of the first taking all.
    """
    host = driver_host(master)
    confs = {
        "spark.driver.bindAddress": host,
        "spark.driver.host": host,
        "spark.executor.cores": "1",
        "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
        # A server lives for hours; executors of an idle one go back to the cluster after a minute.
        "spark.dynamicAllocation.enabled": "true",
        "spark.dynamicAllocation.shuffleTracking.enabled": "true",
        "spark.dynamicAllocation.shuffleTracking.timeout": "120s",
        "spark.dynamicAllocation.executorIdleTimeout": "60s",
        "spark.dynamicAllocation.minExecutors": "0",
    }
    if sizing.cores_max is not None:
        confs["spark.cores.max"] = str(sizing.cores_max)
        confs["spark.dynamicAllocation.maxExecutors"] = str(sizing.cores_max)
    return confs


def cluster_cores(master: str, *, web_port: int | None = None, timeout: float = 3.0) -> int | None:
    """The cores of a standalone cluster's live workers, from its master's JSON page (port 8080, or the one the kit's
    own loopback cluster recorded); None when it cannot be read."""
    host, _ = master_address(master)
    if web_port is None:
        local = LocalCluster.load(settings().home / "cluster")
        web_port = local.web_port if local is not None and local.master == master else 8080
    try:
        with urllib.request.urlopen(f"http://{host}:{web_port}/json/", timeout=timeout) as response:  # noqa: S310
            data = json.loads(response.read().decode("utf-8"))
        return int(data["cores"]) or None
    except (OSError, ValueError, KeyError, TypeError):
        return None


# ------------------------------------------------------------------------------------------- a loopback cluster


@dataclass
class LocalCluster:
    """A standalone master and its workers on 127.0.0.1, each a JVM started from PySpark's jars."""

    root: Path
    """Folder of the daemons' logs and the workers' work folders."""
    master: str
    """``spark://127.0.0.1:PORT``."""
    web_port: int
    """The master's web UI (its ``/json/`` page says which workers and applications it has)."""
    pids: list[int] = field(default_factory=list)
    """Master first, then the workers."""

    def status(self, *, timeout: float = 3.0) -> dict[str, Any]:
        """The master's own view (workers, cores, applications), or ``{}`` when it does not answer."""
        try:
            with urllib.request.urlopen(f"http://{LOOPBACK}:{self.web_port}/json/", timeout=timeout) as resp:  # noqa: S310
                return dict(json.loads(resp.read().decode("utf-8")))
        except (OSError, ValueError):
            return {}

    def save(self) -> Path:
        path = self.root / STATE_FILE
        path.write_text(json.dumps({**asdict(self), "root": str(self.root)}, indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, root: Path) -> LocalCluster | None:
        try:
            data = json.loads((root / STATE_FILE).read_text(encoding="utf-8"))
            return cls(root=Path(data["root"]), master=data["master"], web_port=int(data["web_port"]),
                       pids=[int(p) for p in data["pids"]])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def alive(self) -> list[int]:
        return [pid for pid in self.pids if _daemon_alive(pid, self.root)]

    def stop(self) -> None:
        """Stop the workers, then the master (their executors go with the workers)."""
        for pid in reversed(self.pids):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in self.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            (self.root / STATE_FILE).unlink()


def _daemon_alive(pid: int, root: Path) -> bool:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X") and str(root) in cmd


def _daemon_command(main_class: str, args: list[str], *, root: Path) -> tuple[list[str], dict[str, str]]:
    java = check_java()
    home = spark_home()
    conf_dir = root / "conf"
    conf_dir.mkdir(parents=True, exist_ok=True)
    cmd = [str(java.path), "-cp", spark_classpath(conf_dir), f"-Xmx{DAEMON_HEAP}", "-XX:+UseSerialGC",
           "-Duser.timezone=UTC", f"-Dspark.cluster.root={root}", *module_options(java), main_class, *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPARK_") and k != "PYSPARK_SUBMIT_ARGS"}
    env.update({"SPARK_HOME": str(home), "SPARK_CONF_DIR": str(conf_dir), "JAVA_HOME": str(java.home),
                "SPARK_LOCAL_IP": LOOPBACK, "SPARK_SCALA_VERSION": "2.13", "MALLOC_ARENA_MAX": "2"})
    return cmd, env


def _spawn(name: str, main_class: str, args: list[str], *, root: Path) -> subprocess.Popen[bytes]:
    cmd, env = _daemon_command(main_class, args, root=root)
    log = root / "logs" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
                                cwd=root, start_new_session=True)


def start_local_cluster(*, root: Path, workers: int = 2, cores: int = 1, memory: str = "1g",
                        timeout: float = 120.0) -> LocalCluster:
    """A master and ``workers`` workers (``cores`` cores and ``memory`` for executors each) on 127.0.0.1, waited for
    until the master sees every worker. Stop it with :meth:`LocalCluster.stop`."""
    root = Path(root).resolve()
    existing = LocalCluster.load(root)
    if existing is not None and existing.alive():
        raise SparkServerError(f"A local Spark cluster already runs from {root} ({existing.master}).",
                               hint="Stop it first: day07 spark cluster stop")
    root.mkdir(parents=True, exist_ok=True)
    port, web_port = any_free_port(), any_free_port()
    master = f"spark://{LOOPBACK}:{port}"
    cluster = LocalCluster(root=root, master=master, web_port=web_port)
    procs = [_spawn("master", MASTER_CLASS, ["--host", LOOPBACK, "--port", str(port), "--webui-port", str(web_port)],
                    root=root)]
    cluster.pids.append(procs[0].pid)
    try:
        _wait(lambda: port_open(port), procs, what="the master to listen", timeout=timeout, root=root)
        for i in range(workers):
            work = root / f"worker{i + 1}"
            (work / "local").mkdir(parents=True, exist_ok=True)
            procs.append(_spawn(f"worker{i + 1}", WORKER_CLASS,
                                ["--host", LOOPBACK, "--cores", str(cores), "--memory", memory, "--work-dir",
                                 str(work), "--webui-port", str(any_free_port()), master], root=root))
            cluster.pids.append(procs[-1].pid)
        _wait(lambda: len([w for w in cluster.status().get("workers", []) or []
                           if isinstance(w, dict) and w.get("state") == "ALIVE"]) >= workers,
              procs, what=f"{workers} workers to register with the master", timeout=timeout, root=root)
    except BaseException:
        cluster.stop()
        raise
    cluster.save()
    return cluster


def _wait(ready: object, procs: list[subprocess.Popen[bytes]], *, what: str, timeout: float, root: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(ready) and ready():
            return
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            raise SparkServerError(f"A Spark cluster daemon exited (code {dead[0].returncode}) while waiting for "
                                   f"{what}.", hint=f"See the logs in {root / 'logs'}.")
        time.sleep(0.5)
    raise SparkServerError(f"Timed out after {timeout:.0f} s waiting for {what}.",
                           hint=f"See the logs in {root / 'logs'}.")
