"""Run a submission: its own job with the local runner, or its notebooks directly in contract order, and
``00_widgets`` twice; translate what ran into the checks' :class:`NotebookRun` / :class:`PipelineRun` evidence.

Nothing here raises for the submission's sake: whatever cannot run becomes a run saying why.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from checkers.errors import CheckersError
from checkers.grading.checks import (
    CellError,
    JobEvidence,
    NotebookRun,
    PipelineRun,
    TaskState,
)
from checkers.grading.checks.evidence import RunStatus
from checkers.grading.checks.job import structure
from checkers.grading.declared import WrittenDecl, written_declarations
from checkers.grading.job_evidence import job_notes
from checkers.grading.options import GRADING_MAX_RETRY_INTERVAL
from checkers.jobs.project import TASK_STEMS, Submission

_PENDING_STATES: dict[str, RunStatus] = {"SUCCESS": "success", "FAILED": "failed", "TIMEDOUT": "timeout"}


def read_sources(submission: Submission) -> tuple[dict[str, str], dict[str, list[WrittenDecl]]]:
    """Read every notebook once, before any of the submission's code runs.

    Returns why each unreadable notebook cannot be read (contract stem → reason), and the widget declarations
    each readable one writes in its source (for the cross-check with what the runtime reports).
    """
    from checkers.notebooks.formats import read_notebook

    unreadable: dict[str, str] = {}
    written: dict[str, list[WrittenDecl]] = {}
    for stem, path in submission.notebooks.items():
        if path is None:
            continue
        try:
            nb = read_notebook(path)
        except CheckersError as exc:
            unreadable[stem] = exc.message.removeprefix(f"{path}: ")
            continue
        written[stem] = written_declarations(nb.cells)
    return unreadable, written


def _from_result(stem: str, result: Any, *, task_key: str | None = None) -> NotebookRun:
    """An executor :class:`NotebookResult` → :class:`NotebookRun`."""
    error = None
    if result.failure is not None:
        error = CellError(ename=result.failure.ename, evalue=result.failure.evalue,
                          cell=result.failure.cell_number)
    return NotebookRun(stem=stem, status=result.status, message=result.message, task_key=task_key,
                       result_state="SUCCESS" if result.ok else "FAILED", error=error, record=result.record,
                       executed=result.output_path)


def _unavailable(stem: str, submission: Submission, unreadable: dict[str, str]) -> NotebookRun | None:
    if submission.notebook(stem) is None:
        return NotebookRun(stem=stem, status="missing", message=f"{stem}.ipynb (or .py, .sql) is not in the submission")
    if stem in unreadable:
        return NotebookRun(stem=stem, status="unreadable", message=unreadable[stem])
    return None


def run_layers_directly(*, submission: Submission, unreadable: dict[str, str], parameters: dict[str, str],
                        out_dir: Path, env: dict[str, str], stems: tuple[str, ...] = TASK_STEMS,
                        task_values: dict[str, dict[str, Any]] | None = None, task_keys: dict[str, str] | None = None,
                        cell_timeout: float | None = None,
                        skip_kit_checks: bool = False) -> tuple[list[TaskState], dict[str, NotebookRun]]:
    """Run ``stems`` in contract order with the job's values, as the job would; stop at the first failure.

    ``task_values`` are the values earlier tasks set (by task key) and ``task_keys`` the task key each stem has in
    the learner's job, so ``taskValues.get`` finds what it would find in the job.
    """
    from checkers.notebooks.execute import execute_notebook

    keys = dict(task_keys or {})
    values: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (task_values or {}).items()}
    runs: dict[str, NotebookRun] = {}
    tasks: list[TaskState] = []
    blocked: str | None = None
    for index, stem in enumerate(stems):
        previous = stems[index - 1] if index else None
        key = keys.get(stem, stem)
        run = _unavailable(stem, submission, unreadable)
        start = datetime.now(timezone.utc)
        if blocked is not None:
            run = NotebookRun(stem=stem, status="not_run", message=f"{blocked} did not succeed",
                              result_state="UPSTREAM_FAILED")
        elif run is None:
            path = submission.notebook(stem)
            assert path is not None
            result = execute_notebook(path=path, parameters=parameters, output_path=out_dir / f"{stem}.ipynb",
                                      cell_timeout=cell_timeout, in_job=True, task_key=key,
                                      task_values={k: dict(v) for k, v in values.items()}, env=env,
                                      work_dir=out_dir / stem, skip_kit_checks=skip_kit_checks)
            run = _from_result(stem, result, task_key=key)
            run.parameters = dict(parameters)
            values[key] = dict(result.record.task_values)
        else:
            run.result_state = "FAILED"
        run.direct = True
        if not run.ok and blocked is None:
            blocked = stem
        runs[stem] = run
        tasks.append(TaskState(task_key=key, kind="notebook", result_state=run.result_state,
                               depends_on=[keys.get(previous, previous)] if previous else [], notebook=stem,
                               start_time=start, end_time=datetime.now(timezone.utc), message=run.message,
                               parameters=dict(run.parameters)))
    return tasks, runs


def run_notebooks_directly(*, submission: Submission, unreadable: dict[str, str], parameters: dict[str, str],
                           out_dir: Path, env: dict[str, str], reason: str, cell_timeout: float | None = None,
                           skip_kit_checks: bool = False) -> tuple[PipelineRun, dict[str, NotebookRun]]:
    """Run 01 → 02 → 03 in contract order with the job's values, as the job would; stop at the first failure."""
    tasks, runs = run_layers_directly(submission=submission, unreadable=unreadable, parameters=parameters,
                                      out_dir=out_dir, env=env, cell_timeout=cell_timeout,
                                      skip_kit_checks=skip_kit_checks)
    ok = all(r.ok for r in runs.values())
    note = f"{reason}, so the grader ran 01_bronze, 02_silver and 03_gold directly in that order with its values"
    return PipelineRun(mode="notebooks", result_state="SUCCESS" if ok else "FAILED", tasks=tasks, run_dir=out_dir,
                       note=note, parameters=dict(parameters)), runs


