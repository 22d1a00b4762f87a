"""What the kernel sends Spark's Python workers: the notebook's own modules, never the kit's package."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from checkers.config import PROJECT_ROOT
from checkers.runtime.worker_side import local_modules


def test_a_notebooks_own_module_is_sent_and_the_kits_package_never(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """From the kit's own folder the kernel has imported ``checkers``: sending it would hand the workers the whole
    kit, grader included. A module beside the notebook is what the workers need."""
    assert "checkers" in sys.modules
    assert "checkers" not in dict(local_modules(PROJECT_ROOT.resolve()))
    (tmp_path / "helpers_for_workers.py").write_text("VALUE = 1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("helpers_for_workers")
    try:
        assert dict(local_modules(tmp_path.resolve())) == {
            "helpers_for_workers": (tmp_path / "helpers_for_workers.py").resolve()}
    finally:
        sys.modules.pop("helpers_for_workers", None)
