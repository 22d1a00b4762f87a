"""Cohort grading: finding submissions, safe archives, trimmed outputs, the gradebook, resume and Ctrl-C."""

from __future__ import annotations

import json
import shutil
import signal
import zipfile
from pathlib import Path
from typing import Any

import nbformat
import pytest

from checkers.data import SAMPLE_SEED
from checkers.errors import GradingError
from checkers.grading.archives import UnsafeArchiveError, extract_zip, trim_outputs
from checkers.grading.cohort import find_submissions, grade_cohort, shorten
from checkers.grading.cohort_summary import summarize, summary_markdown
from checkers.grading.gradebook import Entry, Gradebook
from checkers.grading.options import submission_seed
from tests.helpers import adversarial
from tests.helpers.layouts import dbc_archive, write_volumes

# --------------------------------------------------------------------------------------------- discovery


def test_find_submissions_takes_folders_zips_and_dbc_archives_and_ignores_the_rest(tmp_path: Path) -> None:
    (tmp_path / "bob").mkdir()
    (tmp_path / "alice").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    adversarial.solutions_zip(tmp_path / "carol.zip")
    dbc_archive(tmp_path / "dave.dbc")
    found = find_submissions(cohort_dir=tmp_path)
    assert [(s.id, s.path.name) for s in found] == [("alice", "alice"), ("bob", "bob"), ("carol", "carol.zip"),
                                                    ("dave", "dave.dbc")]


def test_find_submissions_refuses_two_submissions_with_one_name(tmp_path: Path) -> None:
    (tmp_path / "alice").mkdir()
    adversarial.solutions_zip(tmp_path / "alice.zip")
    with pytest.raises(GradingError, match="both called 'alice'"):
        find_submissions(cohort_dir=tmp_path)


def test_find_submissions_says_when_there_are_none(tmp_path: Path) -> None:
    (tmp_path / "readme.md").write_text("x")
    with pytest.raises(GradingError, match="No submissions"):
        find_submissions(cohort_dir=tmp_path)


# --------------------------------------------------------------------------------------------- archives


def test_zip_with_one_top_folder_unpacks_to_that_folder(tmp_path: Path) -> None:
    archive = adversarial.solutions_zip(tmp_path / "s.zip")
    folder = extract_zip(archive=archive, dest=tmp_path / "out")
    assert folder == tmp_path / "out" / "my_submission"
    shipped = sorted(p.name for p in adversarial.SOLUTIONS.iterdir() if p.is_file())
    assert sorted(p.name for p in folder.iterdir()) == shipped


def test_zip_with_path_traversal_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    archive = adversarial.traversal_zip(tmp_path / "evil.zip")
    dest = tmp_path / "a" / "b" / "out"
    with pytest.raises(UnsafeArchiveError, match=r"'\.\./\.\./escaped\.txt' points outside"):
        extract_zip(archive=archive, dest=dest)
    assert not dest.exists()
    assert not list(tmp_path.rglob("escaped.txt"))


@pytest.mark.parametrize("name", ["/etc/evil.txt", "C:/evil.txt", "sub/../../evil.txt"])
def test_zip_with_absolute_or_climbing_names_is_refused(tmp_path: Path, name: str) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(name, "x")
    with pytest.raises(UnsafeArchiveError, match="points outside"):
        extract_zip(archive=archive, dest=tmp_path / "out")


def test_zip_with_a_symlink_member_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("sub/job.yml")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(UnsafeArchiveError, match="symbolic link"):
        extract_zip(archive=archive, dest=tmp_path / "out")


def test_not_a_zip_is_a_clear_error(tmp_path: Path) -> None:
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(UnsafeArchiveError, match="broken.zip is not a readable zip"):
        extract_zip(archive=archive, dest=tmp_path / "out")


# --------------------------------------------------------------------------------------------- outputs


