"""Databricks archives (.dbc): each Python or SQL notebook in one becomes a source notebook the kit runs."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from checkers.grading.submission import unpack_dbc_archives
from checkers.notebooks.dbc import convert_dbc_members, dbc_notebook
from checkers.notebooks.formats import parse_source
from tests.helpers.layouts import dbc_archive


def _member(language: str, *commands: tuple[float, str], name: str = "nb") -> dict:
    return {"version": "NotebookV1", "name": name, "language": language,
            "commands": [{"position": position, "command": text} for position, text in commands]}


def test_commands_become_cells_in_the_order_of_their_positions() -> None:
    nb = dbc_notebook(_member("python", (3.0, "print('third')"), (1.0, "%md\n# Title\nSome text"),
                              (2.5, "%sql\nSELECT 1"), (2.0, "%run ./setup"), (4.0, "   \n")), name="nb")
    assert [(c.cell_type, c.source) for c in nb.cells] == [
        ("markdown", "# Title\nSome text"), ("code", "%run ./setup"), ("code", "%sql\nSELECT 1"),
        ("code", "print('third')")]


def test_a_sql_notebooks_plain_commands_are_sql_and_its_python_ones_stay_python() -> None:
    nb = dbc_notebook(_member("sql", (1.0, "CREATE SCHEMA IF NOT EXISTS day07"), (2.0, "%python\nx = 1")), name="q")
    assert [c.source for c in nb.cells] == ["%sql\nCREATE SCHEMA IF NOT EXISTS day07", "%python\nx = 1"]


def test_members_are_replaced_by_source_notebooks_and_other_languages_are_left_out_with_a_note(
        tmp_path: Path) -> None:
    (tmp_path / "day07").mkdir()
    (tmp_path / "day07" / "01_bronze.python").write_text(json.dumps(_member(
        "python", (2.0, "df = spark.range(3)"), (1.0, "%md\n# Bronze"), name="01_bronze")), encoding="utf-8")
    (tmp_path / "day07" / "tools.scala").write_text(json.dumps(_member("scala", (1.0, "val x = 1"))),
                                                    encoding="utf-8")
    plain_sql = tmp_path / "day07" / "query.sql"
    plain_sql.write_text("SELECT 1;\n", encoding="utf-8")  # not a DBC member: left as it is
    notes = convert_dbc_members(tmp_path)
    source = (tmp_path / "day07" / "01_bronze.py").read_text(encoding="utf-8")
    assert [(c.cell_type, c.source) for c in parse_source(source, path="01_bronze.py").cells] == [
        ("markdown", "# Bronze"), ("code", "df = spark.range(3)")]
    assert not (tmp_path / "day07" / "01_bronze.python").exists() and not (tmp_path / "day07" / "tools.scala").exists()
    assert plain_sql.read_text(encoding="utf-8") == "SELECT 1;\n"
    assert any("1 notebook read" in n and "01_bronze.py" in n for n in notes)
    assert any("tools.scala is a Scala notebook" in n and "left out" in n for n in notes)


def test_an_archive_beside_the_job_file_unpacks_beside_it(tmp_path: Path) -> None:
    dbc_archive(tmp_path / "day07.dbc")
    (tmp_path / "job.yml").write_text("resources: {}\n", encoding="utf-8")
    notes = unpack_dbc_archives(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "00_widgets.py", "01_bronze.py", "02_silver.py", "03_gold.py", "04_quality.py", "job.yml"]
    assert "day07.dbc (a Databricks archive) was unpacked into the folder it was in" in notes
    nb = parse_source((tmp_path / "01_bronze.py").read_text(encoding="utf-8"), path="01_bronze.py")
    assert any("saveAsTable" in c.source for c in nb.cells)


def test_an_archive_whose_notebooks_are_already_there_unpacks_into_its_own_folder(tmp_path: Path) -> None:
    dbc_archive(tmp_path / "export.dbc")
    (tmp_path / "01_bronze.py").write_text("# Databricks notebook source\nprint('mine')\n", encoding="utf-8")
    notes = unpack_dbc_archives(tmp_path)
    assert (tmp_path / "01_bronze.py").read_text(encoding="utf-8").endswith("print('mine')\n")  # never replaced
    assert (tmp_path / "export" / "01_bronze.py").is_file()
    assert "export.dbc (a Databricks archive) was unpacked into export/" in notes


def test_an_archive_that_is_not_a_zip_is_a_note_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "broken.dbc").write_bytes(b"not a zip")
    notes = unpack_dbc_archives(tmp_path)
    assert any(n.startswith("broken.dbc could not be unpacked") for n in notes)


def test_the_test_archive_is_shaped_like_databricks_export(tmp_path: Path) -> None:
    with zipfile.ZipFile(dbc_archive(tmp_path / "a.dbc")) as zf:
        assert "day07/02_silver.python" in zf.namelist()
        member = json.loads(zf.read("day07/02_silver.python"))
    assert member["version"] == "NotebookV1" and member["language"] == "python"
    assert [c["position"] for c in member["commands"]] != sorted(c["position"] for c in member["commands"])


def test_a_compressed_member_is_read_and_a_bomb_is_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip

    from checkers.notebooks import dbc

    (tmp_path / "ok.python").write_bytes(gzip.compress(json.dumps(_member("python", (1.0, "x = 1"))).encode()))
    assert dbc.read_dbc_member(tmp_path / "ok.python") is not None
    monkeypatch.setattr(dbc, "MAX_MEMBER_BYTES", 1000)
    big = _member("python", (1.0, "x = 1" + " " * 5000))
    (tmp_path / "big.python").write_bytes(gzip.compress(json.dumps(big).encode()))
    assert dbc.read_dbc_member(tmp_path / "big.python") is None
