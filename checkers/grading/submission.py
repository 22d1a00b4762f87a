"""Copy a submission to a private grading folder, so nothing its notebooks write lands in the learner's folder.

What the copy holds (notebooks, job file) is found by :func:`checkers.jobs.project.find_submission`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from checkers.errors import GradingError

MAX_COPIED_FILE_BYTES = 20 * 1024 * 1024
"""Bigger files (a learner's copy of the raw data) are left out of the private copy."""
_SKIPPED_DIRS = {".ipynb_checkpoints", "__pycache__", ".git", "spark-warehouse", "metastore_db", ".venv"}


def copy_submission(*, source: Path, dest: Path) -> list[str]:
    """Copy ``source`` into the new folder ``dest``; returns notes on what was left out.

    Symbolic links are not followed (a link could point anywhere on the grader's machine); caches,
    checkpoints and files over :data:`MAX_COPIED_FILE_BYTES` are skipped.
    """
    source = Path(source)
    if not source.is_dir():
        raise GradingError(f"Submission folder {source} does not exist or is not a folder.",
                           hint="Pass the folder holding your five notebooks and job file.")
    notes: list[str] = []
    dest.mkdir(parents=True, exist_ok=False)
    for root, dirs, files in os.walk(source, followlinks=False):
        rel = Path(root).relative_to(source)
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS and not (Path(root) / d).is_symlink())
        (dest / rel).mkdir(parents=True, exist_ok=True)
        for name in sorted(files):
            path = Path(root) / name
            if path.is_symlink() or not path.is_file():
                notes.append(f"{rel / name} is a link or special file; not copied")
                continue
            size = path.stat().st_size
            if size > MAX_COPIED_FILE_BYTES:
                notes.append(f"{rel / name} ({size // (1024 * 1024)} MB) is too big to be part of a submission; "
                             "not copied")
                continue
            shutil.copy2(path, dest / rel / name)
    return notes
