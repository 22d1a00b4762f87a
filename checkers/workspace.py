"""A learner's own folder: a copy of the lessons and the job to work in, so ``lessons/`` stays as built.

``day07 lessons build`` rewrites ``lessons/`` from the solutions, and the lessons-in-sync test checks it: work
saved there would be overwritten or break the test. ``day07 start`` copies the lessons once to ``my_work/``
(git-ignored) and never overwrites a file that is already there; ``day07 check`` grades that folder by default.
The check cells' code, ``day07_checks/``, is the kit's, not the learner's: it is brought up to date on every start.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from checkers.config import PROJECT_ROOT
from checkers.errors import CheckersError

MY_WORK = PROJECT_ROOT / "my_work"
"""The learner's folder when none is named (listed in .gitignore)."""
LESSONS = PROJECT_ROOT / "lessons"
"""The lessons as ``day07 lessons build`` writes them."""
_DOCS_LINK = "](../docs/"
"""How lesson notebooks link the docs: right for a folder beside ``lessons/``, rewritten for one elsewhere."""


class StartError(CheckersError):
    """The learner's folder cannot be made: the lessons are missing, or the target is not a folder."""


@dataclass(frozen=True)
class StartResult:
    """What ``day07 start`` did."""

    folder: Path
    """The learner's folder."""
    copied: list[str] = field(default_factory=list)
    """Files copied in, by name."""
    kept: list[str] = field(default_factory=list)
    """Files that were already there and were left as they are, by name."""
    feedback: str | None = None
    """The check cells' code, ``day07_checks/``: ``copied``, ``updated`` (the kit's newer copy replaced it; it is the
    kit's code, not the learner's work) or None when it was already up to date (or the lessons have none)."""


def default_submission() -> Path:
    """The folder ``day07 check`` grades when none is named: ``my_work/`` once it exists, else ``lessons/``."""
    return MY_WORK if MY_WORK.is_dir() else LESSONS


def lesson_files(lessons: Path) -> list[Path]:
    """The files to copy: every visible file at the top of ``lessons`` (the notebooks and the job)."""
    if not lessons.is_dir():
        raise StartError(f"The lessons folder {lessons} does not exist.",
                         hint="Run `day07 lessons build` to write it from solutions/.")
    files = sorted(p for p in lessons.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise StartError(f"The lessons folder {lessons} is empty.",
                         hint="Run `day07 lessons build` to write it from solutions/.")
    return files


def start_folder(*, folder: Path = MY_WORK, lessons: Path = LESSONS, docs: Path = PROJECT_ROOT / "docs") -> StartResult:
    """Copy every lesson file into ``folder``; a file already there is kept, never overwritten.

    Lesson notebooks link the docs as ``../docs/…``; in a folder that is not beside ``docs/``'s parent those links
    are rewritten to reach the same pages.
    """
    if folder.exists() and not folder.is_dir():
        raise StartError(f"{folder} exists and is not a folder.", hint="Name another folder: day07 start FOLDER.")
    sources = lesson_files(lessons)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StartError(f"Cannot create {folder}: {exc.strerror or exc}.",
                         hint="Name a folder you can write to: day07 start FOLDER.") from None
    docs_link = "](" + Path(os.path.relpath(docs, folder.resolve())).as_posix() + "/"
    copied, kept = [], []
    for source in sources:
        target = folder / source.name
        try:
            with open(target, "xb") as out:  # exclusive: a file that appeared meanwhile is still never replaced
                if source.suffix == ".ipynb" and docs_link != _DOCS_LINK:
                    out.write(source.read_text(encoding="utf-8").replace(_DOCS_LINK, docs_link).encode("utf-8"))
                else:
                    with open(source, "rb") as src:
                        shutil.copyfileobj(src, out)
        except FileExistsError:
            kept.append(source.name)
            continue
        except OSError as exc:
            raise StartError(f"Cannot write {target}: {exc.strerror or exc}.",
                             hint="Check the folder's permissions, or name another folder.") from None
        copied.append(source.name)
    from checkers.jobs.project import BUNDLE_DIR  # here: `day07 --help` builds its parser without the job loader

    return StartResult(folder=folder, copied=copied, kept=kept, feedback=_copy_bundle(lessons / BUNDLE_DIR,
                                                                                      folder / BUNDLE_DIR))


def _copy_bundle(source: Path, target: Path) -> str | None:
    """Make ``target`` a copy of the lessons' ``day07_checks/``: what changed (``copied``/``updated``) or None."""
    if not source.is_dir():
        return None
    existed = target.is_dir()
    wanted = {p.relative_to(source) for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    changed = False
    try:
        for relative in sorted(wanted):
            data = (source / relative).read_bytes()
            destination = target / relative
            if not destination.is_file() or destination.read_bytes() != data:
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(data)
                changed = True
        if existed:
            for old in target.rglob("*"):
                if old.is_file() and "__pycache__" not in old.parts and old.relative_to(target) not in wanted:
                    old.unlink()
                    changed = True
    except OSError as exc:
        raise StartError(f"Cannot write {target}: {exc.strerror or exc}.",
                         hint="Check the folder's permissions, or name another folder.") from None
    if not changed:
        return None
    return "updated" if existed else "copied"
