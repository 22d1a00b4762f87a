"""`day07 start`: the learner's own copy of the lessons, never overwritten, and graded by default."""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from checkers import workspace
from checkers.config import PROJECT_ROOT

Day07 = Callable[..., tuple[int, str, str]]
LESSONS = PROJECT_ROOT / "lessons"


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _doc_links(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    text = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return [t for t in re.findall(r"\]\(([^)#\s]+)", text) if "docs/" in t]


@pytest.fixture(autouse=True)
def kernel_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """`day07 start` installs the kernel into this environment: here into a temporary prefix instead."""
    from checkers import kernelspec

    prefix = tmp_path / "env"
    monkeypatch.setattr(kernelspec, "environment_prefix", lambda: str(prefix))
    monkeypatch.setattr(kernelspec, "kernel_dirs", lambda: [prefix / "share" / "jupyter" / "kernels"])
    return prefix


@pytest.fixture()
def my_work(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The default folder, moved to a temporary place so the test never touches the kit's own my_work/."""
    folder = tmp_path / "kit" / "my_work"
    monkeypatch.setattr(workspace, "MY_WORK", folder)
    return folder


def test_start_copies_every_lesson_and_the_job_and_leaves_lessons_alone(day07: Day07, my_work: Path) -> None:
    before = _digests(LESSONS)
    code, out, _ = day07("start")
    assert code == 0
    assert sorted(p.name for p in my_work.iterdir() if p.is_file()) == sorted(before)
    assert _bundle(my_work) == _bundle(LESSONS) and _bundle(LESSONS)  # the check cells' code came along
    assert f"copied {my_work / 'day07_checks'}/" in out
    assert {"00_widgets.ipynb", "01_bronze.ipynb", "02_silver.ipynb", "03_gold.ipynb", "job.yml"} <= set(before)
    assert _digests(LESSONS) == before
    assert (my_work / "job.yml").read_bytes() == (LESSONS / "job.yml").read_bytes()
    for name in before:
        assert f"copied  {my_work / name}" in out
    assert "day07 check`" in out and "uv run jupyter lab" in out


def test_links_to_the_docs_still_reach_the_pages_from_another_folder(day07: Day07, tmp_path: Path) -> None:
    folder = tmp_path / "deep" / "er" / "work"
    assert day07("start", str(folder))[0] == 0
    links = _doc_links(folder / "02_silver.ipynb")
    assert links and all(not link.startswith("../docs/") for link in links)
    assert all((folder / link).resolve().is_file() for link in links), links
    assert f"day07 check {folder}" in day07("start", str(folder))[1]


def test_a_second_start_keeps_every_file_and_says_which(day07: Day07, my_work: Path) -> None:
    assert day07("start")[0] == 0
    mine = my_work / "02_silver.ipynb"
    mine.write_text(mine.read_text(encoding="utf-8").replace("TODO", "DONE"), encoding="utf-8")
    edited = mine.read_bytes()
    (my_work / "job.yml").unlink()  # deleted by the learner: copied again
    code, out, _ = day07("start")
    assert code == 0
    assert mine.read_bytes() == edited
    assert f"kept    {mine} (already there: your version stays)" in out
    assert f"copied  {my_work / 'job.yml'}" in out
    assert out.count("kept ") == len(_digests(LESSONS)) - 1


def _bundle(folder: Path) -> dict[str, bytes]:
    root = folder / "day07_checks"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.py"))
            if "__pycache__" not in p.parts}


def test_the_check_cells_code_is_the_kits_and_kept_up_to_date(day07: Day07, my_work: Path) -> None:
    assert day07("start")[0] == 0
    steps = my_work / "day07_checks" / "steps.py"
    steps.write_text("# an old copy\n", encoding="utf-8")
    (my_work / "day07_checks" / "gone.py").write_text("", encoding="utf-8")
    code, out, _ = day07("start")
    assert code == 0 and f"updated {my_work / 'day07_checks'}/" in out
    assert _bundle(my_work) == _bundle(LESSONS)
    assert "day07_checks" not in day07("start")[1]  # up to date: nothing to say


def test_check_grades_my_work_once_it_exists(day07: Day07, my_work: Path) -> None:
    from checkers.cli.check_cmd import submission_folder

    args = argparse.Namespace(folder=None, solutions=False)
    assert submission_folder(args) == LESSONS
    assert day07("start")[0] == 0
    assert submission_folder(args) == my_work
    assert submission_folder(argparse.Namespace(folder=LESSONS, solutions=False)) == LESSONS


def test_a_file_where_the_folder_should_be_is_a_clear_error(day07: Day07, tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    code, _, err = day07("start", str(taken))
    assert code == 2 and f"{taken} exists and is not a folder" in err and "Traceback" not in err


def test_missing_lessons_say_how_to_build_them(tmp_path: Path) -> None:
    with pytest.raises(workspace.StartError) as err:
        workspace.start_folder(folder=tmp_path / "work", lessons=tmp_path / "no-lessons")
    assert "no-lessons" in err.value.message and "day07 lessons build" in (err.value.hint or "")
    assert not (tmp_path / "work").exists()


def test_my_work_is_ignored_by_git() -> None:
    lines = (PROJECT_ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "my_work/" in lines
