"""``day07 lessons build``: lessons come from the solutions, in sync, byte-stable, with clear exercise cells."""

from __future__ import annotations

import argparse
import ast
import hashlib
import re
import shutil
import zoneinfo
from datetime import datetime, timezone
from pathlib import Path

import nbformat
import pytest
import yaml
from croniter import croniter

from checkers.authoring.lessons import AuthoringError, build_lessons, find_exercises
from checkers.cli import lessons_cmd
from checkers.jobs.load import load_job
from checkers.notebooks.formats import parse_source
from tests.content.helpers import LESSONS, SOLUTIONS

NOTEBOOKS = ["00_widgets", "01_bronze", "02_silver", "03_gold"]
#: The exercises the course promises: widgets, bronze ingest, each silver rule, gold in steps, the job.
COURSE = {
    "00_widgets.ipynb": ["widgets.declare", "widgets.read"],
    "01_bronze.ipynb": ["bronze.ingest", "bronze.task_value"],
    "02_silver.ipynb": ["silver.parse_time", "silver.not_null", "silver.event_type", "silver.price", "silver.dedup",
                        "silver.fill_unknown", "silver.derive"],
    "03_gold.ipynb": ["gold.funnel", "gold.revenue", "gold.conversion", "gold.daily_sales"],
    "04_quality.ipynb": ["quality.count", "quality.gate"],
    "job.yml": ["job.parameters", "job.schedule", "job.email", "job.retries", "job.condition", "job.dependencies",
                "job.fan_out"],
}
DOCS_PAGES = {"widgets", "bronze", "silver", "gold", "job-workflow", "dependencies", "scheduling", "contract",
              "orchestration"}


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def _solutions_from(tmp_path: Path, *names: str, files: Path) -> Path:
    folder = tmp_path / "solutions"
    folder.mkdir()
    for name in names:
        shutil.copy(files / "content" / name, folder / name)
    return folder


# ------------------------------------------------------------------------------------------------- sync

def test_lessons_folder_is_in_sync_with_solutions(tmp_path: Path) -> None:
    result = build_lessons(solutions=SOLUTIONS, lessons=LESSONS, check=True)
    assert result.up_to_date, f"stale: {result.stale}, extra: {result.extra} — run `day07 lessons build`"
    fresh = tmp_path / "lessons"
    build_lessons(solutions=SOLUTIONS, lessons=fresh)
    assert _digest(fresh) == _digest(LESSONS)


def test_build_is_idempotent_to_the_byte(tmp_path: Path) -> None:
    lessons = tmp_path / "lessons"
    first = build_lessons(solutions=SOLUTIONS, lessons=lessons)
    assert sorted(p.name for p in first.written if p.parent == lessons) == sorted(
        p.name for p in SOLUTIONS.iterdir() if p.is_file())
    assert {p.relative_to(lessons) for p in first.written} == set(map(Path, _digest(lessons)))
    before = _digest(lessons)
    second = build_lessons(solutions=SOLUTIONS, lessons=lessons)
    assert second.written == [] and set(first.written) <= set(second.unchanged)
    assert _digest(lessons) == before


def test_check_mode_reports_what_is_out_of_date_and_writes_nothing(tmp_path: Path) -> None:
    lessons = tmp_path / "lessons"
    build_lessons(solutions=SOLUTIONS, lessons=lessons)
    (lessons / "02_silver.ipynb").write_text((lessons / "02_silver.ipynb").read_text() + " ")
    (lessons / "job.yml").unlink()
    (lessons / "99_old.ipynb").write_text("{}")
    before = _digest(lessons)
    result = build_lessons(solutions=SOLUTIONS, lessons=lessons, check=True)
    assert sorted(p.name for p in result.stale) == ["02_silver.ipynb", "job.yml"]
    assert [p.name for p in result.extra] == ["99_old.ipynb"]
    assert not result.up_to_date and result.written == []
    assert _digest(lessons) == before


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="day07")
    lessons_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    return int(args.func(args))


