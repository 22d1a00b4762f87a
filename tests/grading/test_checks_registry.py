"""The checks catalogue: points, groups, prerequisites, and how a catalogue runs (skips, errors)."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkers.config import PROJECT_ROOT
from checkers.grading.checks import GROUPS, Evidence, JobEvidence, PipelineRun, catalogue, max_score, run_checks
from checkers.grading.checks.registry import (
    DOCS_PAGES,
    CheckSpec,
    Outcome,
    execution_order,
    failed,
    failed_alone,
    passed,
    skipped,
)
from checkers.jobs.project import Submission


def test_required_checks_are_worth_100_points_and_stretch_is_extra() -> None:
    specs = catalogue()
    assert max_score(specs) == 100
    assert sum(s.points for s in specs if s.group == "stretch") > 0
    assert all(s.points > 0 for s in specs)


def test_the_job_and_its_runs_weigh_at_least_as_much_as_any_one_layer() -> None:
    """Orchestration is the day's topic (docs/contract.md says so): job + run >= the heaviest layer."""
    points = {group: sum(s.points for s in catalogue() if s.group == group) for group in GROUPS}
    layers = ("widgets", "bronze", "silver", "gold")
    assert points["job"] + points["run"] >= max(points[g] for g in layers), points


def test_every_contract_group_has_checks_and_ids_are_unique() -> None:
    specs = catalogue()
    assert [g for g in GROUPS if any(s.group == g for s in specs)] == list(GROUPS)
    ids = [s.id for s in specs]
    assert len(ids) == len(set(ids))
    assert all(s.id.startswith(f"{s.group}.") for s in specs)
    assert [s.group for s in specs] == sorted((s.group for s in specs), key=GROUPS.index)


def test_hints_link_a_docs_page_the_site_publishes() -> None:
    nav = (PROJECT_ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for s in catalogue():
        assert s.docs in DOCS_PAGES and s.docs in nav, s.id
        assert s.title and s.hint and s.docs_url.endswith(s.docs)


def test_prerequisites_exist_and_come_first_when_run() -> None:
    order = [s.id for s in execution_order(catalogue())]
    for s in catalogue():
        for needed in s.requires:
            assert order.index(needed) < order.index(s.id), (needed, s.id)


def test_the_docs_generator_renders_this_catalogue() -> None:
    from checkers.authoring.checks_page import checks_reference, grader_checks

    rows = grader_checks()
    assert rows is not None and [r.id for r in rows] == [s.id for s in catalogue()]
    page = checks_reference(solutions=PROJECT_ROOT / "solutions")
    assert "silver.dedup" in page and "100 points" in page


# --------------------------------------------------------------------------------------------- running


def _ev() -> Evidence:
    return Evidence(submission=Submission(folder=Path("/x"), notebooks={}), schema="s", source_path=Path("/x.csv"),
                    seed=1, job=JobEvidence(file=None), run=PipelineRun(mode="none"))


def _spec(check_id: str, outcome: Outcome | Exception, requires: tuple[str, ...] = (), points: float = 1) -> CheckSpec:
    def func(_ev: Evidence) -> Outcome:
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return CheckSpec(id=check_id, group=check_id.split(".")[0], points=points, title=f"title of {check_id}",
                     hint="do this", docs="silver.md", requires=requires, func=func)


def test_a_failed_prerequisite_skips_its_dependents_naming_the_root_cause() -> None:
    specs = [_spec("silver.c", passed("fine"), requires=("silver.b",)),  # listed first, runs last
             _spec("silver.a", failed("a is wrong")),
             _spec("silver.b", passed("fine"), requires=("silver.a",)),
             _spec("silver.d", passed("independent"))]
    results = {r.id: r for r in run_checks(_ev(), specs=specs)}
    assert [r.id for r in run_checks(_ev(), specs=specs)] == ["silver.c", "silver.a", "silver.b", "silver.d"]
    assert results["silver.a"].status == "failed" and results["silver.a"].score == 0
    for dependent in ("silver.b", "silver.c"):
        assert results[dependent].status == "skipped"
        assert "needs silver.a (title of silver.a), which failed" in results[dependent].message
    assert results["silver.d"].status == "passed" and results["silver.d"].score == 1


def test_a_failure_that_does_not_gate_lets_its_dependents_run() -> None:
    """An extra column fails the columns check, and the rows are still judged: one mistake, marked down once."""
    specs = [_spec("silver.a", failed_alone("extra column x")), _spec("silver.b", passed("rows fine"), ("silver.a",)),
             _spec("silver.c", failed("a rule is wrong"), ("silver.a",)), _spec("silver.d", passed("x"), ("silver.c",))]
    results = {r.id: r for r in run_checks(_ev(), specs=specs)}
    assert [(r.id, r.status) for r in results.values()] == [
        ("silver.a", "failed"), ("silver.b", "passed"), ("silver.c", "failed"), ("silver.d", "skipped")]
    assert results["silver.a"].score == 0 and results["silver.b"].score == 1


def test_a_skipped_check_passes_its_reason_on() -> None:
    specs = [_spec("gold.a", skipped("gold did not run: silver failed")), _spec("gold.b", passed("x"), ("gold.a",))]
    results = {r.id: r for r in run_checks(_ev(), specs=specs)}
    assert results["gold.b"].message == "needs gold.a, which was skipped: gold did not run: silver failed"


def test_a_crashing_check_is_an_error_and_the_others_still_run() -> None:
    specs = [_spec("bronze.a", ZeroDivisionError("boom")), _spec("bronze.b", passed("ok"))]
    results = {r.id: r for r in run_checks(_ev(), specs=specs)}
    assert results["bronze.a"].status == "error"
    assert "ZeroDivisionError: boom" in results["bronze.a"].message and "grader" in results["bronze.a"].hint
    assert results["bronze.b"].status == "passed"


def test_hints_of_failed_checks_end_with_the_docs_link() -> None:
    results = run_checks(_ev(), specs=[_spec("silver.a", failed("wrong")), _spec("silver.b", passed("ok"))])
    assert results[0].hint == "do this See docs/silver.md"
    assert results[1].hint == "Docs: docs/silver.md"


def test_a_prerequisite_cycle_is_refused() -> None:
    with pytest.raises(ValueError, match="cycle"):
        execution_order([_spec("job.a", passed("x"), ("job.b",)), _spec("job.b", passed("x"), ("job.a",))])


def test_the_catalogue_order_does_not_depend_on_which_check_module_was_imported_first() -> None:
    """run.py declares stretch checks too: a fresh process that imports it before the others lists the same order
    (the rubric on the contract page is written from it)."""
    import subprocess
    import sys

    code = ("import checkers.grading.checks.run\nfrom checkers.grading.checks import catalogue\n"
            "print(' '.join(s.id for s in catalogue()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT)
    assert out.stdout.split() == [s.id for s in catalogue()]
