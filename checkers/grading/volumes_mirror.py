"""A grading's own ``/Volumes``: a mirror of the kit's volumes folder that the submission's code may write.

On Databricks a notebook writes to volumes as a matter of course: a checkpoint for Auto Loader, a ``CREATE VOLUME``
in its schema, an export. Under grading the kit's volumes folder is read-only (the sample data in it must stay as it
is), so each grading gets a mirror: real folders, and a link to each of the kit's files. What a notebook writes lands
in the mirror; what it reads (the sample) is the kit's. The grader points the kernels at it
(:data:`~checkers.signals.VOLUMES_ROOT`) and removes it afterwards.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

MIRROR_MAX_FILES = 20_000
"""Beyond this many files in the kit's volumes, whole volume folders are linked instead of each file (reads still
work; writes into those volumes fail as before)."""


def mirror_volumes(*, source: Path, dest: Path) -> Path:
    """Make ``dest`` mirror ``source`` (what ``dest`` held before goes): the same folders, each file a symbolic link
    to the kit's."""
    if dest.exists():
        shutil.rmtree(dest)  # a grading worker's mirror from its previous submission
    dest.mkdir(parents=True)
    tree = [(Path(root), names) for root, _dirs, names in os.walk(source, followlinks=False)]  # [] without source
    if sum(len(names) for _, names in tree) > MIRROR_MAX_FILES:
        for volume in sorted(p for p in source.glob("*/*/*") if p.is_dir()):
            target = dest / volume.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(volume, target_is_directory=True)
        return dest
    for root, names in tree:
        here = dest / root.relative_to(source)
        here.mkdir(exist_ok=True)
        for name in names:
            (here / name).symlink_to(root / name)
    return dest


def remove_mirror(dest: Path) -> None:
    """Remove the mirror: its links and what the submission wrote, never the kit's files."""
    shutil.rmtree(dest, ignore_errors=True)
