"""``dbutils.widgets`` keeps the SDK's public API without importing the SDK in every kernel."""

from __future__ import annotations

import inspect
import subprocess
import sys
import warnings

import pytest

from checkers.runtime.widgets import LocalWidgets

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the SDK's widgets package probes for ipywidgets and may warn
    from databricks.sdk._widgets import WidgetUtils
    from databricks.sdk._widgets.default_widgets_utils import DefaultValueOnlyWidgetUtils


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(func) for name, func in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_")}


@pytest.mark.parametrize("sdk_class", [WidgetUtils, DefaultValueOnlyWidgetUtils])
def test_every_sdk_widget_method_exists_with_the_same_parameters(sdk_class: type) -> None:
    ours = public_methods(LocalWidgets)
    for name, signature in public_methods(sdk_class).items():
        assert name in ours, f"LocalWidgets has no {name}"
        theirs = [(p.name, p.default) for p in signature.parameters.values()]
        mine = [(p.name, p.default) for p in ours[name].parameters.values()]
        assert mine == theirs, name


def test_the_runtime_does_not_import_the_sdk() -> None:
    """Importing the SDK package costs a kernel ~1.5 s of CPU; the runtime must not need it."""
    code = ("import sys, checkers.runtime.kernel, checkers.runtime.magics, checkers.runtime.fs;"
            "print(sorted(m for m in sys.modules if m.startswith('databricks')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
