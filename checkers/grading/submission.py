"""Copy a submission to a private grading folder, so nothing its notebooks write lands in the learner's folder.

What the copy holds (notebooks, job file) is found by :func:`checkers.jobs.project.find_submission`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from checkers.config import PROJECT_ROOT
from checkers.errors import GradingError

MAX_COPIED_FILE_BYTES = 20 * 1024 * 1024
"""Bigger files (a learner's copy of the raw data) are left out of the private copy."""
_SKIPPED_DIRS = {".ipynb_checkpoints", "__pycache__", ".git", "spark-warehouse", "metastore_db", ".venv"}
KIT_BUNDLE = PROJECT_ROOT / "lessons" / "day07_checks"
"""The check cells' code as the kit ships it, which the grading stand-in below replaces in a private copy."""
GRADING_BUNDLE = {
    "__init__.py": '''"""The check cells' code while a submission is graded: the grader runs its own checks from
outside the notebook, so here a check cell only prints. The kit's steps, reference code and grader are not here."""

NOTE = "skipped while grading: the grader runs its own checks."


def feedback(step, namespace=None):
    print(f"\u2139\ufe0f {step}: {NOTE}")


def in_job_run(dbutils=None):
    return True
''',
    "quality.py": '''"""The quality check cell's code while a submission is graded: it only prints."""

from day07_checks import feedback, in_job_run  # noqa: F401
''',
}
"""A submission's ``day07_checks/`` in the private copy: the check cells print and run nothing, never a copy the
submission edited, and graded code finds no reference steps or grader modules to import."""


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
        if KIT_BUNDLE.name in dirs:
            dirs.remove(KIT_BUNDLE.name)
            notes += _kit_bundle(source=Path(root) / KIT_BUNDLE.name, dest=dest / rel / KIT_BUNDLE.name)
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


def _kit_bundle(*, source: Path, dest: Path) -> list[str]:
    """The grading stand-in for ``day07_checks/`` where the submission has one; a note when the submission's
    differed from the kit's."""
    dest.mkdir(parents=True)
    for name, text in GRADING_BUNDLE.items():
        (dest / name).write_text(text, encoding="utf-8")
    if not KIT_BUNDLE.is_dir() or _same_files(source, KIT_BUNDLE):
        return []
    return [f"{source.name}/ differed from the kit's; it did not run (while grading, the check cells only print)"]


def _same_files(one: Path, other: Path) -> bool:
    """Whether two folders hold the same files with the same bytes (caches and links aside)."""
    def listing(folder: Path) -> set[str]:
        return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
                if "__pycache__" not in p.parts and not p.is_symlink() and p.is_file()}

    names = listing(one)
    if names != listing(other):
        return False
    try:
        return all((one / name).read_bytes() == (other / name).read_bytes() for name in names)
    except OSError:
        return False


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
