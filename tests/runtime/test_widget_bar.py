"""The widget bar: live controls for ``dbutils.widgets`` in an interactive session, none in a headless run.

The controls are real ipywidgets; the kernel tests start the real "Day 07" kernel. Typing into the bar in a real
JupyterLab is tests/docs/test_widget_bar_lab.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from checkers.runtime.widget_bar import BAR_CLASS, control_class
from checkers.runtime.widgets import LocalWidgets
from checkers.signals import RUN_CONTEXT

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def control(widgets: LocalWidgets, name: str) -> Any:
    """The input control of widget ``name`` in the bar (below its label)."""
    bar = widgets._bar
    assert bar is not None
    box = next(item for item in bar._box.children if control_class(name) in item.children[1]._dom_classes)
    return box.children[1]


def test_a_value_changed_in_the_bar_is_what_get_returns() -> None:
    widgets = LocalWidgets(interactive=True)
    widgets.text("source_path", "/a.csv", "Source CSV")
    widgets.dropdown("layer", "bronze", ["bronze", "silver", "gold"], "Layer")
    widgets.combobox("mode", "fast", ["fast", "slow"])
    widgets.multiselect("days", "mon", ["mon", "tue", "wed"])
    control(widgets, "source_path").value = "/b.csv"
    control(widgets, "layer").value = "gold"
    control(widgets, "mode").value = "anything typed"
    control(widgets, "days").value = ("mon", "wed")
    assert widgets.getAll() == {"source_path": "/b.csv", "layer": "gold", "mode": "anything typed",
                                "days": "mon,wed"}
    assert widgets.get("layer") == "gold"


def test_one_bar_holds_every_widget_in_declaration_order_with_its_label() -> None:
    widgets = LocalWidgets(interactive=True)
    widgets.text("a", "1", "First")
    widgets.text("b", "2")
    bar = widgets._bar
    assert bar is not None and bar.names == ["a", "b"]
    assert BAR_CLASS in bar._box._dom_classes
    labels = [item.children[0].value for item in bar._box.children]
    assert "First" in labels[0] and ">b<" in labels[1]  # no label: the name, as Databricks shows it
    assert repr(bar._box) == "Widgets: a, b (dbutils.widgets)"  # what a frontend without widgets shows


def test_redeclaring_keeps_a_typed_value_and_remove_takes_controls_away() -> None:
    widgets = LocalWidgets(interactive=True)
    widgets.dropdown("layer", "bronze", ["bronze", "silver", "gold"])
    control(widgets, "layer").value = "silver"
    widgets.dropdown("layer", "bronze", ["bronze", "silver", "gold"])  # the cell ran again
    assert widgets.get("layer") == "silver" and control(widgets, "layer").value == "silver"
    widgets.dropdown("layer", "bronze", ["bronze", "gold"])  # silver is no longer a choice
    assert widgets.get("layer") == "bronze" and control(widgets, "layer").value == "bronze"
    widgets.text("other", "x")
    widgets.remove("layer")
    bar = widgets._bar
    assert bar is not None and bar.names == ["other"] and len(bar._box.children) == 1
    widgets.removeAll()
    assert bar.names == [] and bar._box.children == () and bar._box.layout.display == "none"
    widgets.text("other", "y")  # declared again after removeAll: back in the bar, with its new default
    assert bar.names == ["other"] and bar._box.layout.display == "flex" and control(widgets, "other").value == "y"


def test_a_passed_value_shows_in_the_bar_until_something_else_is_typed() -> None:
    widgets = LocalWidgets(parameters={"layer": "gold"}, interactive=True)
    widgets.dropdown("layer", "bronze", ["bronze", "silver", "gold"])
    assert control(widgets, "layer").value == "gold" and widgets.get("layer") == "gold"
    control(widgets, "layer").value = "silver"
    assert widgets.get("layer") == "silver"


def test_headless_widgets_never_import_ipywidgets() -> None:
    """Jobs, gradings and `notebook run` start many kernels: they must not pay for ipywidgets."""
    code = ("import sys\n"
            "from checkers.runtime.context import RunContext\n"
            "from checkers.runtime.dbutils import DBUtils\n"
            "d = DBUtils(context=RunContext(report_events=True, in_job=True))\n"
            "d.widgets.text('a', '1'); d.widgets.dropdown('b', 'x', ['x', 'y']); d.widgets.removeAll()\n"
            "print('ipywidgets' in sys.modules, d.widgets._bar)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "None"]


# ------------------------------------------------------------------------------------------------ real kernels


@pytest.fixture()
def interactive_kernel(tmp_path: Path) -> Any:
    """The installed Day 07 kernel, started the way Jupyter starts it for a person (no run context)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    from checkers.kernelspec import KERNEL_NAME, install_kernel

    dest = install_kernel(prefix=str(tmp_path))
    km = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(dest.parent)]))
    km.start_kernel(cwd=str(tmp_path), env={k: v for k, v in __import__("os").environ.items()
                                            if k != RUN_CONTEXT})
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        yield kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def run_cell(kc: Any, code: str, cell_id: str) -> list[dict[str, Any]]:
    """Execute ``code`` as JupyterLab does (with the cell's id in the request's metadata); return its outputs."""
    msg = kc.session.msg("execute_request", {"code": code, "silent": False, "store_history": True,
                                             "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
                         metadata={"cellId": cell_id})
    kc.shell_channel.send(msg)
    outputs = []
    while True:
        reply = kc.get_iopub_msg(timeout=60)
        if reply["parent_header"].get("msg_id") != msg["header"]["msg_id"]:
            continue
        kind = reply["msg_type"]
        if kind == "status" and reply["content"]["execution_state"] == "idle":
            break
        if kind in ("display_data", "stream", "error", "execute_result"):
            outputs.append(reply["content"])
    assert kc.get_shell_msg(timeout=60)["content"]["status"] == "ok", outputs
    return outputs


def bars(outputs: list[dict[str, Any]]) -> int:
    return sum(1 for out in outputs if WIDGET_VIEW in out.get("data", {}))


@pytest.mark.kernel
def test_the_bar_is_shown_once_where_the_first_widget_is_declared(interactive_kernel: Any) -> None:
    kc = interactive_kernel
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    declare = ('dbutils.widgets.text("source_path", "/a.csv")\n'
               'dbutils.widgets.dropdown("layer", "bronze", ["bronze", "gold"])')
    assert bars(run_cell(kc, declare, first)) == 1  # two widgets, one bar
    assert bars(run_cell(kc, 'dbutils.widgets.text("schema", "day07")', second)) == 0  # it joins the bar above
    assert bars(run_cell(kc, declare, first)) == 1  # that cell ran again: its old output (the bar) was cleared
    printed = run_cell(kc, 'import sys; print(sorted(dbutils.widgets.getAll()), "ipywidgets" in sys.modules)', second)
    assert "".join(o.get("text", "") for o in printed).strip() == "['layer', 'schema', 'source_path'] True"


@pytest.mark.kernel
def test_a_headless_run_of_a_notebook_shows_no_bar(tmp_path: Path) -> None:
    import nbformat

    from checkers.notebooks.execute import execute_notebook

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        'dbutils.widgets.dropdown("layer", "bronze", ["bronze", "gold"])\n'
        'import sys; print(dbutils.widgets.get("layer"), "ipywidgets" in sys.modules)')]
    path = tmp_path / "headless.ipynb"
    nbformat.write(nb, str(path))
    result = execute_notebook(path=path, parameters={"layer": "gold"}, output_path=tmp_path / "out.ipynb",
                              work_dir=tmp_path / "work")
    assert result.ok, result.message
    executed = json.loads((tmp_path / "out.ipynb").read_text(encoding="utf-8"))
    outputs = executed["cells"][0]["outputs"]
    assert bars(outputs) == 0
    assert "".join("".join(o.get("text", "")) for o in outputs).strip() == "gold False"