def unreached_layers(runs: dict[str, NotebookRun]) -> tuple[str, ...]:
    """The contract notebooks the job never ran although the one before succeeded (an orchestration mistake:
    a condition that was false, a task value never set, a missing task), from the first such one on."""
    for index, stem in enumerate(TASK_STEMS):
        run = runs.get(stem)
        if run is not None and run.status != "not_run":
            continue
        upstream_ok = index == 0 or (runs.get(TASK_STEMS[index - 1]) is not None
                                     and runs[TASK_STEMS[index - 1]].ok)
        return TASK_STEMS[index:] if upstream_ok else ()
    return ()


def run_submission_job(*, job: JobEvidence, unreadable: dict[str, str], parameters: dict[str, str],
                       runs_dir: Path, env: dict[str, str], max_parallel: int, cell_timeout: float | None = None,
                       skip_kit_checks: bool = False) -> tuple[PipelineRun, dict[str, NotebookRun]]:
    """Run the submission's own job with the runner; translate its record for the checks."""
    from checkers.jobs.run import run_job

    loaded = job.loaded
    assert loaded is not None
    record = run_job(job=loaded, parameters=parameters, max_parallel=max_parallel, runs_dir=runs_dir,
                     cell_timeout=cell_timeout, validate=False, spark=True, env=env, skip_kit_checks=skip_kit_checks,
                     max_retry_interval=GRADING_MAX_RETRY_INTERVAL)
    run_dir = Path(record.run_dir)
    stems = {key: stem for stem, keys in structure(loaded).by_stem.items() for key in keys}
    tasks: list[TaskState] = []
    runs: dict[str, NotebookRun] = {}
    for t in record.tasks:
        stem = stems.get(t.task_key)
        tasks.append(TaskState(task_key=t.task_key, kind=t.type, result_state=t.result_state,
                               depends_on=[d["task_key"] for d in t.depends_on], notebook=stem,
                               start_time=t.start_time, end_time=t.end_time, message=t.message, outcome=t.outcome,
                               parameters=dict(t.parameters)))
        if stem in TASK_STEMS:
            runs[stem] = _task_notebook_run(stem, t, run_dir, unreadable)
    return PipelineRun(mode="job", result_state=record.result_state, tasks=tasks, run_dir=run_dir,
                       parameters=dict(record.parameters), message=record.message), runs


