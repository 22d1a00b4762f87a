"""``dbutils.fs`` on local disk: Databricks' return shapes, path schemes and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkers.runtime.fs import FileInfo, LocalFS, resolve


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DAY07_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture()
def fs(home: Path) -> LocalFS:
    return LocalFS()


def test_schemes_map_to_local_folders(home: Path, tmp_path: Path) -> None:
    assert resolve("/FileStore/a.csv") == (home / "dbfs/FileStore/a.csv", "dbfs:/FileStore/a.csv")
    assert resolve("dbfs:/FileStore/a.csv")[0] == home / "dbfs/FileStore/a.csv"
    assert resolve("/Volumes/workspace/s/v/a.csv") == (home / "volumes/workspace/s/v/a.csv",
                                                       "dbfs:/Volumes/workspace/s/v/a.csv")
    assert resolve(f"file:{tmp_path}/x") == (tmp_path / "x", f"file:{tmp_path}/x")
    assert resolve("dbfs:/../../etc/passwd")[0] == home / "dbfs/etc/passwd"  # like a real root: /.. is /
    with pytest.raises(ValueError, match="not an absolute path"):
        resolve("relative/path")


def test_put_head_ls_return_databricks_shapes(fs: LocalFS, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert fs.put("/tmp/demo/hello.txt", "hello world") is True
    assert "Wrote 11 bytes." in capsys.readouterr().out
    assert (home / "dbfs/tmp/demo/hello.txt").read_text() == "hello world"
    assert fs.mkdirs("dbfs:/tmp/demo/sub/deeper") is True
    listing = fs.ls("/tmp/demo")
    assert all(isinstance(item, FileInfo) for item in listing)
    assert [(i.path, i.name, i.size) for i in listing] == [("dbfs:/tmp/demo/hello.txt", "hello.txt", 11),
                                                           ("dbfs:/tmp/demo/sub/", "sub/", 0)]
    assert listing[0].modificationTime > 1_500_000_000_000  # milliseconds since the epoch
    assert listing[0].isFile() and listing[1].isDir()
    assert fs.ls("/tmp/demo/hello.txt") == [listing[0]]
    assert fs.head("/tmp/demo/hello.txt") == "hello world"
    assert fs.head("/tmp/demo/hello.txt", maxBytes=5) == "hello"


def test_the_local_disks_checksum_files_are_not_listed(fs: LocalFS, home: Path) -> None:
    """Spark on a local disk writes `.part-….crc` beside each file; a volume on Databricks has none."""
    fs.put("/out/part-0000.parquet", "x")
    fs.put("/out/_SUCCESS", "")
    (home / "dbfs/out/.part-0000.parquet.crc").write_text("crc")
    (home / "dbfs/out/._SUCCESS.crc").write_text("crc")
    assert [i.name for i in fs.ls("/out")] == ["_SUCCESS", "part-0000.parquet"]


def test_put_refuses_to_overwrite_unless_asked(fs: LocalFS) -> None:
    fs.put("/x.txt", "one")
    with pytest.raises(FileExistsError):
        fs.put("/x.txt", "two")
    fs.put("/x.txt", "two", overwrite=True)
    assert fs.head("/x.txt") == "two"


def test_cp_mv_rm_between_dbfs_and_volumes(fs: LocalFS, home: Path) -> None:
    fs.put("/in/a.csv", "a\n1\n")
    fs.put("/in/nested/b.csv", "b\n2\n")
    fs.mkdirs("/Volumes/workspace/shop/raw")
    assert fs.cp("dbfs:/in/a.csv", "/Volumes/workspace/shop/raw") is True  # into a folder: keeps its name
    assert (home / "volumes/workspace/shop/raw/a.csv").read_text() == "a\n1\n"
    with pytest.raises(OSError, match="recurse"):
        fs.cp("/in", "/Volumes/workspace/shop/copy")
    fs.cp("/in", "/Volumes/workspace/shop/copy", recurse=True)
    assert [i.name for i in fs.ls("/Volumes/workspace/shop/copy")] == ["a.csv", "nested/"]
    assert fs.mv("/Volumes/workspace/shop/copy/a.csv", "/Volumes/workspace/shop/moved.csv") is True
    assert not (home / "volumes/workspace/shop/copy/a.csv").exists()
    assert fs.head("/Volumes/workspace/shop/moved.csv") == "a\n1\n"
    fs.mv("/in", "/archive", recurse=True)
    assert not (home / "dbfs/in").exists() and (home / "dbfs/archive/nested/b.csv").is_file()
    with pytest.raises(OSError, match="non-empty"):
        fs.rm("/archive")
    assert fs.rm("/archive", recurse=True) is True
    assert fs.rm("/archive") is False
    with pytest.raises(FileNotFoundError, match="/archive"):
        fs.ls("/archive")
    with pytest.raises(FileNotFoundError):
        fs.cp("/nope.csv", "/x.csv")


def test_a_bare_path_spark_reads_from_local_disk_can_be_listed_and_read_but_never_written(
        fs: LocalFS, home: Path, tmp_path: Path) -> None:
    # A local job passes a local file to source_path (the grader's unseen data): Spark reads it from disk, so
    # `dbutils.fs.ls(source_path)` and `head` before `spark.read` must find it too.
    data = tmp_path / "data" / "events.csv"
    data.parent.mkdir()
    data.write_text("event_time,price\n2019-10-01 00:00:00 UTC,1.5\n", encoding="utf-8")
    [entry] = fs.ls(str(data))
    assert (entry.path, entry.name, entry.size) == (str(data), "events.csv", data.stat().st_size)
    assert [e.name for e in fs.ls(str(data.parent))] == ["events.csv"]
    assert fs.head(str(data), maxBytes=10) == "event_time"
    assert fs.cp(str(data), "/copied.csv") and fs.head("/copied.csv").startswith("event_time")
    # Writes through a bare path stay in the DBFS stand-in: the local file is never touched.
    assert fs.rm(str(data)) is False and data.is_file()
    fs.put(str(data), "replaced", overwrite=True)
    assert data.read_text(encoding="utf-8").startswith("event_time")
    assert (home / "dbfs" / str(data).lstrip("/")).read_text(encoding="utf-8") == "replaced"
    # Once the DBFS stand-in has the path, it wins, as on Databricks.
    assert fs.head(str(data)) == "replaced"
    with pytest.raises(FileNotFoundError):
        fs.ls(str(tmp_path / "missing.csv"))
