"""What the cohort grader does to keep one submission's files from hurting the grader or the others.

- archives are unpacked safely: no absolute paths, no ``..``, no links, bounded size and file count;
- executed notebooks are trimmed: each cell's saved outputs are capped. The executor already caps output while
  a cell runs (:mod:`checkers.notebooks.limits`); this catches what it keeps whole, such as a huge traceback.

Kernels run in a bubblewrap sandbox when it is available (:mod:`checkers.sandbox`); what is and is
not enforced is listed in docs/grade-cohort.md.
"""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path, PurePosixPath

import nbformat

from checkers.errors import GradingError

ARCHIVE_SUFFIXES = (".zip", ".dbc")
"""Submissions handed in as one file: a zip of the folder, or Databricks' own export of it (a DBC archive)."""
MAX_ARCHIVE_BYTES = 200 * 1024 * 1024
"""Unpacked size above which an archive is refused (a zip bomb, or not a submission)."""
MAX_ARCHIVE_FILES = 2_000
"""Members above which an archive is refused."""
MAX_CELL_OUTPUT_BYTES = 1024 * 1024
"""Saved outputs per cell above this are cut down to it."""
_TRIM_NOTE = "\n… [day07: output trimmed — this cell printed {size:,} bytes; the grader keeps {cap:,}]\n"


class UnsafeArchiveError(GradingError):
    """A submission archive that cannot be unpacked safely."""


def extract_zip(*, archive: Path, dest: Path) -> Path:
    """Unpack ``archive`` into the new folder ``dest`` and return the submission folder inside it.

    A member with an absolute path, a ``..`` part or a link type is refused (the whole archive: a submission
    that tries this is not graded). When everything sits in one top-level folder (how most zip tools pack
    a folder), that folder is the submission. A Databricks archive (``.dbc``) is a zip too.
    """
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsafeArchiveError(f"{archive.name} is not a readable zip archive ({exc}).",
                                 hint="Re-create it with `zip -r NAME.zip FOLDER`, or hand in the folder.") from None
    with zf:
        members = zf.infolist()
        if len(members) > MAX_ARCHIVE_FILES:
            raise UnsafeArchiveError(f"{archive.name} holds {len(members)} files (limit {MAX_ARCHIVE_FILES}).",
                                     hint="Hand in only the five notebooks and the job file.")
        total = 0
        for m in members:
            name = m.filename
            parts = PurePosixPath(name.replace("\\", "/")).parts
            if name.startswith(("/", "\\")) or (parts and ":" in parts[0]) or ".." in parts:
                raise UnsafeArchiveError(f"{archive.name}: member {name!r} points outside the archive's folder.",
                                         hint="Re-create the archive from the submission folder with relative paths.")
            mode = m.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise UnsafeArchiveError(f"{archive.name}: member {name!r} is a symbolic link.",
                                         hint="Put the files themselves in the archive, not links.")
            total += m.file_size
            if total > MAX_ARCHIVE_BYTES:
                raise UnsafeArchiveError(f"{archive.name} unpacks to more than {MAX_ARCHIVE_BYTES // 2**20} MB.",
                                         hint="Hand in only the five notebooks and the job file.")
        dest.mkdir(parents=True, exist_ok=False)
        for m in members:
            target = dest.joinpath(*PurePosixPath(m.filename.replace("\\", "/")).parts)
            if not target.resolve().is_relative_to(dest.resolve()):  # belt and braces after the checks above
                raise UnsafeArchiveError(f"{archive.name}: member {m.filename!r} points outside the archive.")
            if m.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(m) as src, open(target, "wb") as out:
                out.write(src.read(MAX_ARCHIVE_BYTES + 1))
    entries = [p for p in dest.iterdir() if p.name not in ("__MACOSX",) and not p.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return dest


def trim_outputs(*, folder: Path, cap: int = MAX_CELL_OUTPUT_BYTES) -> list[str]:
    """Cap each cell's saved outputs in every executed notebook under ``folder``; returns notes on what was cut."""
    notes = []
    for path in sorted(Path(folder).rglob("*.ipynb")):
        try:
            if path.stat().st_size <= cap:
                continue
            nb = nbformat.read(str(path), as_version=4)
        except (OSError, ValueError):
            continue
        changed = False
        for index, cell in enumerate(nb.cells):
            outputs = cell.get("outputs") or []
            size = len(json.dumps(outputs))
            if size <= cap:
                continue
            cell.outputs = _trimmed(outputs, cap=cap, size=size)
            changed = True
            notes.append(f"{path.relative_to(folder)} cell {index + 1}: output trimmed from {size:,} bytes")
        if changed:
            nbformat.write(nb, str(path))
    return notes


def _trimmed(outputs: list, *, cap: int, size: int) -> list:
    """Keep outputs in order until the cap; the stream that crosses it is cut, rich outputs after it dropped."""
    kept = []
    budget = cap
    for out in outputs:
        if out.get("output_type") == "stream":
            text = "".join(out.get("text", ""))
            if len(text) > budget:
                out.text = text[:budget] + _TRIM_NOTE.format(size=size, cap=cap)
                kept.append(out)
                break
            budget -= len(text)
            kept.append(out)
            continue
        weight = len(json.dumps(out))
        if weight > budget:
            kept.append(nbformat.v4.new_output("stream", name="stdout", text=_TRIM_NOTE.format(size=size, cap=cap)))
            break
        budget -= weight
        kept.append(out)
    return kept
