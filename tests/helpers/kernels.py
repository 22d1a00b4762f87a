"""Running one notebook in a kernel of a test's own pool (shared by the kernel and fork-server tests)."""

from __future__ import annotations

import json
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
