"""The grader's checks: one module per contract group, a registry that lists and runs them.

Each check is a function of one :class:`Evidence` (tables read by the grader, the run record, the runtime
records, the expectations); :func:`catalogue` lists them with id, group, points, title, hint and
prerequisites — the docs generator renders that list as the checks page.
"""

from checkers.grading.checks.evidence import (
    CellError,
    Evidence,
    JobEvidence,
    NotebookRun,
    PipelineRun,
    TableSnapshot,
    TaskState,
    snapshot_frame,
    snapshot_table,
    snapshot_tables,
)
from checkers.grading.checks.registry import (
    DOCS_BASE_URL,
    GROUPS,
    CheckSpec,
    Outcome,
    catalogue,
    max_score,
    run_checks,
    spec,
)


def all_checks() -> list[CheckSpec]:
    """The checks catalogue (what ``checkers.docs_build`` renders as the checks page)."""
    return catalogue()


__all__ = [
    "DOCS_BASE_URL", "GROUPS", "CellError", "CheckSpec", "Evidence", "JobEvidence", "NotebookRun", "Outcome",
    "PipelineRun", "TableSnapshot", "TaskState", "all_checks", "catalogue", "max_score", "run_checks", "snapshot_frame",
    "snapshot_table", "snapshot_tables", "spec",
]