def test_trim_outputs_caps_a_flooding_cell_and_leaves_the_others(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("print('hi')", outputs=[nbformat.v4.new_output("stream", name="stdout",
                                                                                  text="hi\n")]),
        nbformat.v4.new_code_cell("flood", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="x" * 3_000_000),
            nbformat.v4.new_output("display_data", data={"text/plain": "after"}),
        ]),
    ])
    path = tmp_path / "run" / "03_gold.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, str(path))
    notes = trim_outputs(folder=tmp_path, cap=100_000)
    assert len(notes) == 1 and notes[0].startswith("run/03_gold.ipynb cell 2: output trimmed from 3,0")
    trimmed = nbformat.read(str(path), as_version=4)
    assert trimmed.cells[0].outputs[0].text == "hi\n"
    outputs = trimmed.cells[1].outputs
    assert len(outputs) == 1 and len(outputs[0].text) < 101_000
    assert "output trimmed" in outputs[0].text
    assert path.stat().st_size < 110_000


# --------------------------------------------------------------------------------------------- gradebook


def test_gradebook_saves_json_and_csv_and_loads_back(tmp_path: Path) -> None:
    book = Gradebook(out_dir=tmp_path, seed=7, rows=2000)
    book.put(Entry(id="bob", source="b", status="failed", score=60, max_score=100, seed=123,
                   groups={"bronze": [20, 20], "silver": [40, 50]}, report="reports/bob.json",
                   failed_checks=["silver.no_duplicates"], message="silver.no_duplicates: 238 duplicates"))
    book.put(Entry(id="alice", source="a", status="error", message="the grader failed: boom"))
    loaded = Gradebook.load(out_dir=tmp_path)
    assert loaded is not None and (loaded.seed, loaded.rows) == (7, 2000)
    assert loaded.entries["bob"].groups == {"bronze": [20, 20], "silver": [40, 50]}
    lines = (tmp_path / "gradebook.csv").read_text().splitlines()
    assert lines[0] == "id,seed,score,max_score,bronze,bronze_max,silver,silver_max,status,report,message"
    assert lines[1] == "alice,,,,,20,,50,error,,the grader failed: boom"
    assert lines[2] == "bob,123,60,100,20,20,40,50,failed,reports/bob.json,silver.no_duplicates: 238 duplicates"
    assert loaded.entries["bob"].seed == 123
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_a_damaged_gradebook_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "gradebook.json").write_text('{"seed": 1, "entr')
    with pytest.raises(GradingError, match="gradebook.json is not a gradebook"):
        Gradebook.load(out_dir=tmp_path)


def test_summary_histogram_and_most_failed_checks(tmp_path: Path) -> None:
    book = Gradebook(out_dir=tmp_path, seed=7, rows=2000)
    for sid, score, fails in (("a", 100, []), ("b", 55, ["silver.dedup", "gold.revenue"]),
                              ("c", 50, ["silver.dedup"]), ("d", 0, ["silver.dedup", "run.success"])):
        book.entries[sid] = Entry(id=sid, source=sid, status="passed" if score == 100 else "failed", score=score,
                                  max_score=100, failed_checks=fails,
                                  skipped_checks=["gold.rows"] * (sid == "d"))
    book.entries["e"] = Entry(id="e", source="e", status="error", message="boom")
    summary = summarize(book)
    counts = {b["range"]: b["count"] for b in summary["histogram"]}
    assert counts["0-9"] == 1 and counts["50-59"] == 2 and counts["90-100"] == 1 and sum(counts.values()) == 4
    assert summary["most_failed"][0] == {"check": "silver.dedup", "submissions": 3, "share": 0.75}
    assert "gold.rows" not in {f["check"] for f in summary["most_failed"]}  # skipped: counted apart
    assert summary["most_skipped"] == [{"check": "gold.rows", "submissions": 1, "share": 0.25}]
    assert "## Checks skipped most" in summary_markdown(summary)
    assert summary["statuses"] == {"passed": 1, "failed": 3, "error": 1}
    assert summary["score"]["median"] == 52.5
    assert summary["not_graded"] == [{"id": "e", "status": "error", "message": "boom"}]


