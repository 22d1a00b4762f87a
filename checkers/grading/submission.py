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
    return notes + unpack_dbc_archives(dest)


def unpack_dbc_archives(folder: Path) -> list[str]:
    """In the private copy, a Databricks archive (``.dbc``, how Databricks exports a workspace folder) becomes the
    source notebooks it holds, where the archive was (a job file beside it names them ``./01_bronze``); so do the
    DBC members of an archive handed in as a ``.zip`` or ``.dbc``."""
    from checkers.grading.archives import UnsafeArchiveError, extract_zip
    from checkers.notebooks.dbc import DBC_SUFFIX, MEMBER_LANGUAGES, convert_dbc_members

    notes: list[str] = []
    for archive in sorted(p for p in folder.rglob("*") if p.suffix.lower() == DBC_SUFFIX and p.is_file()):
        rel = archive.relative_to(folder)
        scratch = archive.with_name(f".{archive.stem}.unpacking")
        try:
            inner = extract_zip(archive=archive, dest=scratch)  # the exported folder's contents
        except UnsafeArchiveError as exc:
            notes.append(f"{rel} could not be unpacked: {exc.message}")
            shutil.rmtree(scratch, ignore_errors=True)
            continue
        entries = sorted(inner.iterdir())
        landing = [e.with_suffix(".py").name if e.suffix.lower() in MEMBER_LANGUAGES else e.name for e in entries]
        if any((archive.parent / name).exists() for name in landing):
            target = archive.with_name(archive.stem if not archive.with_suffix("").exists() else archive.stem + "_dbc")
            shutil.move(str(inner), str(target))  # beside what is already there, never over it
        else:
            target = archive.parent
            for entry in entries:
                shutil.move(str(entry), str(target / entry.name))
        shutil.rmtree(scratch, ignore_errors=True)
        archive.unlink()
        where = "the folder it was in" if target == archive.parent else f"{target.relative_to(folder)}/"
        notes.append(f"{rel} (a Databricks archive) was unpacked into {where}")
    return notes + convert_dbc_members(folder)