def test_cli_build_and_check_exit_codes(tmp_path: Path) -> None:
    lessons = tmp_path / "lessons"
    folders = ["--solutions", str(SOLUTIONS), "--lessons", str(lessons)]
    assert _cli("lessons", "build", "--check", *folders) == 1  # nothing built yet
    assert not lessons.exists()
    assert _cli("lessons", "build", *folders) == 0
    assert _cli("lessons", "build", "--check", *folders) == 0
    (lessons / "01_bronze.ipynb").unlink()
    assert _cli("lessons", "build", "--check", *folders) == 1
    assert _cli("lessons", "list", "--solutions", str(SOLUTIONS)) == 0
    with pytest.raises(AuthoringError, match="does not exist"):
        _cli("lessons", "build", "--solutions", str(tmp_path / "nowhere"), "--lessons", str(lessons))


# --------------------------------------------------------------------------------------------- content

def test_exercises_cover_the_course() -> None:
    found: dict[str, list[str]] = {}
    for exercise in find_exercises(solutions=SOLUTIONS):
        found.setdefault(exercise.file, []).append(exercise.id)
        assert re.fullmatch(r"\.\./docs/[a-z-]+\.md", exercise.docs) and exercise.docs[8:-3] in DOCS_PAGES
    assert found == COURSE


def _raise_message(source: str) -> str:
    """The message of the cell's ``raise NotImplementedError("...")``; fails when there is none."""
    raises = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Raise)]
    assert len(raises) == 1
    call = raises[0].exc
    assert isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
    assert call.func.id == "NotImplementedError"
    assert isinstance(call.args[0], ast.Constant)
    return str(call.args[0].value)


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_lesson_cells_are_exercises_with_the_solution_removed(stem: str) -> None:
    lesson = nbformat.read(str(LESSONS / f"{stem}.ipynb"), as_version=4)
    solution = nbformat.read(str(SOLUTIONS / f"{stem}.ipynb"), as_version=4)
    assert [c.id for c in lesson.cells] == [c.id for c in solution.cells]
    for mine, theirs in zip(lesson.cells, solution.cells, strict=True):
        assert "BEGIN SOLUTION" not in mine.source and "END SOLUTION" not in mine.source
        if mine.cell_type == "code":
            assert mine.outputs == [] and mine.execution_count is None
        if "solution" not in theirs.metadata.get("tags", []):
            assert mine.source == theirs.source and mine.metadata == theirs.metadata
            continue
        exercise = mine.metadata["day07"]["exercise"]
        assert mine.metadata["tags"] == ["exercise"]
        assert f"# TODO {exercise}:" in mine.source
        message = _raise_message(mine.source)
        assert message.startswith(f"Exercise {exercise}: ") and "See ../docs/" in message
        lines = theirs.source.split("\n")
        begin = next(i for i, line in enumerate(lines) if "# BEGIN SOLUTION" in line)
        end = next(i for i, line in enumerate(lines) if "# END SOLUTION" in line)
        hidden = [line for line in lines[begin + 1:end] if line.strip() and not line.strip().startswith("#")]
        assert hidden and not [line for line in hidden if line in mine.source.split("\n")], exercise


def test_check_cells_follow_every_exercise() -> None:
    for stem in NOTEBOOKS:
        cells = nbformat.read(str(SOLUTIONS / f"{stem}.ipynb"), as_version=4).cells
        for index, cell in enumerate(cells):
            if "solution" in cell.metadata.get("tags", []):
                following = next(c for c in cells[index + 1:] if c.cell_type == "code")
                assert "check" in following.metadata.get("tags", []), f"{stem}: no check after {cell.id}"
                assert "feedback(" in following.source


def test_learner_text_links_the_docs_pages_consistently() -> None:
    for stem in NOTEBOOKS:
        nb = nbformat.read(str(SOLUTIONS / f"{stem}.ipynb"), as_version=4)
        links = [link for c in nb.cells if c.cell_type == "markdown" for link in re.findall(r"\]\(([^)]+)\)", c.source)]
        docs = [link for link in links if "docs" in link]
        assert docs, f"{stem} links no docs page"
        for link in docs:
            assert re.fullmatch(r"\.\./docs/[a-z-]+\.md", link) and link[8:-3] in DOCS_PAGES, link
        assert nb.cells[-1].cell_type == "markdown" and nb.cells[-1].source.startswith("## What you built")