def test_submission_seeds_differ_are_reproducible_and_never_the_samples() -> None:
    seeds = {sid: submission_seed(7, sid) for sid in ("alice", "bob", "carol", "dave")}
    assert len(set(seeds.values())) == 4
    assert seeds == {sid: submission_seed(7, sid) for sid in seeds}
    assert submission_seed(8, "alice") != seeds["alice"]
    assert all(0 < s < 2**31 and s != SAMPLE_SEED for s in seeds.values())


def test_long_gradebook_messages_are_cut_at_a_word() -> None:
    text = "silver.dedup: " + "duplicate rows found " * 40
    cut = shorten(text, 100)
    assert len(cut) <= 100 and cut.endswith("…") and not cut[:-1].endswith(("dupl", "fou"))
    assert text.startswith(cut[:-1]) and shorten("short", 100) == "short"


def test_grade_cohort_rejects_bad_arguments(tmp_path: Path) -> None:
    (tmp_path / "c" / "s").mkdir(parents=True)
    with pytest.raises(GradingError, match="--workers 0"):
        grade_cohort(cohort_dir=tmp_path / "c", out_dir=tmp_path / "o", workers=0)
    with pytest.raises(GradingError, match="--rows 10 is too small"):
        grade_cohort(cohort_dir=tmp_path / "c", out_dir=tmp_path / "o", rows=10)


def test_a_gradebook_with_another_seed_is_not_mixed(tmp_path: Path) -> None:
    (tmp_path / "c" / "s").mkdir(parents=True)
    Gradebook(out_dir=tmp_path / "o", seed=7, rows=2000).save()
    with pytest.raises(GradingError, match="seed 7"):
        grade_cohort(cohort_dir=tmp_path / "c", out_dir=tmp_path / "o", seed=8)


# --------------------------------------------------------------------------------------------- with Spark


def _grader_bug_for(monkeypatch: pytest.MonkeyPatch, hit: Any) -> None:
    """Make the real grader raise for the submissions ``hit(folder)`` selects: a bug in the grader itself,
    which the cohort must record as that submission's ``error`` and carry on."""
    import checkers.grading.grade as grade_module

    real = grade_module.grade_submission

    def buggy(*, folder: Path, **kwargs: Any) -> Any:
        if hit(folder):
            raise RuntimeError("simulated grader bug")
        return real(folder=folder, **kwargs)

    monkeypatch.setattr(grade_module, "grade_submission", buggy)


