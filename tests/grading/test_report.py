"""Report renderings: the contract's JSON, JUnit XML that parses, Gradescope's results.json, the console."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.console import Console

from checkers.grading.report import (
    CheckResult,
    Report,
    RunSummary,
    TaskSummary,
    render_console,
    to_gradescope,
    to_junit,
    write_gradescope,
    write_json,
    write_junit,
)

CONTRACT_STATUSES = {"passed", "failed", "error", "skipped"}
CONTRACT_GROUPS = {"widgets", "bronze", "silver", "gold", "job", "run", "stretch"}


@pytest.fixture()
def report() -> Report:
    checks = [
        CheckResult("widgets.declared", "widgets", "declares widgets", "passed", 4, 4, "both declared",
                    "Docs: docs/widgets.md"),
        CheckResult("silver.dedup", "silver", "one row per key", "failed", 0, 3,
                    "expected 18 412 rows, found 18 650 — 238 duplicates on (user_session, event_time, event_type, "
                    "product_id)", "dropDuplicates([...]) See docs/silver.md"),
        CheckResult("silver.values", "silver", "values", "skipped", 0, 2, "needs silver.dedup (one row per key), "
                    "which failed", "Change nothing else. See docs/silver.md"),
        CheckResult("gold.daily_sales.revenue", "gold", "revenue", "error", 0, 3,
                    "the grader could not run this check: KeyError: 'price'", "Report it. See docs/gold.md"),
        CheckResult("job.valid", "job", "job loads", "passed", 3, 3, "loads", "Docs: docs/job-workflow.md"),
        CheckResult("stretch.retries", "stretch", "bronze retries", "passed", 2, 2, "retries once",
                    "Docs: docs/job-workflow.md", required=False),
        CheckResult("stretch.condition", "stretch", "condition", "failed", 0, 3, "no condition task",
                    "Add one. See docs/dependencies.md", required=False),
    ]
    return Report(submission="/home/me/day07", score=7, max_score=15, checks=checks,
                  run=RunSummary(result_state="FAILED", mode="job", run_dir="/runs/1",
                                 tasks=[TaskSummary("bronze", "SUCCESS"), TaskSummary("silver", "FAILED", "cell 9")]),
                  seed=4711, rows=30000, schema="grade_abc", run_folder="/home/me/.day07/grading/x",
                  data_file="/home/me/.day07/grading/x/data/events_seed4711.csv", stretch_score=2,
                  stretch_max_score=5, duration_seconds=12.345)


def test_json_has_the_contract_fields(report: Report, tmp_path: Path) -> None:
    data = json.loads(write_json(report, tmp_path / "r.json").read_text(encoding="utf-8"))
    assert {"submission", "score", "max_score", "checks", "run", "seed", "schema", "run_folder"} <= set(data)
    assert data["score"] == 7 and data["max_score"] == 15 and isinstance(data["score"], int)
    for check in data["checks"]:
        assert {"id", "group", "status", "score", "max_score", "message", "hint"} <= set(check)
        assert check["status"] in CONTRACT_STATUSES and check["group"] in CONTRACT_GROUPS
    assert data["run"]["result_state"] == "FAILED"
    assert data["run"]["tasks"][1] == {"task_key": "silver", "result_state": "FAILED", "message": "cell 9"}
    assert data["stretch_score"] == 2 and data["seed"] == 4711


def test_score_counts_required_checks_only(report: Report) -> None:
    required = [c for c in report.to_dict()["checks"] if c["required"]]
    assert sum(c["score"] for c in required) == report.score
    assert sum(c["max_score"] for c in required) == report.max_score
    assert not report.all_passed


def test_json_round_trips(report: Report) -> None:
    again = Report.from_dict(json.loads(report.to_json()))
    assert again.to_dict() == report.to_dict()


def test_junit_has_one_testcase_per_check_with_the_right_element(report: Report, tmp_path: Path) -> None:
    root = ET.parse(write_junit(report, tmp_path / "junit.xml")).getroot()
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert list(cases) == [c.id for c in report.checks]
    assert cases["silver.dedup"].find("failure") is not None
    assert "238 duplicates" in cases["silver.dedup"].find("failure").get("message")
    assert cases["silver.values"].find("skipped") is not None
    assert cases["gold.daily_sales.revenue"].find("error") is not None
    passed = cases["widgets.declared"]
    assert all(passed.find(tag) is None for tag in ("failure", "skipped", "error"))
    assert passed.get("classname") == "widgets"
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    required = suites["day07 check (required)"]
    assert (required.get("tests"), required.get("failures"), required.get("errors"), required.get("skipped")) == \
        ("5", "1", "1", "1")


def test_gradescope_results_shape(report: Report, tmp_path: Path) -> None:
    data = json.loads(write_gradescope(report, tmp_path / "results.json").read_text(encoding="utf-8"))
    assert data["score"] == report.score
    assert len(data["tests"]) == len(report.checks)
    for test in data["tests"]:
        assert set(test) == {"name", "score", "max_score", "status", "output", "visibility"}
        assert test["status"] in ("passed", "failed")
    assert sum(t["score"] for t in data["tests"]) == report.score  # stretch is listed, never counted
    stretch = [t for t in data["tests"] if "stretch" in t["name"]]
    assert stretch and all(t["max_score"] == 0 and t["score"] == 0 for t in stretch)
    dedup = next(t for t in data["tests"] if t["name"].startswith("silver.dedup"))
    assert dedup["status"] == "failed" and "Hint:" in dedup["output"]
    assert to_gradescope(report) == data


def test_console_summary_shows_score_checks_first_failures_and_run_folder(report: Report) -> None:
    console = Console(record=True, width=140, color_system=None)
    render_console(report, console)
    text = console.export_text()
    assert "Score 7/15" in text and "stretch 2/5" in text
    for check in report.checks:
        assert check.id in text
    assert "silver.dedup failed" in text and "dropDuplicates" in text  # expanded with its hint
    assert "gold.daily_sales.revenue error" in text
    assert "silver.values skipped" not in text  # skipped checks are not expanded
    assert report.run_folder in text and "seed 4711" in text


def test_junit_escapes_what_messages_quote(report: Report) -> None:
    report.checks[1].message = "kept 3 rows <price> & 'quotes' \"here\""
    root = ET.fromstring(to_junit(report).split("\n", 1)[1])
    failure = next(c for c in root.iter("testcase") if c.get("name") == "silver.dedup").find("failure")
    assert failure.get("message") == report.checks[1].message
