"""The local runner's rules, as pure functions: run_if, condition tasks, retries and timeouts, the job result.

They are apart from the process handling (:mod:`checkers.jobs.runner`) so each rule reads, and is tested,
without kernels or threads. The rules follow Databricks, with these sources:

- "Configure task dependencies" (``jobs/run-if``): ALL_SUCCESS, AT_LEAST_ONE_SUCCESS and NONE_FAILED mark
  the task *Upstream failed* when not met; AT_LEAST_ONE_FAILED and ALL_FAILED mark it *Excluded*;
  "Excluded tasks are skipped and are treated as successful"; "If all task dependencies are excluded, the
  task is also excluded, regardless of its Run if condition"; "If a task run is canceled, the cancellation
  propagates to downstream tasks, and tasks with Run if conditions that handle failures will run".
  NONE_FAILED is "none of the dependencies have failed and at least one was executed" (Jobs API RunIf).
- "How does Databricks determine job run status?": SUCCESS when all tasks succeeded, SUCCESS_WITH_FAILURES
  when some failed but every leaf (a task nothing depends on) succeeded, FAILED when a leaf failed.
- "Disabled tasks in Lakeflow Jobs" (``jobs/disabled-tasks``): a disabled task ends DISABLED; "if a
  downstream task's Run if condition can't be met because one or more parent tasks are disabled", the
  downstream task is DISABLED too. Per run_if: ALL_SUCCESS does not run (a disabled parent does not satisfy
  "succeeded"); AT_LEAST_ONE_SUCCESS runs if another parent succeeded; NONE_FAILED runs if at least one
  parent completed without failure (``A (disabled), C (skipped) → B runs``), not when all are disabled;
  ALL_DONE runs (disabled counts as done); AT_LEAST_ONE_FAILED runs if another parent failed; ALL_FAILED
  does not run (a disabled parent is not a failure). "Because a parent is disabled" is read here as: the
  condition is unmet, but would be met had the disabled parents succeeded.
- "Add branching logic with the If/else condition task": ``==``/``!=`` compare text ("12.0 == 12" is
  false), ``>``, ``>=``, ``<``, ``<=`` compare numbers ("12.0 >= 12" is true). A task depending on a
  condition task with an ``outcome`` runs on that branch only; for it the other branch is EXCLUDED.
- Retries (Jobs API ``Task``): a failed attempt is retried up to ``max_retries`` times, waiting
  ``min_retry_interval_millis`` first; a timed-out one only with ``retry_on_timeout`` (default false).
  ``max_retries: -1`` (retry forever) is capped at :data:`FOREVER_RETRIES_CAP` retries here, and the record
  says so. ``timeout_seconds`` on a task stops that attempt (TIMEDOUT); on the job, it stops the whole run:
  tasks running then end TIMEDOUT, tasks not started end CANCELED, and the run's result is TIMEDOUT.
- Condition tasks are evaluated once: a retry could not change their result.
- Repair ("Repair an unsuccessful job run", Jobs API ``runs/repair``): re-run the unsuccessful tasks and
  their dependents with the *current* job settings, keep the successful ones (and their task values),
  record it in the same run, and increase ``{{job.repair_count}}``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from databricks.sdk.service import jobs

from checkers.jobs.record import (
    CANCELED,
    DISABLED,
    EXCLUDED,
    FAILED,
    SUCCESS,
    SUCCESS_WITH_FAILURES,
    TIMEDOUT,
    UPSTREAM_CANCELED,
    UPSTREAM_FAILED,
)

FOREVER_RETRIES_CAP = 5
"""``max_retries: -1`` means "retry forever" on Databricks; a local run stops after this many retries."""

RUN_IF_VALUES = ("ALL_SUCCESS", "AT_LEAST_ONE_SUCCESS", "NONE_FAILED", "ALL_DONE", "AT_LEAST_ONE_FAILED",
                 "ALL_FAILED")
#: run_if values whose unmet condition means EXCLUDED (the others mean UPSTREAM_FAILED).
FAILURE_HANDLING = ("AT_LEAST_ONE_FAILED", "ALL_FAILED")

SUCCEEDED = frozenset({SUCCESS, EXCLUDED})
"""Results that count as success for a dependent (excluded tasks are treated as successful)."""
FAILED_LIKE = frozenset({FAILED, TIMEDOUT, UPSTREAM_FAILED})
"""Results that count as a failure and make an unmet dependent UPSTREAM_FAILED."""
CANCELED_LIKE = frozenset({CANCELED, UPSTREAM_CANCELED})
"""Canceled results: failures for failure-handling run_if values; an unmet dependent is UPSTREAM_CANCELED."""
UNSUCCESSFUL = FAILED_LIKE | CANCELED_LIKE
"""Results that make a job SUCCESS_WITH_FAILURES, or FAILED when a leaf has one."""

NUMERIC_OPS = {
    "GREATER_THAN": (">", lambda a, b: a > b),
    "GREATER_THAN_OR_EQUAL": (">=", lambda a, b: a >= b),
    "LESS_THAN": ("<", lambda a, b: a < b),
    "LESS_THAN_OR_EQUAL": ("<=", lambda a, b: a <= b),
}
TEXT_OPS = {"EQUAL_TO": ("==", lambda a, b: a == b), "NOT_EQUAL": ("!=", lambda a, b: a != b)}


def _met(run_if: str, states: Sequence[str]) -> bool:
    succeeded = [s in SUCCEEDED for s in states]
    failed = [s in UNSUCCESSFUL for s in states]
    if run_if == "ALL_SUCCESS":
        return all(succeeded)
    if run_if == "AT_LEAST_ONE_SUCCESS":
        return any(succeeded)
    if run_if == "NONE_FAILED":
        return not any(failed) and any(s != DISABLED for s in states)
    if run_if == "ALL_DONE":
        return True
    if run_if == "AT_LEAST_ONE_FAILED":
        return any(failed)
    if run_if == "ALL_FAILED":
        return all(failed)
    raise ValueError(f"unknown run_if {run_if!r}; expected one of {', '.join(RUN_IF_VALUES)}")


def run_if_decision(run_if: str | None, upstream: Sequence[str]) -> str | None:
    """None when the task runs; otherwise the state it ends in without running.

    ``upstream`` holds each dependency's result as this task sees it (see :func:`dependency_state`).
    A task without dependencies always runs.
    """
    run_if = run_if or "ALL_SUCCESS"
    if not upstream:
        return None
    if all(s == EXCLUDED for s in upstream):
        return EXCLUDED
    if _met(run_if, upstream):
        return None
    if DISABLED in upstream and _met(run_if, [SUCCESS if s == DISABLED else s for s in upstream]):
        return DISABLED
    if run_if in FAILURE_HANDLING:
        return EXCLUDED
    if not any(s in FAILED_LIKE for s in upstream) and any(s in CANCELED_LIKE for s in upstream):
        return UPSTREAM_CANCELED
    return UPSTREAM_FAILED


def dependency_state(result_state: str, *, outcome_wanted: str | None, outcome: str | None) -> str:
    """An upstream result as one dependent sees it: a condition branch not taken is EXCLUDED for it."""
    if outcome_wanted is not None and result_state == SUCCESS and outcome is not None and outcome != outcome_wanted:
        return EXCLUDED
    return result_state


def unmet_reason(run_if: str | None, upstream: dict[str, str], state: str) -> str:
    """One line saying why a task was skipped, naming the upstream results that decided it."""
    run_if = run_if or "ALL_SUCCESS"
    shown = ", ".join(f"{k} {v}" for k, v in upstream.items())
    if state == EXCLUDED and all(s == EXCLUDED for s in upstream.values()):
        return f"every dependency was excluded ({shown}), so this task is excluded too"
    if state == DISABLED:
        return f"run_if {run_if} cannot be met because a dependency is disabled ({shown})"
    return f"run_if {run_if} not met ({shown})"


class ConditionError(ValueError):
    """A condition task cannot be evaluated (an operand that is not a number for a numeric op)."""


def _number(text: str, side: str, op: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ConditionError(f"`{side}` is {text!r}, which is not a number; {op} compares numbers.") from None
    if math.isnan(value):
        raise ConditionError(f"`{side}` is {text!r}, which is not a number; {op} compares numbers.")
    return value


def evaluate_condition(op: str, left: str, right: str) -> tuple[bool, str]:
    """(outcome, text shown to the learner); raises :class:`ConditionError` for unparsable numbers."""
    if op in TEXT_OPS:
        symbol, fn = TEXT_OPS[op]
        outcome = fn(left, right)
        return outcome, f"{left!r} {symbol} {right!r} is {str(outcome).lower()} ({op}, text comparison)"
    if op in NUMERIC_OPS:
        symbol, fn = NUMERIC_OPS[op]
        outcome = fn(_number(left, "left", op), _number(right, "right", op))
        return outcome, f"{left} {symbol} {right} is {str(outcome).lower()} ({op}, numeric comparison)"
    raise ConditionError(f"unknown condition op {op!r}; use one of {', '.join([*TEXT_OPS, *NUMERIC_OPS])}.")


def job_result(states: dict[str, str | None], leaves: Iterable[str]) -> str:
    """SUCCESS, SUCCESS_WITH_FAILURES or FAILED from the task results and the leaf tasks."""
    if any(states.get(leaf) in UNSUCCESSFUL or states.get(leaf) is None for leaf in leaves):
        return FAILED
    if any(s in UNSUCCESSFUL for s in states.values()):
        return SUCCESS_WITH_FAILURES
    return SUCCESS


def result_message(states: dict[str, str | None], leaves: list[str], result: str) -> str:
    """The run's one-line message for its result: which tasks, and which leaves, did not succeed."""
    bad = [f"{k} {s}" for k, s in states.items() if s in UNSUCCESSFUL]
    if result == SUCCESS:
        return f"all {len(states)} tasks succeeded (or were skipped as success)"
    failed_leaves = [k for k in leaves if states.get(k) in UNSUCCESSFUL]
    if result == SUCCESS_WITH_FAILURES:
        return f"every leaf task succeeded, but not every task: {', '.join(bad)}"
    return f"leaf task{'s' if len(failed_leaves) != 1 else ''} {', '.join(failed_leaves)} did not succeed " \
           f"({', '.join(bad)})"



