"""Running one notebook in a kernel of a test's own pool, and waiting for the pool (shared by the kernel, fork-server
and runtime tests)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any


def own_pool() -> dict[str, str]:
    """An environment of a test's own, so its kernels are pooled apart from every other test's."""
    return {"DAY07_TEST_POOL": uuid.uuid4().hex}


def run(notebook: Path, env: dict[str, str], **params: str) -> tuple[Any, dict[str, Any]]:
    """Run ``notebook`` with widget values ``params``; the result and the JSON it exited with."""
    from checkers.notebooks.execute import execute_notebook

    result = execute_notebook(path=notebook, parameters=params, env=env)
    assert result.ok, result.message
    return result, json.loads(result.exit_value or "{}")


def wait_for_pool(env: dict[str, str], count: int, timeout: float = 90) -> list[Any]:
    """The ``count`` kernels the pool started ahead for ``env``, once all of them answer; fails after ``timeout``."""
    from checkers.notebooks.execute import pooled_kernels

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kernels = pooled_kernels(env=env)
        if len(kernels) == count and all(k.ready is not None for k in kernels):
            return kernels
        time.sleep(0.2)
    raise AssertionError(f"the pool did not start {count} kernels in {timeout:.0f} s: {pooled_kernels(env=env)}")
