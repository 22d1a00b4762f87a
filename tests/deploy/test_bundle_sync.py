"""The root ``databricks.yml`` deploys the same job as ``solutions/job.yml``, for users of the Databricks CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from checkers.config import PROJECT_ROOT
from checkers.jobs.findings import errors
from checkers.jobs.load import LoadedJob, load_job
from checkers.jobs.validate import validate_job

BUNDLE = PROJECT_ROOT / "databricks.yml"
SOLUTION_JOB = PROJECT_ROOT / "solutions" / "job.yml"


def _bundle() -> dict[str, Any]:
    data = yaml.safe_load(BUNDLE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _job_sources(bundle: dict[str, Any]) -> dict[str, list[Path]]:
    """job key → the bundle files that define it (databricks.yml itself and every file `include` matches)."""
    files = [BUNDLE]
    for pattern in bundle.get("include") or []:
        matched = sorted(PROJECT_ROOT.glob(pattern))
        assert matched, f"include pattern {pattern!r} matches no file"
        files += matched
    found: dict[str, list[Path]] = {}
    for file in files:
        doc = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        for key in ((doc.get("resources") or {}).get("jobs") or {}):
            found.setdefault(key, []).append(file)
    return found


def _comparable(job: LoadedJob) -> dict[str, Any]:
    """The settings with each notebook path replaced by the local file it resolves to."""
    settings = job.settings.as_dict()
    for task in settings.get("tasks", []):
        if "notebook_task" in task:
            task["notebook_task"]["notebook_path"] = str(job.notebooks[task["task_key"]].resolve())
    return settings


def test_the_bundle_defines_the_solution_job_once_and_identically() -> None:
    bundle = _bundle()
    solution = load_job(path=SOLUTION_JOB)
    sources = _job_sources(bundle)
    assert list(sources) == [solution.job_key]
    (source,) = sources[solution.job_key]
    deployed = load_job(path=source, job_key=solution.job_key)
    assert errors(validate_job(deployed)) == []
    assert _comparable(deployed) == _comparable(solution)  # tasks, dependencies, parameters, schedule, ...
    assert set(solution.notebooks) == {"bronze", "silver", "quality", "gold"}


def test_the_bundle_has_a_name_a_dev_target_and_uploads_the_notebooks_the_job_runs() -> None:
    bundle = _bundle()
    assert bundle["bundle"]["name"]
    dev = bundle["targets"]["dev"]
    assert dev.get("default") is True and dev["workspace"]["root_path"]
    synced = [(PROJECT_ROOT / p).resolve() for p in (bundle.get("sync") or {}).get("paths") or ["."]]
    for file in load_job(path=SOLUTION_JOB).notebooks.values():
        assert any(file.resolve().is_relative_to(root) for root in synced), f"{file} is not uploaded"
