"""``import delta`` in a kit kernel: the emulated ``delta.tables`` (and ``delta.exceptions``), unless a real
``delta-spark`` is installed, which is never shadowed.

A meta-path finder answers for ``delta`` and its submodules with fresh module objects whose names are the real
ones (``delta.tables.DeltaTable``), filled from :mod:`checkers.runtime.delta.tables`. Nothing is imported until
the notebook imports ``delta``.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from typing import Any

_MODULES = {
    "delta": "checkers.runtime.delta.facade",
    "delta.tables": "checkers.runtime.delta.tables",
    "delta.exceptions": "checkers.runtime.delta.facade",
    "delta.pip_utils": "checkers.runtime.delta.facade",
}


class _Loader(importlib.abc.Loader):
    def __init__(self, fullname: str) -> None:
        self.fullname = fullname

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        source = importlib.import_module(_MODULES[self.fullname])
        module = types.ModuleType(self.fullname, source.__doc__)
        names = getattr(source, "EXPORTS", {}).get(self.fullname) or getattr(source, "__all__", [])
        for name in names:
            setattr(module, name, getattr(source, name))
        module.__all__ = list(names)  # type: ignore[attr-defined]
        module.__day07_emulated__ = True  # type: ignore[attr-defined]
        if self.fullname == "delta":
            module.__path__ = []  # a package: ``delta.tables`` imports under it
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        return None


class DeltaFinder(importlib.abc.MetaPathFinder):
    """Finds the emulated ``delta`` package (placed last on ``sys.meta_path``: any real one wins)."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _MODULES:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Loader(fullname), is_package=fullname == "delta")


def real_delta_installed() -> bool:
    """True when ``delta-spark`` (or any other ``delta`` package) is importable without the emulation."""
    finders = [f for f in sys.meta_path if isinstance(f, DeltaFinder)]
    for finder in finders:
        sys.meta_path.remove(finder)
    try:
        return importlib.util.find_spec("delta") is not None
    finally:
        sys.meta_path.extend(finders)


def install_delta_module() -> bool:
    """Make ``from delta.tables import DeltaTable`` work; False (and nothing done) when a real one exists."""
    if any(isinstance(f, DeltaFinder) for f in sys.meta_path):
        return True
    if real_delta_installed():
        return False
    sys.meta_path.append(DeltaFinder())
    return True


def uninstall_delta_module() -> None:
    """Undo :func:`install_delta_module` (tests)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, DeltaFinder)]
    for name in list(sys.modules):
        if name == "delta" or name.startswith("delta."):
            if getattr(sys.modules[name], "__day07_emulated__", False):
                del sys.modules[name]
