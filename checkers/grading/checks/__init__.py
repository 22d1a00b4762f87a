"""The grader's checks: one module per contract group, a registry that lists and runs them.

Each check is a function of one :class:`Evidence` (tables read by the grader, the run record, the runtime
records, the expectations); :func:`catalogue` lists them with id, group, points, title, hint and
prerequisites — the docs generator renders that list as the checks page.

Part of :mod:`checkers.grading`. The modules the lessons' feedback needs are copied into ``day07_checks``, so
what they import when they run is limited to the kit's lower layers and pandas, numpy, pyarrow, pyspark. Nothing
here imports the grading flow (``grade``, ``runs``, ``quality_run``): those import the checks.
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
from checkers.grading.expect import Expectations


def precompute(exp: Expectations) -> Expectations:
    """Do the checks' work that needs only the unseen data now (while the job runs), not after the job."""
    from checkers.grading.checks.bronze import canonical_raw
    from checkers.grading.checks.silver_match import fates_of

    fates_of(exp)
    for as_time in (False, True):
        canonical_raw(exp, time_as_timestamp=as_time)
    return exp


def all_checks() -> list[CheckSpec]:
    """The checks catalogue (what ``checkers.authoring.checks_page`` renders as the checks page)."""
    return catalogue()


__all__ = [
    "DOCS_BASE_URL", "GROUPS", "CellError", "CheckSpec", "Evidence", "JobEvidence", "NotebookRun", "Outcome",
    "PipelineRun", "TableSnapshot", "TaskState", "all_checks", "catalogue", "max_score", "precompute", "run_checks",
    "snapshot_frame", "snapshot_table", "snapshot_tables", "spec",
]
