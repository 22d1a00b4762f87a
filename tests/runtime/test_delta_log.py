"""The local Delta log (no Spark): versions, kept version files as hard links, pruning; the SQL statement reader."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from checkers.runtime.delta.log import Commit, DeltaLog, drop_schema_logs, local_folder
from checkers.signals import SANDBOX_ROOT


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DAY07_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(SANDBOX_ROOT, raising=False)
    return tmp_path


def table_folder(home: Path, files: dict[str, str]) -> Path:
    folder = home / "warehouse" / "s.db" / "t"
    if folder.exists():
        for old in folder.rglob("*"):
            if old.is_file():
                old.unlink()
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def test_versions_are_numbered_and_keep_hard_links_to_their_files(home: Path) -> None:
    log = DeltaLog("table:spark_catalog.s.t")
    data = table_folder(home, {"part-0.parquet": "v0", "_SUCCESS": "", ".part-0.parquet.crc": "x"})
    assert log.commit(Commit("CREATE TABLE AS SELECT", {"mode": None}, {}), snapshot_from=data) == 0
    kept = log.version_folder(0)
    assert kept is not None and sorted(p.name for p in kept.iterdir()) == ["part-0.parquet"]
    assert os.stat(kept / "part-0.parquet").st_ino == os.stat(data / "part-0.parquet").st_ino
    data = table_folder(home, {"day=1/part-1.parquet": "v1"})  # the table was overwritten
    assert log.commit(Commit("WRITE", {"mode": "Overwrite", "partitionBy": ["day"]}, {}), snapshot_from=data) == 1
    assert (kept / "part-0.parquet").read_text() == "v0"  # the old version's file outlives the overwrite
    assert (log.version_folder(1) / "day=1" / "part-1.parquet").read_text() == "v1"
    entries = log.entries()
    assert [(e["version"], e["operation"], e["readVersion"]) for e in entries] == [
        (0, "CREATE TABLE AS SELECT", None), (1, "WRITE", 0)]
    assert entries[1]["operationParameters"] == {"mode": "Overwrite", "partitionBy": '["day"]'}
    assert entries[0]["timestamp"] < entries[1]["timestamp"]


def test_only_the_last_versions_are_kept_and_a_new_table_starts_over(home: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAY07_DELTA_VERSIONS", "2")
    log = DeltaLog("table:spark_catalog.s.t")
    for version in range(4):
        log.commit(Commit("WRITE", {}, {}), snapshot_from=table_folder(home, {f"p{version}.parquet": "x"}))
    assert log.kept_versions() == [2, 3]
    log.commit(Commit("CREATE TABLE AS SELECT", {}, {}, new_table=True), snapshot_from=None)
    assert [e["version"] for e in log.entries()] == [0] and log.kept_versions() == []


def test_drop_rename_and_drop_schema(home: Path) -> None:
    one, two = DeltaLog("table:spark_catalog.s.one"), DeltaLog("table:spark_catalog.s.two")
    other = DeltaLog("table:spark_catalog.s2.one")
    for log in (one, other):
        log.commit(Commit("WRITE", {}, {}))
    one.move_to(two)
    assert one.entries() == [] and len(two.entries()) == 1
    drop_schema_logs("spark_catalog.s")
    assert two.entries() == [] and len(other.entries()) == 1
    other.drop()
    assert other.entries() == []


def test_a_sandboxed_kernel_keeps_its_logs_in_the_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SANDBOX_ROOT, str(tmp_path / "grading"))
    assert DeltaLog("path:/x").folder.parent == tmp_path / "grading" / "delta"


def test_locations_map_to_local_folders() -> None:
    assert local_folder("file:/tmp/a%20b/t") == Path("/tmp/a b/t")
    assert local_folder("/tmp/x") == Path("/tmp/x")
    assert local_folder("s3://bucket/t") is None and local_folder(None) is None


def test_the_sql_reader_splits_merge_clauses_and_inlines_parameters() -> None:
    from checkers.runtime.delta.sql import _clause
    from checkers.runtime.delta.statement import Statement, inline_parameters

    text = ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED AND CASE WHEN s.x THEN 1 END = 1 THEN UPDATE SET "
            "a = s.a, b = concat(s.b, ',') WHEN NOT MATCHED BY SOURCE THEN DELETE "
            "WHEN NOT MATCHED THEN INSERT (id, a) VALUES (s.id, 'x, y')")
    st = Statement(text)
    whens = [i for i in st.top_level(0) if st.words[i] == "WHEN"]
    assert len(whens) == 3
    first = _clause(st, whens[0], whens[1])
    assert (first.kind, first.action, first.condition) == ("matched", "update", "CASE WHEN s.x THEN 1 END = 1")
    assert first.assignments == (("a", "s.a"), ("b", "concat(s.b, ',')"))
    assert _clause(st, whens[1], whens[2]).kind == "not_matched_by_source"
    last = _clause(st, whens[2], None)
    assert last.assignments == (("id", "s.id"), ("a", "'x, y'"))
    assert inline_parameters("SELECT * FROM t WHERE a = :a AND b::int = ? AND c = ':a'", {"a": "it's"}) == \
        "SELECT * FROM t WHERE a = 'it\\'s' AND b::int = ? AND c = ':a'"
    assert inline_parameters("WHERE a = ? AND b = ?", [1, None]) == "WHERE a = 1 AND b = NULL"
