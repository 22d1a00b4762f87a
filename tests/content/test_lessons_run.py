"""The lessons as a learner gets them: each runs up to its first exercise, and each exercise, once its solution
is pasted in, gets past it with its feedback cell all green.

One walk-through run per notebook keeps this affordable: every exercise cell is run as shipped (it must raise the
NotImplementedError naming that exercise; the cell is tagged ``raises-exception`` so the run goes on), then again
with the solution pasted in, then its feedback cell, as a learner working top to bottom would. Wrong answers and what
their feedback says are in tests/feedback/test_agreement.py (feedback and grader agree on each).
"""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat import NotebookNode

from checkers.jobs.project import BUNDLE_DIR
from checkers.notebooks.execute import execute_notebook
from tests.content.helpers import (
    BAD,
    CANNOT,
    CELL_TIMEOUT,
    GOOD,
    LESSONS,
    NOT_DONE,
    SOLUTIONS,
    PipelineRun,
    job_parameters,
    printed,
)

pytestmark = [pytest.mark.spark, pytest.mark.kernel]

STEMS = ["00_widgets", "01_bronze", "02_silver", "03_gold", "04_quality"]
SCHEMA = "content_lessons"
_BEGIN = re.compile(r"^\s*# BEGIN SOLUTION ")
_END = re.compile(r"^\s*# END SOLUTION\s*$")


@pytest.fixture(scope="module")
def lesson_schema(spark: Any, sample_run: PipelineRun) -> str:
    """Upstream tables for the silver and gold lessons, copied from the solutions' sample run."""
    assert all(r.ok for r in sample_run.results.values())
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    for table in ("bronze_events", "silver_events"):
        spark.table(f"{sample_run.schema}.{table}").write.mode("overwrite").saveAsTable(f"{SCHEMA}.{table}")
    return SCHEMA


def _parameters(stem: str, schema: str) -> dict[str, str]:
    if stem == "00_widgets":
        return {}
    return {**job_parameters(), "schema": schema}


def _exercise(cell: NotebookNode) -> str | None:
    return cell.get("metadata", {}).get("day07", {}).get("exercise")


def _is_check(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and "check" in cell.metadata.get("tags", [])


def _region_body(solution_source: str) -> list[str]:
    lines = solution_source.split("\n")
    begin = next(i for i, line in enumerate(lines) if _BEGIN.match(line))
    end = next(i for i, line in enumerate(lines) if _END.match(line))
    return lines[begin + 1:end]


def paste(lesson_source: str, solution_source: str, exercise: str) -> str:
    """What a learner does: replace the TODO block (TODO comment through the raise) with the solution code."""
    lines = lesson_source.split("\n")
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(f"# TODO {exercise}:"))
    stop = next(i for i in range(start, len(lines)) if lines[i].strip().startswith("raise NotImplementedError("))
    return "\n".join(lines[:start] + _region_body(solution_source) + lines[stop + 1:])


def _walkthrough(stem: str) -> tuple[NotebookNode, list[str]]:
    lesson = nbformat.read(str(LESSONS / f"{stem}.ipynb"), as_version=4)
    solution = {c.id: c for c in nbformat.read(str(SOLUTIONS / f"{stem}.ipynb"), as_version=4).cells}
    cells: list[NotebookNode] = []
    exercises: list[str] = []
    for index, cell in enumerate(lesson.cells):
        exercise = _exercise(cell)
        if exercise is None:
            cells.append(cell)
            continue
        exercises.append(exercise)
        shipped = copy.deepcopy(cell)
        shipped.metadata["tags"] = [*shipped.metadata.get("tags", []), "raises-exception"]
        pasted = copy.deepcopy(cell)
        pasted.id = f"{cell.id}-pasted"
        pasted.source = paste(cell.source, solution[cell.id].source, exercise)
        check = next((c for c in lesson.cells[index + 1:] if _is_check(c)), None)
        early = []
        if check is not None:  # the feedback cell run before the exercise is done: it must say so, not raise
            early = [copy.deepcopy(check)]
            early[0].id = f"{check.id}-early"
            early[0].metadata["day07"] = {"early_check": exercise}
        cells += [shipped, *early, pasted]
    lesson.cells = cells
    return lesson, exercises


@pytest.mark.parametrize("stem", STEMS)
def test_lesson_runs_up_to_its_first_exercise(stem: str, lesson_schema: str, notebook_env: dict[str, str],
                                              tmp_path: Path) -> None:
    nb = nbformat.read(str(LESSONS / f"{stem}.ipynb"), as_version=4)
    first = next(i for i, c in enumerate(nb.cells) if _exercise(c))
    result = execute_notebook(path=LESSONS / f"{stem}.ipynb", parameters=_parameters(stem, lesson_schema),
                              in_job=True, env=notebook_env, output_path=tmp_path / f"{stem}.ipynb",
                              cell_timeout=CELL_TIMEOUT)
    assert result.status == "failed", result.message
    assert result.failure is not None
    assert (result.failure.index, result.failure.ename) == (first, "NotImplementedError"), result.message
    assert result.failure.evalue.startswith(f"Exercise {_exercise(nb.cells[first])}:")


@pytest.mark.parametrize("stem", STEMS)
def test_each_pasted_solution_gets_past_its_exercise(stem: str, lesson_schema: str, notebook_env: dict[str, str],
                                                     tmp_path: Path) -> None:
    nb, exercises = _walkthrough(stem)
    assert exercises, f"lesson {stem} has no exercise"
    path = tmp_path / f"{stem}.ipynb"
    nbformat.write(nb, str(path))
    # the check cells' code, next to the notebook
    shutil.copytree(LESSONS / BUNDLE_DIR, tmp_path / BUNDLE_DIR, ignore=shutil.ignore_patterns("__pycache__"))
    result = execute_notebook(path=path, parameters=_parameters(stem, lesson_schema), env=notebook_env,
                              output_path=tmp_path / "out" / f"{stem}.ipynb", cell_timeout=CELL_TIMEOUT)
    assert result.ok, result.message
    ran = nbformat.read(str(tmp_path / "out" / f"{stem}.ipynb"), as_version=4)
    for cell in ran.cells:
        exercise = _exercise(cell)
        if exercise and "raises-exception" in cell.metadata.get("tags", []):
            errors = [o for o in cell.outputs if o.get("output_type") == "error"]
            assert [e["ename"] for e in errors] == ["NotImplementedError"], exercise
            assert errors[0]["evalue"].startswith(f"Exercise {exercise}:")
        elif exercise:
            assert not [o for o in cell.outputs if o.get("output_type") == "error"], exercise
        if not _is_check(cell):
            continue
        text = printed(cell)
        assert not [o for o in cell.outputs if o.get("output_type") == "error"], cell.id
        if cell.metadata.get("day07", {}).get("early_check"):
            assert BAD in text or NOT_DONE in text, f"[{cell.id}] says nothing is missing: {text}"
        else:
            assert GOOD in text and not any(m in text for m in (BAD, NOT_DONE, CANNOT)), f"[{cell.id}] {text}"