def test_notebooks_import_nothing_local_only() -> None:
    """Databricks has json, os, sys and pyspark; day07_checks ships next to the notebooks, and its import is guarded
    so that a notebook copied alone still runs (its check cells then print one line)."""
    for stem in NOTEBOOKS:
        nb = nbformat.read(str(SOLUTIONS / f"{stem}.ipynb"), as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code" and not cell.source.startswith("%"):
                tree = ast.parse(cell.source)
                guarded = {id(n) for t in ast.walk(tree) if isinstance(t, ast.Try)
                           and any(isinstance(h.type, ast.Name) and h.type.id == "ModuleNotFoundError"
                                   for h in t.handlers) for n in t.body}
                for node in ast.walk(tree):
                    if isinstance(node, ast.Import | ast.ImportFrom):
                        names = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                        if names == ["day07_checks"]:
                            assert id(node) in guarded, f"{stem}: import day07_checks outside try/except"
                            continue
                        assert all(n and n.split(".")[0] in ("json", "os", "sys", "pyspark") for n in names), (
                            stem, names)


# -------------------------------------------------------------------------------------------------- job

def _job(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["resources"]["jobs"]["day07_pipeline"]


def test_solution_job_meets_every_required_and_stretch_point() -> None:
    loaded = load_job(path=SOLUTIONS / "job.yml")
    assert {k: p.name for k, p in loaded.notebooks.items()} == {
        "bronze": "01_bronze.ipynb", "silver": "02_silver.ipynb", "quality": "04_quality.ipynb",
        "gold": "03_gold.ipynb"}
    job = _job(SOLUTIONS / "job.yml")
    tasks = {t["task_key"]: t for t in job["tasks"]}
    assert tasks["bronze_has_rows"]["depends_on"] == [{"task_key": "bronze"}]
    assert tasks["bronze_has_rows"]["condition_task"] == {
        "op": "GREATER_THAN", "left": "{{tasks.bronze.values.bronze_rows}}", "right": "0"}
    assert tasks["silver"]["depends_on"] == [{"task_key": "bronze_has_rows", "outcome": "true"}]
    assert tasks["quality"]["depends_on"] == [{"task_key": "bronze"}]  # beside silver: a fan-out
    assert tasks["gold"]["depends_on"] == [{"task_key": "silver"}, {"task_key": "quality"}]  # and a fan-in
    assert "depends_on" not in tasks["bronze"]
    assert tasks["bronze"]["max_retries"] >= 1 and tasks["bronze"]["min_retry_interval_millis"] > 0
    assert job["email_notifications"]["on_failure"]
    assert {p["name"]: p["default"] for p in job["parameters"]} == {
        "source_path": "/Volumes/workspace/ecommerce/ecommerce_data/2019-Oct.csv", "schema": "day07",
        "max_bad_pct": "5"}
    schedule = job["schedule"]
    assert schedule["timezone_id"] in zoneinfo.available_timezones()
    seconds, minutes, hours, dom, month, dow = schedule["quartz_cron_expression"].split()
    assert "?" in (dom, dow)  # Quartz: exactly one of the two day fields is '?'
    unix = " ".join(f.replace("?", "*") for f in (minutes, hours, dom, month, dow, seconds))
    fires = croniter(unix, datetime(2024, 2, 27, 13, 5, tzinfo=timezone.utc))
    times = [fires.get_next(datetime) for _ in range(4)]
    assert [(t.hour, t.minute, t.second) for t in times] == [(2, 0, 0)] * 4
    assert [(b - a).days for a, b in zip(times, times[1:], strict=False)] == [1, 1, 1]


def test_lesson_job_still_loads_and_leaves_the_job_parts_to_do() -> None:
    """The retry, the failure e-mail, the condition and the quality task are the learner's to write, too."""
    job = _job(LESSONS / "job.yml")
    assert "parameters" not in job and "schedule" not in job and "email_notifications" not in job
    assert all("depends_on" not in t and "max_retries" not in t for t in job["tasks"])
    assert [t["task_key"] for t in job["tasks"]] == ["bronze", "silver", "gold"]
    text = (LESSONS / "job.yml").read_text(encoding="utf-8")
    for exercise in ("job.parameters", "job.schedule", "job.dependencies", "job.email", "job.retries",
                     "job.condition", "job.fan_out"):
        assert f"# TODO {exercise}:" in text
    assert load_job(path=LESSONS / "job.yml").notebooks.keys() == {"bronze", "silver", "gold"}


# -------------------------------------------------------------------------------------------- authoring

@pytest.mark.parametrize(("name", "message"), [
    ("unclosed_region.py", r"unclosed_region\.py, cell 2 .*line 1: BEGIN SOLUTION demo\.unclosed is never closed"),
    ("nested_regions.py", r"line 2: BEGIN SOLUTION inside the region opened on line 1"),
    ("marker_without_id.py", r"line 1: '# BEGIN SOLUTION' has no valid exercise id"),
    ("marker_without_prompt.py", r"line 1: exercise demo\.no_prompt has no prompt"),
    ("end_without_begin.py", r"line 2: END SOLUTION without a BEGIN SOLUTION"),
    ("misspelled_marker.py", r"line 1: '# BEGIN SOLUTIONS demo\.typo.*' looks like a marker but is not one"),
    ("two_regions_in_one_cell.py", r"2 solution regions in one cell"),
    ("same_exercise_twice.py", r"cell 2 .*exercise demo\.twice is already in cell 1"),
    ("empty_region.py", r"exercise demo\.empty has an empty region"),
    ("breaks_yaml.yml", r"breaks_yaml\.yml: the lesson version is not valid YAML"),
    ("plain_module.py", r"plain_module\.py: has solution markers, but only notebooks"),
])
def test_malformed_markers_are_reported_with_file_and_place(tmp_path: Path, files: Path, name: str,
                                                            message: str) -> None:
    solutions = _solutions_from(tmp_path, name, files=files)
    with pytest.raises(AuthoringError, match=message) as caught:
        build_lessons(solutions=solutions, lessons=tmp_path / "lessons")
    assert caught.value.message.startswith(name)
    assert not (tmp_path / "lessons" / name).exists()


def test_ipynb_solution_cells_and_tags_must_agree(tmp_path: Path) -> None:
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("# BEGIN SOLUTION demo.x: Set x.\nx = 1\n# END SOLUTION")]
    nb.cells[0].id = "x"
    nbformat.write(nb, str(solutions / "untagged.ipynb"))
    with pytest.raises(AuthoringError, match=r"untagged\.ipynb, cell 1 \(id x\): has a solution region but not "
                                             r"the tag 'solution'"):
        build_lessons(solutions=solutions, lessons=tmp_path / "lessons")
    nb.cells[0].source = "x = 1"
    nb.cells[0].metadata["tags"] = ["solution"]
    nbformat.write(nb, str(solutions / "untagged.ipynb"))
    with pytest.raises(AuthoringError, match="tagged 'solution' but has no BEGIN/END SOLUTION region"):
        build_lessons(solutions=solutions, lessons=tmp_path / "lessons")


def test_an_exercise_id_belongs_to_one_file(tmp_path: Path, files: Path) -> None:
    solutions = _solutions_from(tmp_path, "source_format_solution.py", files=files)
    shutil.copy(solutions / "source_format_solution.py", solutions / "copy.py")
    with pytest.raises(AuthoringError, match=r"Exercise demo\.total is in both copy\.py and source_format_solution"):
        build_lessons(solutions=solutions, lessons=tmp_path / "lessons")


def test_source_format_solution_gives_a_source_format_lesson_that_raises(tmp_path: Path, files: Path) -> None:
    solutions = _solutions_from(tmp_path, "source_format_solution.py", files=files)
    result = build_lessons(solutions=solutions, lessons=tmp_path / "lessons")
    assert [(e.id, e.file) for e in result.exercises] == [("demo.total", "source_format_solution.py")]
    text = (tmp_path / "lessons" / "source_format_solution.py").read_text(encoding="utf-8")
    nb = parse_source(text)
    assert nb.cells[0].cell_type == "markdown" and "source-format solution" in nb.cells[0].source
    namespace: dict = {}
    exec(compile(nb.cells[1].source, "lesson", "exec"), namespace)  # the function still defines (indentation kept)
    with pytest.raises(NotImplementedError, match=r"^Exercise demo\.total: Return the sum of values\. See "):
        namespace["total"]([1, 2])
    assert "    # TODO demo.total: Return the sum of values." in nb.cells[1].source
