"""The screenshot drawings, on small real inputs: an executed notebook, job files, a run record; the widget bar's
capture from a real JupyterLab is run through the command."""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest

from checkers.authoring import chromium, frame, graph_drawing, notebook_drawing, screenshots, shot, timeline_drawing
from checkers.config import PROJECT_ROOT
from checkers.jobs.load import load_job
from checkers.jobs.record import RunRecord


def _record(docs_files: Path) -> RunRecord:
    return RunRecord.from_dict(json.loads((docs_files / "run_repaired.json").read_text(encoding="utf-8")))


# ------------------------------------------------------------------------------------------------ HTML


def test_every_drawing_says_it_is_the_kit_s_not_the_databricks_ui(docs_files: Path) -> None:
    nb = nbformat.read(str(docs_files / "executed_bronze.ipynb"), as_version=4)
    pages = [notebook_drawing.notebook_html(notebook=nb, name="01_bronze"),
             graph_drawing.job_graph_html(job=load_job(path=docs_files / "fanout_job.yml")),
             timeline_drawing.run_timeline_html(record=_record(docs_files))]
    assert all(html.escape(frame.KIT_LABEL) in page for page in pages)
    assert "<script" not in pages[0] and "http" not in pages[0].replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_the_docs_image_runs_the_solution_s_own_widget_cells() -> None:
    from checkers.authoring.lab import widget_cells

    declare, read = widget_cells(PROJECT_ROOT / "solutions" / "00_widgets.ipynb")
    assert 'dbutils.widgets.dropdown("layer"' in declare and "BEGIN SOLUTION" not in declare
    assert 'dbutils.widgets.get("layer")' in read and "print(" in read


def test_the_docs_run_uses_the_schema_the_docs_teach() -> None:
    assert screenshots.DOCS_SCHEMA == "day07"


@pytest.mark.parametrize(("rows", "max_rows", "note", "expected"), [
    (10, 5, "10 rows", "Showing 5 of 10 rows"),
    (100, 5, "Showing the first 100 rows.", "Showing 5 of the first 100 rows"),
    (7, 10, "7 rows", "7 rows"),
    (1, 5, "", "1 row"),
])
def test_a_preview_states_how_many_rows_it_shows(rows: int, max_rows: int, note: str, expected: str) -> None:
    assert notebook_drawing.rows_note(rows, max_rows, note) == expected


def test_notebook_picks_the_cells_that_show_a_table(docs_files: Path) -> None:
    nb = nbformat.read(str(docs_files / "executed_bronze.ipynb"), as_version=4)
    chosen = notebook_drawing.key_cells(nb)
    assert chosen and all(nb.cells[i].cell_type == "code" for i in chosen)
    assert all("check" not in nb.cells[i].metadata.get("tags", []) for i in chosen)
    page = notebook_drawing.notebook_html(notebook=nb, name="01_bronze", state="SUCCESS", duration=12.0)
    assert "BEGIN SOLUTION" not in page and "END SOLUTION" not in page
    assert page.count('<td class="n">') == 5  # the preview's five rows, numbered
    assert "Succeeded" in page and "ran in 12.0 s" in page
    assert ">None<" not in page  # pandas' None is shown as Databricks shows it: null


def test_tagged_cells_win_over_table_cells(docs_files: Path) -> None:
    nb = nbformat.read(str(docs_files / "executed_bronze.ipynb"), as_version=4)
    last_code = max(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    nb.cells[last_code].metadata.setdefault("tags", []).append(notebook_drawing.SCREENSHOT_TAG)
    assert notebook_drawing.key_cells(nb) == [last_code]


def test_table_preview_is_cut_to_max_rows(docs_files: Path) -> None:
    nb = nbformat.read(str(docs_files / "executed_bronze.ipynb"), as_version=4)
    page = notebook_drawing.notebook_html(notebook=nb, name="01_bronze", max_rows=2)
    assert page.count('<td class="n">') == 2 and "Showing 2 of 5 rows" in page


def test_job_graph_places_a_fan_out_in_columns(docs_files: Path) -> None:
    nodes, edges = graph_drawing.job_graph(load_job(path=docs_files / "fanout_job.yml"))
    place = {n.key: (n.column, n.row) for n in nodes}
    assert place["bronze"][0] == 0 and place["summary"][0] == 2
    assert place["report_a"][0] == place["report_b"][0] == 1 and place["report_a"][1] != place["report_b"][1]
    assert {(e.upstream, e.downstream) for e in edges} == {("bronze", "report_a"), ("bronze", "report_b"),
                                                          ("report_a", "summary"), ("report_b", "summary")}
    assert next(n for n in nodes if n.key == "bronze").retries == 2


def test_job_graph_of_the_solution_shows_the_condition_branch() -> None:
    job = load_job(path=PROJECT_ROOT / "solutions" / "job.yml")
    nodes, edges = graph_drawing.job_graph(job)
    conditions = [n for n in nodes if n.kind == "condition"]
    assert conditions and all(">" in n.detail or "=" in n.detail or "<" in n.detail for n in conditions)
    assert any(e.outcome == "true" for e in edges)
    page = graph_drawing.job_graph_html(job=job)
    assert "Every day at 02:00" in page and ">true<" in page


def test_job_graph_refuses_a_cycle(files: Path) -> None:
    with pytest.raises(shot.ScreenshotError) as info:
        graph_drawing.job_graph(load_job(path=files / "jobs" / "bad_cycle.yml"))
    assert "cycle" in info.value.message


def test_timeline_draws_every_attempt_of_a_repaired_run(docs_files: Path) -> None:
    record = _record(docs_files)
    page = timeline_drawing.run_timeline_html(record=record)
    attempts = sum(len(t.attempts) for t in record.tasks)
    assert page.count('class="tl-bar"') == attempts
    assert "3 attempts" in page  # bronze: failed, retried, then repaired
    assert f"Run {record.run_id}" in page and "Succeeded" in page


def test_timeline_of_an_unfinished_run_is_refused(docs_files: Path) -> None:
    record = _record(docs_files)
    record.end_time = None
    for task in record.tasks:
        for attempt in task.attempts:
            attempt.end_time = None
    record.start_time = None
    for task in record.tasks:
        for attempt in task.attempts:
            attempt.start_time = None
    with pytest.raises(shot.ScreenshotError):
        timeline_drawing.run_timeline_html(record=record)


def test_png_size_rejects_a_file_that_is_not_a_png(tmp_path: Path) -> None:
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"GIF89a not a png at all")
    with pytest.raises(shot.ScreenshotError):
        shot.png_size(fake)


