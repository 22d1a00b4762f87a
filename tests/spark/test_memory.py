"""The Spark server's size: from the machine and the work, or as the learner asks (no Spark started here)."""

from __future__ import annotations

import pytest

from checkers.errors import ConfigError
from checkers.spark import memory as sm
from checkers.spark.memory import auto_heap_mb, grading_sizing, parse_memory, shared_sizing

GIB = 2**30


@pytest.mark.parametrize(("text", "mb"), [("4g", 4096), ("4G", 4096), ("6144m", 6144), ("6144", 6144),
                                          ("1.5g", 1536), (" 2 GiB ", 2048), ("2gb", 2048)])
def test_memory_is_read_like_java_writes_it(text: str, mb: int) -> None:
    assert parse_memory(text, where="--memory") == mb


@pytest.mark.parametrize("text", ["lots", "4x", "", "-1g", "g"])
def test_a_bad_memory_names_the_flag_and_the_form(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_memory(text, where="--memory")
    assert "--memory" in info.value.message and "4g" in (info.value.hint or "")


def test_too_little_memory_for_a_server_is_refused() -> None:
    with pytest.raises(ConfigError, match="too small"):
        parse_memory("256m", where="DAY07_SPARK_MEMORY")


@pytest.mark.parametrize(("machine_gib", "heap_mb"), [(2, 1024), (8, 2048), (24, 6144), (64, 8192)])
def test_auto_is_a_quarter_of_the_machine_within_bounds(machine_gib: int, heap_mb: int) -> None:
    assert auto_heap_mb(machine_gib * GIB) == heap_mb


def test_the_shared_server_follows_the_flag_then_the_setting_then_the_machine(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sm, "machine_memory_bytes", lambda: 16 * GIB)
    auto = shared_sizing(setting="auto")
    assert (auto.heap_mb, auto.profile) == (4096, "large") and "16.0 GiB" in auto.source
    assert shared_sizing(setting="3g").heap_mb == 3072
    flag = shared_sizing("5g", setting="3g")
    assert flag.heap_mb == 5120 and flag.source == "--memory=5g"
    assert flag.heap == "5120m"


def test_a_grading_server_stays_small_unless_the_unseen_data_is_large(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sm, "machine_memory_bytes", lambda: 16 * GIB)
    small = grading_sizing(30_000)
    assert (small.heap_mb, small.profile) == (sm.SMALL_HEAP_MB, "small")
    assert "-XX:TieredStopAtLevel=1" in small.jvm_options() and "-XX:+UseSerialGC" in small.jvm_options()
    assert small.spark_confs()["spark.sql.shuffle.partitions"] == str(sm.SMALL_SHUFFLE_PARTITIONS)
    large = grading_sizing(5_000_000)
    assert (large.heap_mb, large.profile) == (4096, "large")
    assert "-XX:TieredStopAtLevel=1" not in large.jvm_options()
    assert large.spark_confs()["spark.sql.shuffle.partitions"] == str(sm.LARGE_SHUFFLE_PARTITIONS)


def test_the_server_command_carries_the_size(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # noqa: ANN001
    from checkers.config import settings
    from checkers.spark.java import check_java
    from checkers.spark.launch import server_command
    from checkers.spark.spec import ServerPaths, ServerSpec

    monkeypatch.setenv("DAY07_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAY07_SPARK_MEMORY", "3g")
    java = check_java()
    command = server_command(ServerPaths.of(settings()), port=15999, java=java)
    assert "-Xmx3072m" in command
    assert command[command.index("--driver-memory") + 1] == "3072m"
    assert f"spark.local.dir={tmp_path / 'home' / 'spark' / 'local'}" in command  # spill stays in the kit home
    worker = ServerSpec(root=tmp_path / "w1")
    command = server_command(ServerPaths.of(settings(), worker), port=15999, java=java)
    assert f"-Xmx{sm.SMALL_HEAP_MB}m" in command and "-XX:TieredStopAtLevel=1" in command


def test_a_bad_memory_flag_starts_nothing_and_says_how_to_write_it(day07, monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
                                                                   tmp_path) -> None:  # noqa: ANN001
    monkeypatch.setenv("DAY07_HOME", str(tmp_path / "home"))
    code, out, err = day07("spark", "start", "--memory", "lots")
    assert code != 0
    assert "--memory='lots' is not an amount of memory" in out + err and "4g" in out + err
    assert not (tmp_path / "home" / "spark" / "server.json").exists()


def test_status_shows_the_heap_and_why(day07, spark_endpoint) -> None:  # noqa: ANN001
    code, out, _ = day07("spark", "status")
    assert code == 0
    assert "memory" in out and "MB heap (" in out