# --------------------------------------------------------------------------------------------- retries, timeouts


@dataclass(frozen=True)
class RetryPolicy:
    """How a task's failed attempts are retried here."""

    retries: int
    """Retries after the first attempt (``max_retries``, with -1 capped at :data:`FOREVER_RETRIES_CAP`)."""
    interval: float
    """Seconds to wait before each retry."""
    notes: tuple[str, ...]
    """What differs from Databricks (a capped count or interval), for the task's record."""


def retry_policy(task: jobs.Task, *, max_retry_interval: float | None) -> RetryPolicy:
    """The task's retry settings as the local run applies them (``max_retry_interval`` caps the wait)."""
    notes: list[str] = []
    retries = task.max_retries or 0
    if retries < 0:
        retries = FOREVER_RETRIES_CAP
        notes.append(f"max_retries -1 (retry forever) is capped at {FOREVER_RETRIES_CAP} retries when running "
                     "locally")
    interval = max(0, task.min_retry_interval_millis or 0) / 1000
    if max_retry_interval is not None and interval > max_retry_interval:
        interval = max_retry_interval
        notes.append(f"min_retry_interval_millis is capped at {max_retry_interval:g} s here "
                     "(the grader does not wait minutes between retries)")
    return RetryPolicy(retries=retries, interval=interval, notes=tuple(notes))


