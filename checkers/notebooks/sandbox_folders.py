"""The folders a grading's kernel may write, may only read, or must not see, as the grader names them in the
notebook's ``env``. Both ways of starting a kernel (from scratch, :mod:`.kernels`; forked, :mod:`.forkserver`)
confine it by these."""

from __future__ import annotations

import os
from pathlib import Path


def env_paths(env: dict[str, str], name: str) -> list[Path]:
    """The folders listed in ``env[name]`` (none when it is unset)."""
    return [Path(p) for p in env.get(name, "").split(os.pathsep) if p]