def _task_notebook_run(stem: str, task: Any, run_dir: Path, unreadable: dict[str, str]) -> NotebookRun:
    """One task of the run record → the run of its notebook (last attempt), with its runtime record."""
    state = task.result_state
    attempt = task.attempts[-1] if task.attempts else None
    status: RunStatus = _PENDING_STATES.get(state or "", "not_run")
    if stem in unreadable and status == "failed":
        status = "unreadable"
    error = None
    if attempt is not None and attempt.error:
        error = CellError(ename=str(attempt.error.get("ename", "Error")), evalue=str(attempt.error.get("evalue", "")),
                          cell=attempt.error.get("cell"))
        if error.ename == "DeadKernelError":
            status = "kernel_died"
    record = attempt.runtime if attempt is not None else None
    executed = run_dir / attempt.notebook if attempt is not None and attempt.notebook else None
    message = unreadable.get(stem, task.message) if status == "unreadable" else task.message
    return NotebookRun(stem=stem, status=status, message=message, task_key=task.task_key, result_state=state,
                       error=error, record=record, parameters=dict(task.parameters),
                       executed=executed if executed is not None and executed.exists() else None)


def run_widgets(*, submission: Submission, unreadable: dict[str, str], parameters: dict[str, str],
                defaults_parameters: dict[str, str], out_dir: Path, env: dict[str, str],
                cell_timeout: float | None = None, skip_kit_checks: bool = False,
                only: tuple[str, ...] = ("passed", "defaults"), kernels_ahead: bool = True) -> dict[str, NotebookRun]:
    """Run ``00_widgets`` with ``parameters``, then with none of its widgets (it is not part of the job).

    One after the other, beside the job: on two cores, more kernels starting at once only slow the job down.
    ``only`` names the runs wanted (``passed``, ``defaults``).
    """
    from checkers.notebooks.execute import execute_notebook

    stem = "00_widgets"
    unavailable = _unavailable(stem, submission, unreadable)
    if unavailable is not None:
        return {"passed": unavailable, "defaults": unavailable}
    path = submission.notebook(stem)
    assert path is not None

    def one(which: str, params: dict[str, str]) -> NotebookRun:
        result = execute_notebook(path=path, parameters=params, output_path=out_dir / f"00_widgets_{which}.ipynb",
                                  cell_timeout=cell_timeout, env=env, work_dir=out_dir / which,
                                  skip_kit_checks=skip_kit_checks, kernels_ahead=kernels_ahead)
        run = _from_result(stem, result)
        run.parameters = dict(params)
        return run

    wanted = {"passed": parameters, "defaults": defaults_parameters}
    return {which: one(which, wanted[which]) for which in ("passed", "defaults") if which in only}


def widget_reruns(runs: dict[str, NotebookRun]) -> tuple[str, ...]:
    """The runs of ``00_widgets`` worth a second try with the job's tables in place: those whose code raised.

    ``00_widgets`` may dispatch for real (``run_layer`` runs the layer, or ``dbutils.notebook.run``s its notebook).
    On Databricks it then reads the tables the job left under the default schema; beside the grader's job run there
    are none yet. A run that timed out, stopped at a lesson exercise or before declaring its widgets, or a notebook
    that is missing or unreadable, gets no second try: the job's tables would change nothing.
    """
    return tuple(which for which, run in runs.items()
                 if run.status == "failed" and run.exercise is None and run.record is not None and run.record.widgets)


