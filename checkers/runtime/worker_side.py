"""What Spark's Python workers need to run a notebook's functions as on Databricks.

A UDF, an ``applyInPandas``/``mapInPandas`` function or a ``foreachBatch`` function runs in a Python worker that
the Spark server starts, not in the notebook's kernel:

* The notebook's own modules (``from helpers import clean`` next to the notebook) are on the workers' path on
  Databricks. Here each local module the kernel imported is sent to the session as a Python artifact, once, before
  the first function that may need it leaves the kernel.
* A ``foreachBatch`` function writes tables and runs SQL from the worker. It runs wrapped in
  :func:`checkers.runtime.compat.run_batch`, which gives that worker the kernel's Databricks names, Delta stand-in
  and volumes first.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

MAX_MODULE_BYTES = 20 * 1024 * 1024
"""A module (or zipped package) larger than this is not sent: a notebook folder holds code, not data."""
_KIT_PACKAGE = __name__.split(".", 1)[0]
"""The kit's own package: never sent (a kernel started in the kit's folder would send all of it, the grader too)."""
_SENT: set[tuple[str, str]] = set()
"""(session id, module name) already sent."""


def local_modules(root: Path) -> list[tuple[str, Path]]:
    """Top-level modules the kernel imported from ``root`` (the notebook's folder): (name, file or package folder)."""
    found = []
    for name, module in list(sys.modules.items()):
        if "." in name or name in ("__main__", _KIT_PACKAGE):  # the workers have the kit's runtime, and no more of it
            continue
        file = getattr(module, "__file__", None)
        path = _origin(file) if isinstance(file, str) else None
        if path is not None and path.parent == root:
            found.append((name, path))
    return sorted(found)


@functools.cache
def _origin(file: str) -> Path | None:
    """A module's file, or its package's folder; None for anything else (cached: called for every module on every
    function that leaves the kernel)."""
    path = Path(file).resolve()
    if path.name == "__init__.py":
        return path.parent
    return path if path.suffix == ".py" else None


def send_modules(client: Any) -> None:
    """Send the kernel's local modules that this session does not have yet; never an error for the query."""
    session_id = str(getattr(client, "_session_id", ""))
    try:
        modules = local_modules(Path.cwd().resolve())
    except OSError:
        return
    for name, path in modules:
        if (session_id, name) in _SENT:
            continue
        _SENT.add((session_id, name))
        try:
            _send(client, name, path)
        except Exception:  # noqa: BLE001, S112 - without it only the worker fails, with its own clear error
            continue


def _send(client: Any, name: str, path: Path) -> None:
    if path.is_file():
        if path.stat().st_size <= MAX_MODULE_BYTES:
            client.add_artifacts(str(path), pyfile=True, archive=False, file=False)
        return
    with tempfile.TemporaryDirectory(prefix="day07-module-") as tmp:
        archive = shutil.make_archive(os.path.join(tmp, name), "zip", root_dir=path.parent, base_dir=path.name)
        if os.path.getsize(archive) <= MAX_MODULE_BYTES:
            client.add_artifacts(archive, pyfile=True, archive=False, file=False)


def install(*, run_batch: Callable[..., Any]) -> None:
    """Patch the client where functions leave the kernel (once). A ``foreachBatch`` function goes to the worker as
    ``partial(run_batch, func, translate_paths)``: ``run_batch`` (:func:`checkers.runtime.compat.run_batch`, an
    importable function) installs the emulation in the worker, then calls it."""
    from pyspark.sql.connect.expressions import PythonUDF
    from pyspark.sql.connect.streaming.readwriter import DataStreamWriter

    from checkers.runtime.client_patches import STATE, patch

    def wrap_to_plan(original: Any) -> Any:
        @functools.wraps(original)
        def to_plan(self: Any, session: Any) -> Any:
            send_modules(session)
            return original(self, session)

        return to_plan

    def wrap_foreach_batch(original: Any) -> Any:
        @functools.wraps(original)
        def foreach_batch(self: Any, func: Callable[[Any, int], Any]) -> Any:
            session = getattr(self, "_session", None)
            if session is not None:
                send_modules(session.client)
            return original(self, functools.partial(run_batch, func, STATE.translate_paths))

        return foreach_batch

    patch(PythonUDF, "to_plan", wrap_to_plan)
    patch(DataStreamWriter, "foreachBatch", wrap_foreach_batch)
