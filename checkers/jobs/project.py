"""What a project folder holds: the contract's five notebooks (by stem) and its one job definition file.

Grading (which grades a private copy of the folder) and deploy (which imports the notebooks and the job) both find
a project's files through here, so they always agree on what a folder holds. Finding files never fails on a broken
project: what is missing or ambiguous is recorded for the caller to report.

May import ``checkers.errors``, ``checkers.notebooks`` and ``checkers.jobs`` (nothing above the jobs layer).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from checkers.errors import CheckersError, GradingError
from checkers.notebooks.formats import NOTEBOOK_SUFFIXES, find_notebooks_below, folders_below

BUNDLE_DIR = "day07_checks"
"""The folder of the check cells' code next to the notebooks (written by ``day07 lessons build`` and
``day07 start``, imported as workspace files by deploy)."""
NOTEBOOK_STEMS = ("00_widgets", "01_bronze", "02_silver", "03_gold", "04_quality")
"""The contract's notebooks, in the order they are graded (04_quality is the job's data-quality task)."""
TASK_STEMS = ("01_bronze", "02_silver", "03_gold")
"""The notebooks the job runs, in contract order."""
JOB_FILE_NAMES = ("job.yml", "job.yaml", "job.json")
"""Names taken as the job file without looking inside, in this order of preference."""
JOB_SUFFIXES = (".yml", ".yaml", ".json")
_MAX_JOB_FILE_BYTES = 1024 * 1024
"""A job definition is a few kilobytes; a bigger .json below the top is data, not a candidate."""


@dataclass
class Submission:
    """The files of one submission, as found in its (private copy of the) folder."""

    folder: Path
    """The folder searched (the private copy while grading)."""
    notebooks: dict[str, Path | None]
    """Contract stem → notebook file (``.ipynb`` preferred over ``.py``), None when absent."""
    job_file: Path | None = None
    """The job definition file, None when there is none or it is ambiguous."""
    job_problem: str | None = None
    """Why no job file was chosen (none found, several candidates)."""
    notes: list[str] = field(default_factory=list)
    """Remarks worth showing (both ``.ipynb`` and ``.py`` exist, files left out of the copy)."""

    def notebook(self, stem: str) -> Path | None:
        return self.notebooks.get(stem)

    @property
    def missing_notebooks(self) -> list[str]:
        return [stem for stem, path in self.notebooks.items() if path is None]


def find_submission(*, folder: Path) -> Submission:
    """Look for the contract's files in ``folder``: at its top level first (a Databricks Git folder), then below
    it (a bundle's ``src/`` and ``resources/``, a zip's wrapping folder). The notebook the job runs is graded."""
    folder = Path(folder)
    if not folder.is_dir():
        raise GradingError(f"Submission folder {folder} does not exist or is not a folder.",
                           hint="Pass the folder holding your five notebooks and job file.")
    notes: list[str] = []
    job_file, problem = _find_job_file(folder)
    runs = _notebooks_the_job_runs(job_file, folder)
    notebooks: dict[str, Path | None] = {}
    for stem in NOTEBOOK_STEMS:
        found = [folder / f"{stem}{suffix}" for suffix in NOTEBOOK_SUFFIXES if (folder / f"{stem}{suffix}").is_file()]
        if stem in runs:  # what the job runs is what is graded, wherever it sits
            found = [runs[stem], *(f for f in found if f != runs[stem])]
        elif not found:
            found = find_notebooks_below(folder, stem)[:1]
        notebooks[stem] = found[0] if found else None
        if len(found) > 1:
            notes.append(f"both {found[0].name} and {found[1].name} exist; grading {found[0].name}")
        elif found and found[0].parent != folder:
            notes.append(f"{stem}: grading {found[0].relative_to(folder)}")
    return Submission(folder=folder, notebooks=notebooks, job_file=job_file, job_problem=problem, notes=notes)


def _notebooks_the_job_runs(job_file: Path | None, folder: Path) -> dict[str, Path]:
    """Contract stem → the file in ``folder`` the job's task runs (the first task of that stem); {} when the job
    does not load. A path leading out of the submission is not followed."""
    if job_file is None:
        return {}
    from checkers.jobs.load import load_job

    try:
        loaded = load_job(path=job_file)
    except CheckersError:
        return {}
    runs: dict[str, Path] = {}
    for matched in loaded.notebooks.values():
        path = Path(os.path.normpath(matched))  # resources/../src/x.ipynb → src/x.ipynb
        if path.stem in NOTEBOOK_STEMS and path.is_file() and path.is_relative_to(Path(os.path.normpath(folder))):
            runs.setdefault(path.stem, path)
    return runs


def _job_candidates(folder: Path) -> list[Path]:
    """Job-like files below ``folder`` (not at its top), nearest first; big files (data) are not candidates."""
    found: list[tuple[int, str, Path]] = []
    for distance, sub in folders_below(folder):
        try:
            found += [(distance, str(p), p) for p in sub.iterdir() if p.suffix.lower() in JOB_SUFFIXES
                      and _small_file(p)]
        except OSError:
            continue
    return [path for *_, path in sorted(found)]


def _small_file(path: Path) -> bool:
    """A regular file of job-definition size (a link, or a file that vanished, is not a candidate)."""
    try:
        return not path.is_symlink() and path.is_file() and path.stat().st_size <= _MAX_JOB_FILE_BYTES
    except OSError:
        return False


def _find_job_file(folder: Path) -> tuple[Path | None, str | None]:
    named = [folder / name for name in JOB_FILE_NAMES if (folder / name).is_file()]
    if named:
        return named[0], None
    top = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in JOB_SUFFIXES)
    below = _job_candidates(folder)
    if not top and not below:
        return None, (f"no job definition file in {folder.name}/ (looked for {', '.join(JOB_FILE_NAMES)} and any "
                      ".yml/.yaml/.json file)")
    tried: list[Path] = []
    for candidates in (top, [p for p in below if p.name in JOB_FILE_NAMES], below):
        loadable = _loadable(candidates)
        tried += candidates
        if len(loadable) == 1:
            return loadable[0], None
        if loadable:
            names = ", ".join(str(p.relative_to(folder)) for p in loadable)
            return None, f"several files look like job definitions ({names}); keep one, or name it job.yml"
    names = ", ".join(str(p.relative_to(folder)) for p in dict.fromkeys(tried))
    return None, f"none of {names} is a job definition (bundle YAML or Jobs API JSON)"


def _loadable(candidates: list[Path]) -> list[Path]:
    from checkers.jobs.load import load_job

    loadable = []
    for path in candidates:
        try:
            load_job(path=path)
        except CheckersError:
            continue
        loadable.append(path)
    return loadable
