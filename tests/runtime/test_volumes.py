"""Volume paths: the mapping, the sample placed in its Databricks place, Python file calls, ``day07 volumes``."""

from __future__ import annotations

import argparse
import builtins
import os
from pathlib import Path

import pytest

from checkers.cli import volumes_cmd
from checkers.errors import CheckersError
from checkers.runtime import volumes
from checkers.runtime.volumes import (
    SAMPLE_FILE_NAME,
    SAMPLE_VOLUME,
    VolumePathError,
    copy_to_volume,
    ensure_sample_volume,
    install_python_hooks,
    is_volume_path,
    list_volumes,
    local_path,
    translate,
    uninstall_python_hooks,
    volume_path,
)


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DAY07_HOME", str(tmp_path))
    return tmp_path


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="day07")
    volumes_cmd.register(parser.add_subparsers())
    args = parser.parse_args(list(argv))
    return args.func(args)


def test_volume_paths_map_into_the_kit_home(home: Path) -> None:
    assert local_path("/Volumes/workspace/ecommerce/raw/a.csv") == home / "volumes/workspace/ecommerce/raw/a.csv"
    assert local_path("dbfs:/Volumes/workspace/s/v/x/") == home / "volumes/workspace/s/v/x"
    assert local_path("/Volumes") == home / "volumes"
    assert translate("/Volumes/c/s/v/f.csv") == str(home / "volumes/c/s/v/f.csv")
    assert translate("/tmp/f.csv") == "/tmp/f.csv" and translate(3) == 3
    assert volume_path(home / "volumes/c/s/v/f.csv") == "/Volumes/c/s/v/f.csv"
    assert volume_path(home / "elsewhere") is None


@pytest.mark.parametrize("path", ["/Volumesx/a", "/tmp/Volumes/a", "Volumes/a", "file:/Volumes/a", ""])
def test_other_paths_are_not_volume_paths(path: str) -> None:
    assert not is_volume_path(path)
    with pytest.raises(VolumePathError):
        local_path(path)


def test_a_path_that_climbs_out_of_volumes_is_refused(home: Path) -> None:
    with pytest.raises(VolumePathError, match="climbs out"):
        local_path("/Volumes/workspace/../../etc/passwd")


