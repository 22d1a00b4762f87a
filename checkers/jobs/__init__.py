"""Databricks jobs, locally: load a job definition, check it, preview its schedule, resolve its references,
run it task by task and repair a failed run.

Loading: ``parse`` (file → dict), ``bundle`` (bundle variables), ``sdk_fields`` (the SDK's shape),
``notebook_match``, ``load``, ``export``. Checking: ``findings``, ``schema``, ``task_graph``, ``ref_checks``,
``validate``. Running: ``plan``, ``rules`` (pure run_if/condition/retry rules), ``runner`` (threads, kernels),
``run`` (runs and repairs), ``events``, ``record``, ``live``. Also ``refs`` and ``schedule``.

May import: the foundation modules (``checkers.errors``, ``checkers.config``, ``checkers.files``),
``checkers.spark``, ``checkers.runtime`` and ``checkers.notebooks``; nothing above (grading, deploy, feedback,
authoring, cli). No module here imports another in a circle.
"""

from checkers.jobs.export import export_job
from checkers.jobs.findings import Finding
from checkers.jobs.load import LoadedJob, load_job
from checkers.jobs.notebook_match import NotebookMatch
from checkers.jobs.refs import Ref, RefContext, RefError, find_refs, resolve
from checkers.jobs.schedule import CronError, describe, fires_daily_at, min_interval, next_fire_times
from checkers.jobs.validate import load_valid_job, raise_for_errors, validate_job

__all__ = [
    "CronError", "Finding", "LoadedJob", "NotebookMatch", "Ref", "RefContext", "RefError", "describe",
    "export_job", "find_refs", "fires_daily_at", "load_job", "load_valid_job", "min_interval",
    "next_fire_times", "raise_for_errors", "resolve", "validate_job",
]
