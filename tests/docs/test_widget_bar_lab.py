"""The widget bar in a real JupyterLab (started on loopback), driven by headless Chromium as a person would.

Typing into the bar changes what the next cell's ``dbutils.widgets.get`` returns; a widget declared in a later
cell joins the same bar; ``removeAll`` takes the controls away. JupyterLab must need nothing from another host.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from checkers.authoring.lab import LabNotebook, jupyterlab, notebook_file
from checkers.runtime.widget_bar import BAR_CLASS, CONTROL_CLASS, control_class

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

CELLS = [
    'dbutils.widgets.text("source_path", "/Volumes/workspace/ecommerce/ecommerce_data/2019-Oct.csv", "Source CSV")\n'
    'dbutils.widgets.dropdown("layer", "bronze", ["bronze", "silver", "gold"], "Layer")',
    'dbutils.widgets.combobox("schema", "day07", ["day07", "day07_dev"], "Schema")',
    'print(dbutils.widgets.get("layer"), dbutils.widgets.get("source_path"), dbutils.widgets.get("schema"))',
    "dbutils.widgets.removeAll()",
]


@pytest.fixture()
def lab_page(cam: Any, tmp_path: Path) -> Iterator[LabNotebook]:
    root = tmp_path / "notebooks"
    notebook_file(root / "widgets.ipynb", CELLS)
    with jupyterlab(root=root) as server:
        context = cam.browser.new_context(viewport={"width": 1280, "height": 900})
        try:
            yield LabNotebook(context.new_page(), server, "widgets.ipynb").open()
        finally:
            context.close()


def test_typing_into_the_bar_changes_what_the_next_cell_reads(lab_page: LabNotebook) -> None:
    nb = lab_page
    page = nb.page
    nb.run(0)
    bar = nb.cell(0).locator(f".{BAR_CLASS}")
    bar.locator(f".{control_class('layer')} select").wait_for()
    nb.run(1)  # a widget declared in another cell joins the one bar, in the first cell's output
    assert page.locator(f".{BAR_CLASS}").count() == 1
    assert bar.locator(f".{CONTROL_CLASS}").count() == 3
    assert nb.output(1).strip() == ""
    assert "Source CSV" in bar.inner_text() and "Layer" in bar.inner_text()

    november = "/Volumes/workspace/ecommerce/ecommerce_data/2019-Nov.csv"
    bar.locator(f".{control_class('source_path')} input").fill(november)
    bar.locator(f".{control_class('layer')} select").select_option("gold")
    bar.locator(f".{control_class('schema')} input").fill("day07_dev")
    printed = nb.run(2)
    assert printed.split() == ["gold", november, "day07_dev"]

    bar.locator(f".{control_class('layer')} select").select_option("silver")
    assert nb.run(2).split()[0] == "silver"

    nb.run(3)  # removeAll: the controls are gone
    assert bar.locator(f".{CONTROL_CLASS}").count() == 0
    assert nb.outside == [], "JupyterLab asked another host for something"