def test_sample_is_placed_once_where_databricks_notebooks_read_it(home: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    source = volumes._sample_source()
    placed = ensure_sample_volume()
    assert placed == local_path(f"{SAMPLE_VOLUME}/{SAMPLE_FILE_NAME}")
    assert placed.read_bytes() == source.read_bytes()

    def no_copy() -> Path:
        raise AssertionError("the sample must not be copied again")

    november = placed.with_name("2019-Nov.csv")
    first = november.read_bytes()
    monkeypatch.setattr(volumes, "_sample_source", no_copy)
    monkeypatch.setattr(volumes, "_place_november", no_copy)
    assert ensure_sample_volume() == placed
    assert [v.path for v in list_volumes()] == [SAMPLE_VOLUME]
    assert list_volumes()[0].files == 2 and list_volumes()[0].size == source.stat().st_size + len(first)


def test_november_is_the_data_sets_second_month_in_the_same_shape(home: Path) -> None:
    """Notebooks written for the real data set read ``2019-Nov.csv`` beside ``2019-Oct.csv``."""
    november = ensure_sample_volume().with_name("2019-Nov.csv")
    lines = november.read_text().splitlines()
    october = volumes._sample_source().read_text().splitlines()
    assert lines[0] == october[0] and len(lines) == len(october)
    times = [line[:10] for line in lines[1:] if line[:4] == "2019"]
    assert min(times) == "2019-11-01" and max(times) <= "2019-11-30"
    assert set(lines[1:]).isdisjoint(october[1:])
    november.unlink()
    ensure_sample_volume()
    assert november.read_text().splitlines() == lines  # the same file every time


def test_copy_into_a_volume(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "in" / "events.csv"
    src.parent.mkdir()
    src.write_text("a,b\n1,2\n")
    target = copy_to_volume(source=src, dest="/Volumes/workspace/shop/raw/")
    assert target == home / "volumes/workspace/shop/raw/events.csv" and target.read_text() == "a,b\n1,2\n"
    renamed = copy_to_volume(source=src, dest="/Volumes/workspace/shop/raw/other.csv")
    assert renamed.name == "other.csv"
    folder = copy_to_volume(source=src.parent, dest="/Volumes/workspace/shop/raw/")
    assert (folder / "events.csv").is_file()
    with pytest.raises(VolumePathError, match="does not name a volume"):
        copy_to_volume(source=src, dest="/Volumes/workspace/")
    with pytest.raises(VolumePathError, match="not a volume path"):
        copy_to_volume(source=src, dest="/tmp/x")
    with pytest.raises(CheckersError, match="no such file"):
        copy_to_volume(source=tmp_path / "missing.csv", dest="/Volumes/workspace/shop/raw/")


def test_python_file_calls_see_volume_paths(home: Path) -> None:
    folder = local_path("/Volumes/workspace/shop/raw")
    folder.mkdir(parents=True)
    (folder / "a.txt").write_text("hello")
    original_open, original_exists = builtins.open, os.path.exists
    namespace = {"open": original_open}
    try:
        install_python_hooks(namespace)
        assert install_python_hooks() is False  # idempotent
        with open("/Volumes/workspace/shop/raw/a.txt") as fh:
            assert fh.read() == "hello"
        with namespace["open"]("/Volumes/workspace/shop/raw/a.txt") as fh:
            assert fh.read() == "hello"
        assert os.path.exists("/Volumes/workspace/shop/raw/a.txt")
        assert os.listdir("/Volumes/workspace/shop/raw") == ["a.txt"]
        assert Path("/Volumes/workspace/shop/raw/a.txt").is_file()
        os.makedirs("/Volumes/workspace/shop/raw/sub/deeper")
        assert (folder / "sub" / "deeper").is_dir()
        assert not os.path.exists("/Volumes/workspace/shop/raw/missing.txt")
    finally:
        uninstall_python_hooks()
    assert builtins.open is original_open and os.path.exists is original_exists


def test_cli_copies_and_shows_the_mapping(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "extra.csv"
    src.write_text("x\n1\n")
    assert _cli("volumes", "cp", str(src), "/Volumes/workspace/shop/raw/") == 0
    assert (home / "volumes/workspace/shop/raw/extra.csv").read_text() == "x\n1\n"
    assert _cli("volumes") == 0
    out = capsys.readouterr().out
    assert "/Volumes/workspace/shop/raw" in out and SAMPLE_VOLUME in out
    with pytest.raises(CheckersError):
        _cli("volumes", "cp", str(src), "/not/a/volume")


def test_a_function_that_calls_open_still_pickles_for_udfs(home: Path) -> None:
    """cloudpickle sends UDFs, pandas UDFs and mapInPandas functions to Spark's workers; ``open`` must travel."""
    import pickle

    from pyspark import cloudpickle

    folder = local_path("/Volumes/workspace/shop/raw")
    folder.mkdir(parents=True)
    (folder / "lookup.txt").write_text("premium")
    namespace: dict = {"open": builtins.open}
    exec("def segment(path):\n    with open(path) as fh:\n        return fh.read()\n", namespace)  # noqa: S102
    try:
        install_python_hooks(namespace)
        volumes.pickle_open_as(kit_server=True)  # the kit's workers import the kit: volume paths work there
        payload = cloudpickle.dumps(namespace["segment"])
        assert b"volume_open" in payload
        assert pickle.loads(payload)("/Volumes/workspace/shop/raw/lookup.txt") == "premium"
        volumes.pickle_open_as(kit_server=False)  # another server's workers get the built-in open
        payload = cloudpickle.dumps(namespace["segment"])
        assert b"volume_open" not in payload
        assert pickle.loads(payload)(str(folder / "lookup.txt")) == "premium"
    finally:
        volumes.pickle_open_as(kit_server=True)
        uninstall_python_hooks()