def run_pipeline(*, job: JobEvidence, submission: Submission, unreadable: dict[str, str],
                 parameters: dict[str, str], work: Path, env: dict[str, str], reason: str | None,
                 max_parallel: int, cell_timeout: float | None,
                 skip_kit_checks: bool) -> tuple[PipelineRun, dict[str, NotebookRun]]:
    """The job when it can run as required, else the notebooks directly; never raises for the submission's sake."""
    if reason is None:
        serial, wiring = job_notes(job)
        try:
            pipeline, runs = run_submission_job(job=job, unreadable=unreadable, parameters=parameters,
                                                runs_dir=work / "runs", env=env, max_parallel=serial or max_parallel,
                                                cell_timeout=cell_timeout, skip_kit_checks=skip_kit_checks)
            pipeline.note = wiring
            _grade_unreached(pipeline, runs, submission=submission, unreadable=unreadable, parameters=parameters,
                             work=work, env=env, cell_timeout=cell_timeout, skip_kit_checks=skip_kit_checks)
            return pipeline, runs
        except CheckersError as exc:
            reason = f"the runner could not start the job ({exc.message})"
        except Exception as exc:  # noqa: BLE001 - a runner bug must not cost the learner the table checks
            reason = f"the runner failed ({type(exc).__name__}: {exc})"
    try:
        return run_notebooks_directly(submission=submission, unreadable=unreadable, parameters=parameters,
                                      out_dir=work / "notebooks", env=env, reason=reason, cell_timeout=cell_timeout,
                                      skip_kit_checks=skip_kit_checks)
    except Exception as exc:  # noqa: BLE001 - reported through every check that needed a run
        detail = exc.message if isinstance(exc, CheckersError) else f"{type(exc).__name__}: {exc}"
        note = f"{reason}; running the notebooks directly failed too: {detail}"
    runs = {stem: NotebookRun(stem=stem, status="not_run", message=note) for stem in TASK_STEMS}
    return PipelineRun(mode="none", note=note), runs


def _grade_unreached(pipeline: PipelineRun, runs: dict[str, NotebookRun], *, submission: Submission,
                     unreadable: dict[str, str], parameters: dict[str, str], work: Path, env: dict[str, str],
                     cell_timeout: float | None, skip_kit_checks: bool) -> None:
    """Run the layers the job never reached directly, so their tables are graded anyway (one mistake, marked once:
    the job and run checks carry the orchestration mistake, the layer checks judge the layer)."""
    stems = unreached_layers(runs)
    if not stems:
        return
    in_job = {stem: run for stem, run in runs.items() if run.task_key}
    why = "; ".join(f"{stem}: {runs[stem].explain() if stem in runs else 'no task of the job runs it'}"
                    for stem in stems[:1])
    try:
        _tasks, direct = run_layers_directly(
            submission=submission, unreadable=unreadable, parameters=parameters, out_dir=work / "notebooks",
            env=env, stems=stems, task_values={r.task_key: r.task_values for r in in_job.values() if r.task_key},
            task_keys={stem: r.task_key for stem, r in in_job.items() if r.task_key}, cell_timeout=cell_timeout,
            skip_kit_checks=skip_kit_checks)
    except Exception as exc:  # noqa: BLE001 - the layers then stay "not run", with the reason
        detail = exc.message if isinstance(exc, CheckersError) else f"{type(exc).__name__}: {exc}"
        pipeline.note = "; ".join(p for p in (pipeline.note, f"running {', '.join(stems)} directly failed: "
                                              f"{detail}") if p)
        return
    runs.update(direct)
    pipeline.note = "; ".join(p for p in (pipeline.note, f"the job never ran {', '.join(stems)} ({why}), so the grader "
                                          "ran them directly to grade their tables") if p)