def after_attempt(*, state: str, message: str, retriable: bool, execution: int, retries: int,
                  retry_on_timeout: bool, timed_out: bool) -> tuple[str, str] | None:
    """The task's final (state, message) after attempt ``execution``, or None when it is retried.

    ``retriable`` is False for a failure a retry cannot fix (the notebook cannot start); ``timed_out`` says
    the job run reached its own timeout, which ends the task whatever its retries.
    """
    if state == TIMEDOUT:
        retriable = retriable and retry_on_timeout and not timed_out
    if state == SUCCESS or not retriable or timed_out or execution > retries:
        if state != SUCCESS and retriable and execution > retries and retries > 0:
            message += f" (gave up after {execution} attempts)"
        return state, message
    return None


def attempt_time_limit(*, task_timeout: int | None, job_remaining: float | None) -> tuple[float | None, bool]:
    """Seconds an attempt may run (None: no limit), and whether the job's deadline rather than the task's
    ``timeout_seconds`` sets it. ``job_remaining``: seconds left before the job's timeout, if it has one."""
    limit = float(task_timeout) if task_timeout else None
    job_bound = False
    if job_remaining is not None and (limit is None or job_remaining < limit):
        limit, job_bound = job_remaining, True
    return limit, job_bound


def attempt_result(*, status: str, message: str, duration: float, task_timeout: int | None,
                   job_stopped: bool, job_timeout: int | None) -> tuple[str, str]:
    """(state, message) of a notebook attempt from the executor's status; a timeout names the limit that
    stopped it (``job_stopped``: the job's ``timeout_seconds``, else the task's)."""
    if status == "success":
        return SUCCESS, message
    if status != "timeout":
        return FAILED, message
    if job_stopped:
        return TIMEDOUT, f"stopped: the job run reached its timeout_seconds ({job_timeout} s) — {message}"
    if task_timeout and duration >= task_timeout - 1:
        return TIMEDOUT, f"timed out after {task_timeout} s (the task's timeout_seconds) — {message}"
    return TIMEDOUT, message
