"""Which cells a grading may skip: only the kit's own self-check cells, unchanged, whose names nothing uses."""

from __future__ import annotations

import nbformat
import pytest

from checkers.config import PROJECT_ROOT
from checkers.notebooks.formats import read_notebook
from checkers.notebooks.selfcheck import CHECK_TAG, kit_check_sources, skippable_cells

LESSON = PROJECT_ROOT / "lessons" / "01_bronze.ipynb"


def code(source: str, *, tags: list[str] | None = None) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    if tags:
        cell.metadata["tags"] = tags
    return cell


def check_cells(nb: nbformat.NotebookNode) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if CHECK_TAG in c.get("metadata", {}).get("tags", [])]


def test_the_lessons_self_check_cells_are_skippable_and_nothing_else() -> None:
    nb = read_notebook(LESSON)
    checks = check_cells(nb)
    assert len(checks) >= 2
    assert skippable_cells(nb.cells) == set(checks)


def test_kit_check_cells_are_one_call_that_defines_no_name() -> None:
    """So no other cell can depend on one, and the grader may always skip them unchanged."""
    from checkers.notebooks.selfcheck import _defined_names

    known = kit_check_sources()
    assert known
    for source in known:
        assert _defined_names(source) == set(), source
        assert source.startswith("feedback(") and source.count("\n") == 0, source


def test_kit_sources_come_from_the_solutions_and_match_every_lesson() -> None:
    known = kit_check_sources()
    for lesson in sorted((PROJECT_ROOT / "lessons").glob("*.ipynb")):
        nb = read_notebook(lesson)
        assert {" ".join(nb.cells[i].source.split()) for i in check_cells(nb)} <= {" ".join(k.split()) for k in known}


def test_an_edited_self_check_cell_runs() -> None:
    nb = read_notebook(LESSON)
    first, *others = check_cells(nb)
    nb.cells[first].source += "\nprint('my own extra check')"
    assert skippable_cells(nb.cells) == set(others)


def test_whitespace_at_line_ends_does_not_count_as_an_edit() -> None:
    nb = read_notebook(LESSON)
    checks = check_cells(nb)
    first = checks[0]
    nb.cells[first].source = "\n".join(line + "  " for line in nb.cells[first].source.splitlines()) + "\n\n"
    assert skippable_cells(nb.cells) == set(checks)


def test_a_self_check_cell_whose_names_another_cell_uses_runs() -> None:
    known = frozenset({"RAW_COLUMNS = ['a']\nfeedback('x')", "feedback('y')"})
    cells = [code("RAW_COLUMNS = ['a']\nfeedback('x')"), code("feedback('y')"), code("bronze.select(*RAW_COLUMNS)")]
    assert skippable_cells(cells, known=known) == {1}
    assert skippable_cells(cells[:2], known=known) == {0, 1}


@pytest.mark.parametrize("tags", [None, [CHECK_TAG]])
def test_a_cell_is_known_by_its_code_not_its_tag(tags: list[str] | None) -> None:
    """A .py source notebook has no tags; a learner's own cell tagged 'check' is not the kit's."""
    known = frozenset({"feedback('x', check_x)"})
    cells = [code("feedback('x', check_x)", tags=None), code("print('mine')", tags=tags)]
    assert skippable_cells(cells, known=known) == {0}


def test_markdown_and_empty_cells_are_never_skipped() -> None:
    known = frozenset({"x = 1"})
    cells = [nbformat.v4.new_markdown_cell("x = 1"), code("   "), code("x = 1")]
    assert skippable_cells(cells, known=known) == {2}
