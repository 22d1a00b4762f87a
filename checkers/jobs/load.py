"""Read a job definition (bundle YAML, Jobs API create JSON, ``jobs get`` JSON) into the SDK's ``JobSettings``.

The loader keeps the raw settings next to the SDK object because ``from_dict`` silently drops keys it does
not know; :mod:`checkers.jobs.validate` walks the raw dict to report them. It also maps every notebook task
to the local notebook file it runs (:mod:`checkers.jobs.notebook_match`). Parsing the file, the bundle's
variables and the SDK's field reflection each have a module of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from databricks.sdk.service import jobs

from checkers.errors import JobDefinitionError
from checkers.jobs.bundle import UnresolvedVariable, bundle_job
from checkers.jobs.notebook_match import NotebookMatch, match_task_notebooks
from checkers.jobs.parse import parse_job_file
from checkers.jobs.schema import schema_findings
from checkers.jobs.sdk_fields import JobShape, sdk_fields


@dataclass
class LoadedJob:
    """A job definition as read from a file: the SDK settings plus what a strict checker needs."""

    path: Path
    """The job file."""
    shape: JobShape
    """Which export shape the file has: bundle YAML, create payload or ``jobs get`` output."""
    job_key: str
    """The bundle's resource key; for JSON shapes a key derived from the job name (or the file stem)."""
    settings: jobs.JobSettings
    """The settings as the SDK reads them (unknown keys dropped, as on Databricks' client side)."""
    raw: dict[str, Any]
    """The settings dict as written, after bundle substitutions: what strict checks walk."""
    document: dict[str, Any]
    """The whole parsed file (the ``jobs get`` wrapper, the bundle with its ``variables``)."""
    notebook_matches: dict[str, NotebookMatch] = field(default_factory=dict)
    """task_key → how its notebook path was matched (notebook tasks only)."""
    job_id: int | None = None
    """``job_id`` from ``jobs get`` output."""
    variables: dict[str, Any] = field(default_factory=dict)
    """Bundle variable values used for ``${var.*}`` substitution."""
    unresolved: list[UnresolvedVariable] = field(default_factory=list)
    """Bundle substitutions that stayed unresolved (reported by the validator)."""
    root: Path | None = None
    """The folder the job may run notebooks from (a submission being graded); None: anywhere."""

    @property
    def base_dir(self) -> Path:
        """Folder relative notebook paths are resolved against (the job file's folder)."""
        return self.path.parent

    @property
    def notebooks(self) -> dict[str, Path]:
        """task_key → local notebook file, for the tasks whose notebook was found."""
        return {key: m.file for key, m in self.notebook_matches.items() if m.file is not None}

    @property
    def tasks(self) -> dict[str, jobs.Task]:
        """task_key → SDK task (the first one when a key is duplicated)."""
        out: dict[str, jobs.Task] = {}
        for task in self.settings.tasks or []:
            out.setdefault(task.task_key, task)
        return out

    @property
    def name(self) -> str:
        """The job's display name (falls back to the key)."""
        return self.settings.name or self.job_key


def _slug(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z_]+", "_", text).strip("_").lower()


def _shape_of(path: Path, document: dict[str, Any]) -> JobShape:
    if "resources" in document:
        return "bundle"
    if isinstance(document.get("settings"), dict):
        return "get"
    if any(key in sdk_fields(jobs.JobSettings) for key in document):
        return "create"
    raise JobDefinitionError(
        "does not look like a job definition.", path=path,
        hint="Expected `resources: jobs: <key>:` (bundle YAML), `{\"job_id\": …, \"settings\": {…}}` (jobs get "
             "JSON) or job settings such as `name` and `tasks` at the top (Jobs API create JSON).")


def _settings_from_dict(path: Path, raw: dict[str, Any], shape: JobShape) -> jobs.JobSettings:
    try:
        return jobs.JobSettings.from_dict(raw)
    except (AttributeError, TypeError, ValueError, KeyError) as exc:
        # from_dict assumes the right JSON types; report the type problems the validator sees instead
        problems = [f for f in schema_findings(raw, shape=shape) if f.level == "error"]
        lines = [f.describe() for f in problems] or [f"{type(exc).__name__}: {exc}"]
        hint = problems[0].hint if len(problems) == 1 and problems[0].hint else (
            "Compare with the Jobs API reference: lists, mappings and text in the places shown.")
        raise JobDefinitionError("the settings do not have the Jobs API shape:\n  " + "\n  ".join(lines),
                                 path=path, findings=problems, hint=hint) from None


def load_job(*, path: Path, job_key: str | None = None, root: Path | None = None) -> LoadedJob:
    """Load a job definition file; raise :class:`JobDefinitionError` when it cannot be read at all.

    A file that parses but breaks rules (typo keys, cycles, missing notebooks) loads fine: call
    :func:`checkers.jobs.validate.validate_job` for those. With ``root``, a notebook outside that folder is not
    found (the validator says where the path led).
    """
    path = Path(path)
    document = parse_job_file(path=path)
    shape = _shape_of(path, document)
    job_id: int | None = None
    variables: dict[str, Any] = {}
    unresolved: list[UnresolvedVariable] = []
    if shape == "bundle":
        bundle = bundle_job(path=path, document=document, job_key=job_key)
        key, raw, variables, unresolved = bundle.job_key, bundle.raw, bundle.variables, bundle.unresolved
    else:
        if job_key is not None:
            raise JobDefinitionError(f"--job {job_key} only applies to bundles; this is Jobs API JSON.",
                                     path=path, hint="Drop the job key for a JSON job file.")
        if shape == "get":
            raw = document["settings"]
            raw_id = document.get("job_id")
            if isinstance(raw_id, int) and not isinstance(raw_id, bool):
                job_id = raw_id
            elif isinstance(raw_id, str) and raw_id.isdigit():
                job_id = int(raw_id)
        else:
            raw = document
        name = raw.get("name")
        key = _slug(name) if isinstance(name, str) and _slug(name) else (
            f"job_{job_id}" if job_id is not None else _slug(path.stem) or "job")
    settings = _settings_from_dict(path, raw, shape)
    return LoadedJob(path=path, shape=shape, job_key=key, settings=settings, raw=raw, document=document,
                     notebook_matches=match_task_notebooks(raw=raw, job_path=path, root=root), job_id=job_id,
                     variables=variables, unresolved=unresolved, root=root)

