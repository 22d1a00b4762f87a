"""Write a loaded job back out as bundle YAML or Jobs API create JSON (``day07 job export``, the deploy plan).

Export is apart from loading: it only reads a :class:`~checkers.jobs.load.LoadedJob` and makes the file
readable (key order, notebook paths for where the file will live, permissions in the target's words).
"""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import yaml

from checkers.errors import JobDefinitionError
from checkers.jobs.load import LoadedJob
from checkers.jobs.sdk_fields import BUNDLE_ONLY_JOB_KEYS

_JOB_ORDER = ("name", "description", "tags", "max_concurrent_runs", "timeout_seconds", "parameters",
              "schedule", "trigger", "email_notifications", "webhook_notifications", "notification_settings",
              "tasks")
_TASK_ORDER = ("task_key", "description", "depends_on", "run_if", "condition_task", "notebook_task",
               "max_retries", "min_retry_interval_millis", "retry_on_timeout", "timeout_seconds",
               "email_notifications", "disabled")


#: Keys that read best first wherever they appear (the SDK's ``as_dict`` sorts alphabetically).
_LEADING_KEYS = ("task_key", "name", "quartz_cron_expression", "left", "op", "right", "notebook_path")


def _ordered(d: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    first = {k: d[k] for k in order if k in d}
    return {**first, **{k: v for k, v in d.items() if k not in first}}


def _tidy(value: Any) -> Any:
    """Readable key order at every level, for people who diff or edit the export."""
    if isinstance(value, dict):
        return {k: _tidy(v) for k, v in _ordered(value, _LEADING_KEYS).items()}
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    return value


def export_job(job: LoadedJob, *, to: Literal["yaml", "json"], relative_to: Path | None = None,
               workspace_dir: str | None = None) -> str:
    """Write the job out as bundle YAML (notebook paths relative to ``relative_to``) or create JSON.

    ``relative_to`` is the folder the YAML will live in (default: the job file's folder). JSON carries
    absolute workspace paths ``<workspace_dir>/<stem>`` (default ``/Workspace/Shared/<job_key>``); both
    load back to the same settings and notebook files.
    """
    settings = job.settings.as_dict()
    local_files = job.notebooks
    for task in settings.get("tasks", []):
        file = local_files.get(task.get("task_key", ""))
        nb = task.get("notebook_task") or ((task.get("for_each_task") or {}).get("task") or {}).get("notebook_task")
        if nb is None or file is None:
            continue
        if to == "yaml":
            rel = os.path.relpath(file.resolve(), Path(relative_to or job.base_dir).resolve())
            rel_posix = PurePosixPath(*Path(rel).parts).as_posix()
            nb["notebook_path"] = rel_posix if rel_posix.startswith("..") else f"./{rel_posix}"
            if nb.get("source") == "WORKSPACE":
                del nb["source"]  # the path now points into the bundle, not at a workspace object
        else:
            folder = (workspace_dir or f"/Workspace/Shared/{job.job_key}").rstrip("/")
            nb["notebook_path"] = f"{folder}/{file.stem}"
    settings["tasks"] = [_ordered(_tidy(t), _TASK_ORDER) for t in settings.get("tasks", [])]
    settings = _ordered({k: _tidy(v) for k, v in settings.items()}, _JOB_ORDER)
    if not settings["tasks"]:
        del settings["tasks"]
    if to == "yaml":
        if job.shape == "bundle":
            settings.update({k: job.raw[k] for k in BUNDLE_ONLY_JOB_KEYS if k in job.raw})
        elif isinstance(job.raw.get("access_control_list"), list):
            settings["permissions"] = [
                {("level" if k == "permission_level" else k): v for k, v in entry.items()}
                for entry in job.raw["access_control_list"] if isinstance(entry, dict)]
        bundle = {"bundle": {"name": job.job_key}, "resources": {"jobs": {job.job_key: settings}}}
        return yaml.safe_dump(bundle, sort_keys=False, allow_unicode=True, width=100)
    if to == "json":
        if job.shape == "create" and isinstance(job.raw.get("access_control_list"), list):
            settings["access_control_list"] = job.raw["access_control_list"]
        elif isinstance(job.raw.get("permissions"), list):
            settings["access_control_list"] = [
                {("permission_level" if k == "level" else k): v for k, v in entry.items()}
                for entry in job.raw["permissions"] if isinstance(entry, dict)]
        return json.dumps(settings, indent=2, ensure_ascii=False) + "\n"
    raise JobDefinitionError(f"cannot export to {to!r}.", path=job.path, hint="Use yaml or json.")
