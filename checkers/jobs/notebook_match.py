"""Which local notebook file a task's ``notebook_path`` runs, the way the contract matches them (by stem).

Both the loader (to fill ``LoadedJob.notebook_matches``) and the validator (to explain a path that found
nothing) need the match, with what was searched and what is worth a warning.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from checkers.jobs.bundle import bundle_root
from checkers.notebooks.formats import NOTEBOOK_SUFFIXES, SOURCE_HEADER, SQL_SOURCE_HEADER, find_notebooks_below


@dataclass(frozen=True)
class NotebookMatch:
    """How one task's ``notebook_path`` was matched to a local file."""

    notebook_path: str
    """The path as written in the job (after bundle substitutions)."""
    file: Path | None
    """The local notebook file, or None when none was found."""
    searched: tuple[Path, ...]
    """The files that were looked for, in order (for the 'not found' message)."""
    note: str | None = None
    """A remark worth a warning (both .ipynb and .py exist; a .py without the Databricks header)."""
    suggestion: Path | None = None
    """A file with the same stem elsewhere next to the job file, when the path itself found nothing."""
    outside: Path | None = None
    """The file the path leads to outside the folder the job may run files from (then ``file`` is None)."""



def _is_workspace_path(notebook_path: str) -> bool:
    return notebook_path.startswith("/") or notebook_path.startswith("${")


def stem_of(notebook_path: str) -> str:
    """The notebook name a task path runs: `/Users/me/day07/02_silver` or `../src/02_silver.ipynb` → `02_silver`."""
    name = PurePosixPath(notebook_path.replace("\\", "/")).name
    for suffix in NOTEBOOK_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _note_for(file: Path, others: list[Path]) -> str | None:
    if len(others) > 1:
        return f"both {others[0].name} and {others[1].name} exist; using {file.name}"
    if file.suffix in (".py", ".sql"):
        header = SOURCE_HEADER if file.suffix == ".py" else SQL_SOURCE_HEADER
        try:
            with file.open(encoding="utf-8") as fh:
                first = fh.readline().strip()
        except (OSError, UnicodeDecodeError):
            return None
        if first != header:
            return f"{file.name} does not start with `{header}`, so Databricks treats it as a plain file"
    return None


def match_notebook(*, notebook_path: str, job_path: Path, root: Path | None = None) -> NotebookMatch:
    """Find the local file a ``notebook_path`` runs.

    Relative paths resolve against the job file's folder (bundle semantics); absolute workspace paths have no
    local meaning, so they match ``<stem>.ipynb`` / ``<stem>.py`` in the job file's folder (docs/contract.md).
    With ``root`` (a submission being graded), a file outside it is not matched: a job runs its own notebooks,
    never one it points to elsewhere on the grader's machine (another learner's, the kit's solutions).
    """
    match = _match(notebook_path=notebook_path, job_path=job_path)
    if root is None or match.file is None or _inside(match.file, root):
        return match
    return NotebookMatch(notebook_path, None, match.searched, outside=Path(os.path.normpath(match.file)))


def _inside(file: Path, root: Path) -> bool:
    try:
        return file.resolve().is_relative_to(root.resolve())
    except OSError:
        return False


def _match(*, notebook_path: str, job_path: Path) -> NotebookMatch:
    base = job_path.parent
    stem = stem_of(notebook_path)
    if _is_workspace_path(notebook_path):
        folder = base
    else:
        folder = (base / notebook_path.replace("\\", "/")).parent
    exact = folder / PurePosixPath(notebook_path.replace("\\", "/")).name
    candidates: list[Path] = []
    if exact.suffix.lower() in NOTEBOOK_SUFFIXES and not _is_workspace_path(notebook_path):
        candidates.append(exact)
    candidates += [folder / f"{stem}{suffix}" for suffix in NOTEBOOK_SUFFIXES if folder / f"{stem}{suffix}"
                   not in candidates]
    existing = [c for c in candidates if c.is_file()]
    if existing:
        file = existing[0]
        same_stem = [c for c in existing if c.stem == stem]
        return NotebookMatch(notebook_path, file, tuple(candidates), _note_for(file, same_stem))
    if _is_workspace_path(notebook_path):
        # A workspace path has no local folder: the notebook of that name below the job file's folder (or below
        # its bundle's root, as a bundle's resources/ sits beside src/) is the one it runs.
        root_file = bundle_root(job_path)
        for root in dict.fromkeys([base, *([root_file.parent] if root_file else [])]):
            nearby = find_notebooks_below(root, stem)
            if nearby:
                where = os.path.relpath(nearby[0], base)
                return NotebookMatch(notebook_path, nearby[0], tuple(candidates),
                                     f"{notebook_path} matched {where} by its name")
    suggestion = next((base / f"{stem}{s}" for s in NOTEBOOK_SUFFIXES if (base / f"{stem}{s}").is_file()), None)
    return NotebookMatch(notebook_path, None, tuple(candidates), None, suggestion)


def raw_notebook_path(task: dict[str, Any]) -> tuple[str, str] | None:
    """(notebook_path, its key below the task) of a raw task that runs a notebook: a notebook task, or a
    ``for_each_task`` whose nested task is one (each iteration runs that notebook)."""
    for where, holder in (("", task), ("for_each_task.task.", (task.get("for_each_task") or {}).get("task"))):
        nb = holder.get("notebook_task") if isinstance(holder, dict) else None
        if isinstance(nb, dict) and isinstance(nb.get("notebook_path"), str) and nb["notebook_path"]:
            return nb["notebook_path"], f"{where}notebook_task.notebook_path"
    return None


def match_task_notebooks(*, raw: dict[str, Any], job_path: Path, root: Path | None = None) -> dict[str, NotebookMatch]:
    """task_key → how its notebook path was matched, for the tasks of the raw settings that run a notebook."""
    out: dict[str, NotebookMatch] = {}
    for task in raw.get("tasks") or []:
        if not isinstance(task, dict) or not isinstance(task.get("task_key"), str):
            continue
        found = raw_notebook_path(task)
        if found is not None:
            out.setdefault(task["task_key"], match_notebook(notebook_path=found[0], job_path=job_path, root=root))
    return out

