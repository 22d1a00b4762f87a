"""Names that notebooks written on Spark 3 runtimes (Databricks Runtime 15.4 LTS and older) still use.

``from pyspark.sql.functions import *`` exported every function up to Spark 3.5. Spark 4 lists the exported names,
and leaves out the old camelCase aliases (``countDistinct``, ``sumDistinct``, ...), so a notebook that ran on an LTS
runtime stops with a ``NameError`` at the first alias. The kernel adds them back to the star-import. The functions
themselves are PySpark's own; nothing else changes, and a notebook written for Spark 4 runs as before.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from typing import Any

FUNCTIONS = "pyspark.sql.functions"
STAR_ALIASES = ("approxCountDistinct", "bitwiseNOT", "countDistinct", "shiftLeft", "shiftRight",
                "shiftRightUnsigned", "sumDistinct", "toDegrees", "toRadians")
"""Deprecated camelCase functions that Spark 3's star-import gave. (``chr``, ``random`` and ``uuid`` stay out: they
would hide Python's own.)"""


def extend_star_import(module: Any) -> None:
    """Add the aliases the module really has to its ``__all__`` (once)."""
    names = getattr(module, "__all__", None)
    if isinstance(names, list):
        names.extend(n for n in STAR_ALIASES if hasattr(module, n) and n not in names)


class _Extending(importlib.abc.Loader):
    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self.loader.exec_module(module)
        extend_star_import(module)


class _FunctionsFinder(importlib.abc.MetaPathFinder):
    """Lets PySpark import ``pyspark.sql.functions`` as always, then extends its ``__all__``."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != FUNCTIONS:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _Extending(spec.loader)
                return spec
        return None


def install() -> None:
    """Give the star-import its Spark 3 names, now if PySpark's functions are loaded, else when they are."""
    loaded = sys.modules.get(FUNCTIONS)
    if loaded is not None:
        extend_star_import(loaded)
    elif not any(isinstance(f, _FunctionsFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _FunctionsFinder())