@pytest.mark.spark
@pytest.mark.kernel
def test_ctrl_c_leaves_a_consistent_gradebook_and_a_rerun_finishes(tmp_path: Path, spark_endpoint: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A grader that fails at once (no kernels needed) makes this fast; SIGINT is a real signal."""
    _grader_bug_for(monkeypatch, lambda folder: True)
    cohort = tmp_path / "cohort"
    for sid in ("a_first", "b_second", "c_third"):
        adversarial.build(cohort / sid, None)
    out = tmp_path / "out"

    def interrupt(entry: Entry, done: int, total: int) -> None:
        signal.raise_signal(signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        grade_cohort(cohort_dir=cohort, out_dir=out, workers=1, seed=11, rows=2000, progress=interrupt)
    data = json.loads((out / "gradebook.json").read_text())
    statuses = {e["id"]: e["status"] for e in data["entries"]}
    assert statuses["a_first"] == "error"
    assert {statuses["b_second"], statuses["c_third"]} <= {"pending", "interrupted", "error"}
    assert list(statuses.values()).count("error") < 3
    assert "a_first" in (out / "gradebook.csv").read_text()

    # A grader killed outright leaves "running": that one is graded again too.
    data["entries"][0]["status"] = "running"
    (out / "gradebook.json").write_text(json.dumps(data))
    result = grade_cohort(cohort_dir=cohort, out_dir=out, workers=1)
    assert result.seed == 11
    assert "a_first" in result.graded
    assert sorted(result.graded + result.skipped) == ["a_first", "b_second", "c_third"]
    assert {e.status for e in result.entries} == {"error"}
    assert all("simulated grader bug" in e.message for e in result.entries)


@pytest.mark.spark
@pytest.mark.kernel
def test_cli_grades_folders_and_zips_writes_every_export_and_resumes(tmp_path: Path, spark_endpoint: Any,
                                                                     capsys: pytest.CaptureFixture[str],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from checkers.cli import grade_cmd

    _grader_bug_for(monkeypatch, lambda folder: Path(folder).name == "crash")
    parser = argparse.ArgumentParser(prog="day07")
    grade_cmd.register(parser.add_subparsers())
    cohort = tmp_path / "cohort"
    cohort.mkdir()
    # good writes a volume of its schema, through the worker's confined server and its sandboxed kernels
    write_volumes(adversarial.copy_solutions(tmp_path / "good"))
    shutil.make_archive(str(cohort / "good"), "zip", tmp_path, "good")
    adversarial.traversal_zip(cohort / "evil.zip")
    adversarial.build(cohort / "crash", None)
    out = tmp_path / "out"
    argv = ["grade", str(cohort), "--out", str(out), "--workers", "2", "--seed", "7", "--rows", "2000",
            "--cell-timeout", "120"]
    args = parser.parse_args(argv)
    code = args.func(args)
    shown = capsys.readouterr().out
    assert code == 1  # two submissions could not be graded
    book = Gradebook.load(out_dir=out)
    assert book is not None
    good, evil, crash = book.entries["good"], book.entries["evil"], book.entries["crash"]
    assert (good.status, good.score, good.max_score) == ("passed", 100, 100)
    assert evil.status == "error" and "points outside" in evil.message
    assert crash.status == "error" and "simulated grader bug" in crash.message and "the grader failed" in crash.message
    assert not list(tmp_path.rglob("escaped.txt"))
    report = json.loads((out / good.report).read_text())  # type: ignore[operator]
    assert report["score"] == 100 and report["seed"] == good.seed == submission_seed(7, "good")
    assert (out / "reports" / "good.junit.xml").read_text().count("<testcase") == len(report["checks"])
    assert json.loads((out / "reports" / "good.gradescope.json").read_text())["score"] == 100
    header = (out / "gradebook.csv").read_text().splitlines()[0].split(",")
    assert header[:4] == ["id", "seed", "score", "max_score"]
    assert {"bronze", "bronze_max", "silver", "gold", "job", "job_max"} <= set(header)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["statuses"] == {"passed": 1, "error": 2}
    assert "## Score histogram" in (out / "summary.md").read_text()
    assert "Score histogram" in shown and "crash" in shown

    # Re-run: everything is graded already, nothing runs again.
    result = grade_cohort(cohort_dir=cohort, out_dir=out)
    assert result.graded == [] and sorted(result.skipped) == ["crash", "evil", "good"]



@pytest.mark.spark
def test_a_worker_server_is_left_clean_for_the_next_submission(spark: Any) -> None:
    """What a submission leaves beside its own schema (another schema, a global temporary view) is gone before the
    worker's next grading, and what was there before stays."""
    from checkers.grading.cleanup import _drop_what_it_made, server_schemas

    spark.sql("CREATE SCHEMA IF NOT EXISTS kept_before_grading")
    before = server_schemas(spark)
    spark.sql("CREATE SCHEMA IF NOT EXISTS stash_for_a_peer")
    spark.sql("CREATE TABLE stash_for_a_peer.silver AS SELECT 1 AS x")
    spark.range(3).createOrReplaceGlobalTempView("stash_view")
    _drop_what_it_made(spark, before)
    assert not spark.catalog.databaseExists("stash_for_a_peer")
    assert spark.catalog.databaseExists("kept_before_grading")
    assert "stash_view" not in {r.viewName for r in spark.sql("SHOW VIEWS IN global_temp").collect()}
    spark.sql("DROP SCHEMA kept_before_grading")
