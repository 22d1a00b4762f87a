"""The kit's servers on a standalone cluster: settings, master URLs and the server's options (no Spark here; the
cluster itself is started by tests/grading/test_cluster.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkers.config import settings
from checkers.errors import ConfigError
from checkers.spark.cluster import cluster_confs, driver_host, master_address
from checkers.spark.memory import ServerSizing


@pytest.mark.parametrize(("url", "address"), [("spark://127.0.0.1:7077", ("127.0.0.1", 7077)),
                                              ("spark://master.example:7078", ("master.example", 7078)),
                                              ("spark://localhost", ("localhost", 7077))])
def test_a_master_url_gives_host_and_port(url: str, address: tuple[str, int]) -> None:
    assert master_address(url) == address


@pytest.mark.parametrize("url", ["local[*]", "http://127.0.0.1:7077", "spark://", "127.0.0.1:7077"])
def test_anything_but_a_standalone_master_url_is_refused_with_the_setting_named(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        master_address(url)
    assert "DAY07_SPARK_MASTER" in info.value.message and "spark://host:7077" in (info.value.hint or "")


def test_a_master_on_loopback_keeps_the_driver_on_loopback() -> None:
    assert driver_host("spark://127.0.0.1:7077") == "127.0.0.1"
    assert driver_host("spark://localhost:7077") == "127.0.0.1"


def test_a_grading_worker_takes_its_share_of_the_cluster_and_the_shared_server_all_it_gets() -> None:
    worker = cluster_confs(master="spark://127.0.0.1:7077",
                           sizing=ServerSizing(heap_mb=768, profile="small", source="t", cores_max=2))
    assert worker["spark.cores.max"] == "2" and worker["spark.dynamicAllocation.maxExecutors"] == "2"
    assert worker["spark.driver.host"] == worker["spark.driver.bindAddress"] == "127.0.0.1"
    shared = cluster_confs(master="spark://127.0.0.1:7077",
                           sizing=ServerSizing(heap_mb=4096, profile="large", source="t"))
    assert "spark.cores.max" not in shared and shared["spark.dynamicAllocation.enabled"] == "true"


def test_the_shared_folder_takes_the_warehouse_and_volumes_and_the_home_keeps_the_rest(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DAY07_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAY07_SHARED_DIR", str(tmp_path / "shared"))
    s = settings()
    assert s.warehouse_dir == tmp_path / "shared" / "warehouse" and s.volumes_dir == tmp_path / "shared" / "volumes"
    assert s.metastore_dir == tmp_path / "home" / "metastore" and s.spark_dir == tmp_path / "home" / "spark"
    monkeypatch.delenv("DAY07_SHARED_DIR")
    assert settings().warehouse_dir == tmp_path / "home" / "warehouse"


def test_a_relative_shared_folder_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAY07_SHARED_DIR", "shared")
    with pytest.raises(ConfigError, match="DAY07_SHARED_DIR"):
        settings()


def test_the_server_command_runs_on_the_master(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from checkers.spark.java import check_java
    from checkers.spark.launch import server_command
    from checkers.spark.spec import ServerPaths

    monkeypatch.setenv("DAY07_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAY07_SPARK_MASTER", "spark://127.0.0.1:7077")
    monkeypatch.setenv("DAY07_SHARED_DIR", str(tmp_path / "shared"))
    command = server_command(ServerPaths.of(settings()), port=15999, java=check_java())
    assert command[command.index("--master") + 1] == "spark://127.0.0.1:7077"
    assert f"spark.sql.warehouse.dir={tmp_path / 'shared' / 'warehouse'}" in command
    assert "spark.dynamicAllocation.enabled=true" in command