def test_unknown_image_name_is_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(shot.ScreenshotError) as info:
        screenshots.generate_screenshots(root=PROJECT_ROOT, out_dir=tmp_path, only=["nope.png"])
    assert "nope.png" in info.value.message and "widgets.png" in (info.value.hint or "")
    assert not list(tmp_path.iterdir())


def test_missing_chromium_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DAY07_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setattr(chromium, "DEFAULT_CHROMIUM", str(tmp_path / "none"))
    monkeypatch.setattr(chromium.shutil, "which", lambda _name: None)
    with pytest.raises(shot.ScreenshotError) as info:
        chromium.chromium_path()
    assert "DAY07_CHROMIUM" in info.value.message


# ------------------------------------------------------------------------------------------------ capture


@pytest.mark.browser
def test_each_drawing_is_captured_as_a_real_image(cam: Any, docs_files: Path, tmp_path: Path) -> None:
    nb = nbformat.read(str(docs_files / "executed_bronze.ipynb"), as_version=4)
    pages = {
        "layer.png": notebook_drawing.notebook_html(notebook=nb, name="01_bronze"),
        "graph.png": graph_drawing.job_graph_html(job=load_job(path=docs_files / "fanout_job.yml")),
        "timeline.png": timeline_drawing.run_timeline_html(record=_record(docs_files)),
    }
    for name, page in pages.items():
        shot = cam.capture(page_html=page, out=tmp_path / name, source="test")
        assert shot.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert shot.width > 300 and shot.height > 80, f"{name} is {shot.width}×{shot.height}"
        assert shot.path.stat().st_size > 5_000, f"{name} looks blank"
        assert shot.blocked == (), f"{name} tried to load something from another host"
    wide = cam.capture(page_html=pages["graph.png"], out=tmp_path / "graph.png", source="test")
    assert wide.width > 3 * 210, "four columns of tasks side by side"


@pytest.mark.browser
def test_a_page_cannot_reach_the_network(cam: Any, tmp_path: Path) -> None:
    page = frame.framed_page('<p>offline</p><img id="remote" src="https://example.com/x.png">')
    shot = cam.capture(page_html=page, out=tmp_path / "offline.png", source="test")
    assert shot.blocked == ("https://example.com/x.png",)  # refused, not fetched and not waited for
    assert shot.width > 0


@pytest.mark.browser
@pytest.mark.kernel
def test_screenshots_command_captures_the_widget_bar_in_jupyterlab(cam: Any, tmp_path: Path) -> None:
    root = tmp_path / "kit"
    (root / "solutions").mkdir(parents=True)
    for name in ("00_widgets.ipynb", "job.yml", "01_bronze.ipynb", "02_silver.ipynb", "03_gold.ipynb",
                 "04_quality.ipynb"):
        shutil.copy(PROJECT_ROOT / "solutions" / name, root / "solutions" / name)
    out = tmp_path / "images"
    shots = screenshots.generate_screenshots(root=root, out_dir=out, only=["widgets.png", "job_workflow.png"],
                                             runs_dir=tmp_path / "runs", cam=cam)
    assert [s.path.name for s in shots] == ["widgets.png", "job_workflow.png"]
    assert "JupyterLab" in shots[0].source and "00_widgets" in shots[0].source and "job.yml" in shots[1].source
    assert shots[0].blocked == ()
    assert all(s.path.stat().st_size > 5_000 for s in shots)
    assert not (tmp_path / "runs").exists(), "no job run is needed for these two images"
