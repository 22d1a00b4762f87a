"""The folders a grading's kernel may write, may only read, or must not see, as the grader names them in the
notebook's ``env``. Both ways of starting a kernel (from scratch, :mod:`.kernels`; forked, :mod:`.forkserver`)
confine it by these."""

from __future__ import annotations

import os
from pathlib import Path

SANDBOX_ENV = "DAY07_SANDBOX_ROOT"
"""Set in a notebook's ``env`` by the grader: run its kernel in a sandbox where only this folder is writable."""
SANDBOX_READONLY_ENV = "DAY07_SANDBOX_READONLY"
"""With :data:`SANDBOX_ENV`: folders (``os.pathsep``-separated) the kernel sees read-only even inside that one."""
SANDBOX_HIDDEN_ENV = "DAY07_SANDBOX_HIDDEN"
"""With :data:`SANDBOX_ENV`: folders (``os.pathsep``-separated) the kernel must not see at all."""


def env_paths(env: dict[str, str], name: str) -> list[Path]:
    """The folders listed in ``env[name]`` (none when it is unset)."""
    return [Path(p) for p in env.get(name, "").split(os.pathsep) if p]
