"""In-notebook feedback: the grader's own checks, run on the learner's work and the data the notebook reads.

A lesson's check cell calls ``feedback("silver.dedup")``. That runs the grader's check functions (the ones
``day07 check`` runs) on an :class:`~checkers.grading.checks.evidence.Evidence` built from the learner's live
DataFrames and tables, the runtime's record of widgets and task values, and expectations computed from the raw file
the notebook reads. So a ✅ in the notebook means the grader's check passes on that data.

``day07 lessons build`` copies this package, with the grader modules it runs, to ``day07_checks/`` next to the
lesson notebooks (see :mod:`checkers.authoring.checks_bundle`): the same cells then run on Databricks.
Importing this module is cheap (the standard library only): in a job run a check cell prints one line and does
nothing else.

May import the layers below it (``grading``'s checks and expectations, ``runtime``, ``data``, the foundation);
never ``authoring``, ``workspace`` or ``cli``. What it imports is copied into the bundle, so it must import nothing
but pandas, numpy, pyarrow and pyspark besides the kit.
"""

from __future__ import annotations

import json
from typing import Any

JOB_RUN_NOTE = "skipped in a job run. Run the notebook yourself to see the checks."


def feedback(step: str, namespace: dict[str, Any]) -> None:
    """Print ✅ / ❌ for exercise ``step``, judged on the notebook's variables and tables in ``namespace``.

    Never raises: a check cell must not stop a notebook, least of all in a job.
    """
    try:
        if in_job_run(namespace.get("dbutils")):
            print(f"ℹ️ {step}: {JOB_RUN_NOTE}")
            return
        from checkers.feedback.steps import run_step

        run_step(step, namespace)
    except Exception as exc:  # noqa: BLE001 - feedback must never stop the notebook
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        print(f"⚠️ {step}: the feedback could not run: {type(exc).__name__}: {first}")


def in_job_run(dbutils: Any) -> bool:
    """Whether this notebook runs as a job task, as Databricks tells it: the notebook context has a job id.

    ``dbutils.notebook.entry_point.getDbutils().notebook().getContext()`` is tried through ``safeToJson()`` (the form
    shared and serverless compute allow), then ``tags().get("jobId")``, then ``jobId()``. Interactively none has one.
    """
    try:
        context = dbutils.notebook.entry_point.getDbutils().notebook().getContext()
    except Exception:  # noqa: BLE001 - no context (a plain Python session): not a job
        return False
    try:
        attributes = json.loads(context.safeToJson()).get("attributes", {})
        if attributes.get("jobId") or attributes.get("multitaskParentRunId"):
            return True
    except Exception:  # noqa: BLE001 - try the next form
        pass
    for getter in (lambda: context.tags().get("jobId"), lambda: context.jobId()):
        try:
            option = getter()
            if option.isDefined() and str(option.get()):
                return True
        except Exception:  # noqa: BLE001 - try the next form
            continue
    return False


__all__ = ["JOB_RUN_NOTE", "feedback", "in_job_run"]
