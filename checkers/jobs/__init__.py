"""Databricks job definitions: load them, check them, preview their schedule, resolve their references.

Nothing here runs a job; the runner builds on these modules.
"""

from checkers.jobs.load import LoadedJob, NotebookMatch, export_job, load_job
from checkers.jobs.refs import Ref, RefContext, RefError, find_refs, resolve
from checkers.jobs.schedule import CronError, describe, fires_daily_at, min_interval, next_fire_times
from checkers.jobs.validate import Finding, load_valid_job, raise_for_errors, validate_job

__all__ = [
    "CronError", "Finding", "LoadedJob", "NotebookMatch", "Ref", "RefContext", "RefError", "describe",
    "export_job", "find_refs", "fires_daily_at", "load_job", "load_valid_job", "min_interval",
    "next_fire_times", "raise_for_errors", "resolve", "validate_job",
]
