"""The cohort's table of submissions that share most of their own code (no Spark: notebooks and reports only)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat

from checkers.grading.cohort_summary import summarize, summary_markdown
from checkers.grading.gradebook import Entry, Gradebook
from checkers.grading.report import Report
from checkers.grading.shared_code import (
    cohort_copies,
    cohort_pairs,
    copies_of_the_solution,
    own_code,
    similar_pairs,
    solution_answers,
)
from checkers.jobs.project import find_submission
from tests.helpers.adversarial import SOLUTIONS

LESSONS = SOLUTIONS.parent / "lessons"

OWN_SILVER = """\
cleaned = (typed.withColumn("event_time", F.to_timestamp(F.regexp_replace("event_time", " UTC$", "")))
                .where("event_time IS NOT NULL"))
cleaned = cleaned.na.drop(subset=["event_time", "event_type", "product_id", "user_id", "user_session"])
cleaned = cleaned.withColumn("event_type", F.lower(F.trim(F.col("event_type"))))
cleaned = cleaned.where(F.col("event_type").isin("view", "cart", "remove_from_cart", "purchase"))
cleaned = cleaned.where((F.col("price") > 0) & (F.col("price") < 10000))
cleaned = cleaned.dropDuplicates(["user_session", "event_time", "event_type", "product_id"])
cleaned = cleaned.fillna("unknown", subset=["brand", "category_code"])
cleaned = cleaned.withColumn("event_date", F.to_date("event_time"))
tier = F.when(F.col("price") < 10, "budget").when(F.col("price") < 50, "mid").otherwise("premium")
cleaned = cleaned.withColumn("price_tier", tier)
"""


def _submission(root: Path, name: str, extra: str | None) -> Path:
    folder = root / name
    shutil.copytree(SOLUTIONS, folder)
    if extra is not None:
        path = folder / "02_silver.ipynb"
        nb = nbformat.read(str(path), as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(extra))
        nbformat.write(nb, str(path))
    return folder


def _own(folder: Path) -> dict[str, list[str]]:
    return own_code(find_submission(folder=folder).notebooks)


def test_the_lessons_code_is_nobodys_own_and_written_lines_are_kept_as_hashes(tmp_path: Path) -> None:
    assert _own(_submission(tmp_path, "solutions", None)) == {}
    own = _own(_submission(tmp_path, "mine", OWN_SILVER))
    assert list(own) == ["02_silver"] and len(own["02_silver"]) == 11
    assert not any("cleaned" in h for h in own["02_silver"])  # hashes, never the code


def test_a_copy_is_listed_and_independent_work_is_not(tmp_path: Path) -> None:
    alice = _own(_submission(tmp_path, "alice", OWN_SILVER))
    copied = OWN_SILVER + "# copied, with a comment\n"
    bob = _own(_submission(tmp_path, "bob", copied.replace("\n", "  \n")))  # spacing and comments do not matter
    other = "\n".join(f"step_{i} = spark.table('day07.bronze_events').limit({i})" for i in range(12))
    carol = _own(_submission(tmp_path, "carol", other))
    pairs = similar_pairs({"alice": alice, "bob": bob, "carol": carol})
    assert [(p["a"], p["b"], p["similarity"]) for p in pairs] == [("alice", "bob", 1.0)]
    assert similar_pairs({"alice": alice, "bob": bob}, min_lines=12) == []  # too little own code to tell


def test_the_cohort_reads_the_reports_and_the_summary_lists_the_pair(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "reports").mkdir(parents=True)
    own = {"02_silver": [f"{i:012x}" for i in range(15)]}
    for sid in ("alice", "bob"):
        report = Report(submission=sid, score=100, max_score=100, checks=[], run=_run(), own_code=own)
        assert Report.from_dict(json.loads(report.to_json())).own_code == own
        (out / "reports" / f"{sid}.json").write_text(report.to_json(), encoding="utf-8")
    (out / "reports" / "broken.json").write_text("{not json", encoding="utf-8")
    pairs = cohort_pairs(out_dir=out, reports={"alice": "reports/alice.json", "bob": "reports/bob.json",
                                               "broken": "reports/broken.json", "none": None})
    assert pairs == [{"a": "alice", "b": "bob", "shared_lines": 15, "lines": [15, 15], "similarity": 1.0}]
    book = Gradebook(out_dir=out, seed=1, rows=2000)
    book.entries = {sid: Entry(id=sid, source=sid, status="passed", score=100, max_score=100)
                    for sid in ("alice", "bob")}
    summary = summarize(book, shared_code=pairs)
    assert summary["shared_code"] == pairs
    text = summary_markdown(summary)
    assert "## Submissions that share most of their own code" in text and "| alice, bob | 15, 15 | 15 | 100% |" in text
    assert "share most" not in summary_markdown(summarize(book))


def _run():  # noqa: ANN202 - a report's empty run summary
    from checkers.grading.report import RunSummary

    return RunSummary(result_state="SUCCESS")


def test_a_copy_of_the_solution_holds_its_answers_and_own_work_few_of_them(tmp_path: Path) -> None:
    copy = solution_answers(find_submission(folder=_submission(tmp_path, "copy", None)).notebooks)
    assert copy is not None and copy["matched"] == copy["of"] > 20
    own = tmp_path / "own"
    shutil.copytree(LESSONS, own)
    path = own / "02_silver.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(OWN_SILVER))
    nbformat.write(nb, str(path))
    mine = solution_answers(find_submission(folder=own).notebooks)
    assert mine is not None and mine["of"] == copy["of"] and mine["matched"] < copy["of"] * 0.3
    assert solution_answers(find_submission(folder=LESSONS).notebooks) == {"matched": 0, "of": copy["of"]}
    listed = copies_of_the_solution({"copy": copy, "own": mine, "unread": None})
    assert [(c["id"], c["share"]) for c in listed] == [("copy", 1.0)]


def test_the_summary_names_the_submissions_that_hold_the_reference_answers(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "reports").mkdir(parents=True)
    for sid, held in (("alice", {"matched": 50, "of": 57}), ("bob", {"matched": 3, "of": 57})):
        report = Report(submission=sid, score=100, max_score=100, checks=[], run=_run(), solution_answers=held)
        assert Report.from_dict(json.loads(report.to_json())).solution_answers == held
        (out / "reports" / f"{sid}.json").write_text(report.to_json(), encoding="utf-8")
    copies = cohort_copies(out_dir=out, reports={"alice": "reports/alice.json", "bob": "reports/bob.json"})
    assert copies == [{"id": "alice", "matched": 50, "of": 57, "share": 0.877}]
    book = Gradebook(out_dir=out, seed=1, rows=2000)
    book.entries = {sid: Entry(id=sid, source=sid, status="passed", score=100, max_score=100)
                    for sid in ("alice", "bob")}
    text = summary_markdown(summarize(book, solution_copies=copies))
    assert "## Submissions that hold the reference solution's answers" in text and "| alice | 50 of 57 | 88% |" in text
    assert "reference solution" not in summary_markdown(summarize(book))
