"""The kernel's patches on the Spark Connect client, installed in the test process for a while, then taken off.

A kernel keeps the patches for its whole life, so the kit has no undo. A test that installs them in the test process
(whose Spark client other tests share) puts back what they replaced when it is done, and forgets that they were
installed, so the tests after it see PySpark as it ships, whatever their order.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any

PATCHED_MODULES = ("pyspark.sql.connect.plan", "pyspark.sql.connect.readwriter", "pyspark.sql.connect.session",
                   "pyspark.sql.connect.catalog", "pyspark.sql.connect.streaming.readwriter",
                   "pyspark.sql.connect.client.core", "pyspark.errors.exceptions.base")
"""PySpark's modules whose classes (or functions) the patches replace."""
KIT_RECORDS = (("checkers.runtime.client_patches", "STATE"), ("checkers.runtime.delta.hooks", "_ORIGINALS"),
               ("checkers.runtime.errors_display", "_INSTALLED"), ("checkers.runtime.delta.state", "STATE"))
"""Where the kit records that (and how) it patched the client."""
QUIET_LOGGERS = ("DataFrameQueryContextLogger", "SQLQueryContextLogger")


def _owners(module: ModuleType) -> list[Any]:
    return [module, *(v for v in vars(module).values() if isinstance(v, type) and v.__module__ == module.__name__)]


def _reset(record: Any, before: Any) -> None:
    """Put ``record`` (a dict, or an object's attributes) back as ``before``, in place: modules hold it by name."""
    target, source = (record, before) if isinstance(record, dict) else (vars(record), vars(before))
    target.clear()
    target.update(source)


def _restore(owner: Any, saved: dict[str, Any]) -> None:
    for name in set(vars(owner)) - set(saved):
        delattr(owner, name)
    for name, value in saved.items():
        if vars(owner).get(name) is not value:
            setattr(owner, name, value)


@contextlib.contextmanager
def kernel_patches(**install: Any) -> Iterator[None]:
    """:func:`checkers.runtime.compat.install` (with ``install``) for the duration of the block."""
    from pyspark.logger import PySparkLogger

    from checkers.runtime import compat

    owners = [owner for name in PATCHED_MODULES for owner in _owners(importlib.import_module(name))]
    saved = [(owner, dict(vars(owner))) for owner in owners]
    records = [(record, copy.deepcopy(record))
               for record in (getattr(importlib.import_module(m), n) for m, n in KIT_RECORDS)]
    loggers = {name: PySparkLogger.getLogger(name).disabled for name in QUIET_LOGGERS}
    try:
        compat.install(**install)
        yield
    finally:
        for owner, before in saved:
            _restore(owner, before)
        for record, before in records:
            _reset(record, before)
        for name, disabled in loggers.items():
            PySparkLogger.getLogger(name).disabled = disabled
