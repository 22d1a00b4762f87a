"""Grade one submission: run its own job on unseen data, read the tables back, run the checks, report.

The flow, for a submission folder:

1. copy it to a private grading folder (nothing a notebook writes lands in the learner's folder);
2. find the five notebooks and the job file; load and validate the job;
3. generate raw data the learner has never seen (a seed other than the sample's, recorded in the report);
4. run the submission's own job with the local runner, passing ``source_path`` (that file) and a schema of its
   own (``grade_<id>``) as job parameters — or, when the job cannot run as the contract asks, run the
   notebooks directly in contract order with the same values, and say so; meanwhile run ``00_widgets`` twice
   (with values, without) and compute the expected tables in pandas;
5. read the tables through the grader's own Spark Connect session and check them, with the run record and
   the runtime records, never with anything a notebook printed;
6. drop the schema (unless ``keep``) and write ``report.json`` into the grading folder.

A broken submission never stops the grader: whatever cannot run becomes a failed or skipped check with the
reason. Only a grader that cannot work at all (bad folder, no Java, no Spark) raises a ``CheckersError``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

from checkers.config import settings
from checkers.data import SAMPLE_SEED
from checkers.errors import CheckersError, GradingError
from checkers.grading.checks import (
    CellError,
    Evidence,
    JobEvidence,
    NotebookRun,
    PipelineRun,
    TaskState,
    precompute,
    run_checks,
    snapshot_tables,
)
from checkers.grading.checks.evidence import RunStatus
from checkers.grading.checks.job import parameter_problems, structure, structure_problems
from checkers.grading.declared import WrittenDecl, written_declarations
from checkers.grading.expect import Expectations
from checkers.grading.quality_run import QUALITY_KERNELS, orchestration_trial, trial_wanted
from checkers.grading.report import Report, RunSummary, TaskSummary, write_json
from checkers.grading.submission import TASK_STEMS, Submission, copy_submission, find_submission
from checkers.notebooks.execute import prepare_kernels, release_kernels
from checkers.notebooks.sandbox_folders import SANDBOX_ENV, SANDBOX_HIDDEN_ENV, SANDBOX_READONLY_ENV
from checkers.runtime.context import NICE_ENV, PREWARM_ENV
from checkers.runtime.kernel import SESSION_CONF_ENV
from checkers.runtime.progress import PROGRESS_ENV
from checkers.spark.memory import SMALL_DATA_SQL_CONFS, SMALL_ROWS

DEFAULT_ROWS = 30_000
"""Rows of unseen data: enough for every kind of dirt to appear many times, small enough to grade fast."""
MIN_ROWS = 2_000
"""Below this the generator cannot promise every kind of dirt, so some rules would go untested."""
DATA_DAYS = 7
"""Days the unseen data spans (several, so daily sales has several rows)."""
DATA_FIRST_DAY = date(2019, 10, 1)
REPORT_NAME = "report.json"
JOB_KERNELS = 3
"""Bronze, silver and gold: the job's kernels a grading starts ahead of need (no more)."""
WIDGET_KERNELS = 2
"""00_widgets runs twice (with values, without)."""
WIDGET_NICENESS = 10
"""00_widgets runs beside the job and is not waited for until the job ends: its kernels yield the CPU to the job's."""
GRADING_MAX_RETRY_INTERVAL = 5.0
"""Seconds the grader waits at most between a task's retries (a job may ask for minutes; retries still happen)."""
_SCHEMA_RE = re.compile(r"[a-z_][a-z0-9_]{0,99}")
_PENDING_STATES: dict[str, RunStatus] = {"SUCCESS": "success", "FAILED": "failed", "TIMEDOUT": "timeout"}

Progress = Callable[[str], None]
"""Called with a short phase description ("Running the job", ...) as grading moves on."""
SandboxPolicy = Literal["auto", "required", "off"]
"""``auto``: sandbox the kernels when bubblewrap works, else grade with a note (a learner's own ``day07 check``);
``required``: refuse to grade without it (``day07 grade`` of a class's work); ``off``: never (``--no-sandbox``),
written in the report."""


@dataclass(frozen=True)
class GradeOptions:
    """How one submission is graded: the knobs of :func:`grade_submission`, in one place."""

    seed: int | None = None
    """Seed of the unseen data (default: random, never the sample's)."""
    rows: int = DEFAULT_ROWS
    """Rows of unseen data."""
    schema: str | None = None
    """Schema the job writes to (default: a fresh ``grade_<id>``)."""
    keep: bool = False
    """Leave the schema, the data file and the private copy in place for inspection."""
    max_parallel: int = 2
    """Job tasks run at once."""
    cell_timeout: float | None = None
    """Seconds one cell may run (default: ``DAY07_CELL_TIMEOUT``)."""
    all_cells: bool = False
    """Run the kit's unchanged self-check cells too (skipped by default: the checks read the tables themselves)."""
    kernels_ahead: int | None = None
    """Kernels started ahead of need at a time (the cohort lowers it; default: ``DAY07_KERNEL_POOL``)."""
    sandbox: SandboxPolicy = "auto"
    """Whether the submission's kernels must run in the bubblewrap sandbox."""
    hidden: tuple[Path, ...] = ()
    """Folders the submission's kernels must not see (a cohort's submissions and out folder)."""
    server: Any = None
    """The Spark server to grade on (a :class:`~checkers.spark.spec.ServerSpec`; default: the kit's own)."""


def choose_seed(seed: int | None = None) -> int:
    """``seed`` if given (never the sample's), else a fresh random one."""
    if seed is None:
        while True:
            seed = secrets.randbelow(2**31 - 1) + 1
            if seed != SAMPLE_SEED:
                return seed
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise GradingError(f"--seed {seed!r} must be a whole number >= 0.", hint="Use e.g. --seed 42.")
    if seed == SAMPLE_SEED:
        raise GradingError(f"--seed {seed} is the shipped sample's seed; the grader grades on unseen data.",
                           hint="Pick any other seed, or leave --seed out for a random one.")
    return seed


def submission_seed(cohort_seed: int, submission_id: str) -> int:
    """The seed of one submission's unseen data in a cohort: derived from the cohort's seed and the submission's id.

    Every submission gets data of its own, so a table copied from a peer never matches; the same cohort seed and
    id always give the same seed, so any grading can be reproduced (the gradebook and the report record it).
    """
    digest = hashlib.sha256(f"day07-cohort:{cohort_seed}:{submission_id}".encode()).digest()
    seed = int.from_bytes(digest[:4], "big") % (2**31 - 2) + 1
    return seed if seed != SAMPLE_SEED else seed + 1


def new_schema_name() -> str:
    """A schema no other grading uses: ``grade_<12 hex digits>``."""
    return f"grade_{uuid.uuid4().hex[:12]}"


def _check_arguments(*, folder: Path, rows: int, schema: str | None) -> None:
    if not folder.is_dir():
        raise GradingError(f"Submission folder {folder} does not exist or is not a folder.",
                           hint="Pass the folder holding your five notebooks and job file "
                                "(default: my_work/, else lessons/).")
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < MIN_ROWS:
        raise GradingError(f"--rows {rows!r} is too small: the unseen data needs at least {MIN_ROWS} rows so every "
                           "cleaning rule is tested.", hint=f"Use the default ({DEFAULT_ROWS}) or more.")
    if schema is not None and not _SCHEMA_RE.fullmatch(schema):
        raise GradingError(f"schema {schema!r} is not a plain lower-case identifier.",
                           hint="Use letters, digits and _, starting with a letter, e.g. grade_alice.")


def sandbox_note(policy: SandboxPolicy = "auto") -> str:
    """Say in the report whether the kernels were sandboxed (and why not), so nobody has to guess.

    With ``policy="required"`` a missing sandbox is a :class:`GradingError` naming what to install (or
    ``--no-sandbox``), before anything runs.
    """
    from checkers.runtime.volumes import ensure_sample_volume
    from checkers.sandbox import sandbox_status

    if policy == "off":
        return ("graded WITHOUT a sandbox (--no-sandbox): the submission's code ran with the grader's rights and "
                "could read or change anything this user can")
    if not settings().sandbox:
        reason = "DAY07_SANDBOX=0"
        available = False
    else:
        status = sandbox_status()
        reason, available = status.reason, status.available
    if not available:
        if policy == "required":
            raise GradingError(f"The grading sandbox is not available: {reason}.",
                               hint="Grading a class runs other people's code: install bubblewrap (Debian/Ubuntu: "
                                    "`sudo apt-get install bubblewrap`; it is Linux only, use WSL on Windows), or "
                                    "pass --no-sandbox to accept the risk (every report then says so).")
        return f"kernels ran without a sandbox: {reason}"
    with contextlib.suppress(CheckersError, OSError):
        ensure_sample_volume()  # the kit home is hidden inside the sandbox (but for its volumes): place it from here
    return ("kernels ran in a bubblewrap sandbox: only this grading's folder and a private /tmp were writable, the "
            "unseen data was read-only, and the kit home and other gradings were hidden")


def _grading_folder(schema: str) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return settings().data_home / "grading" / f"{stamp}-{schema}"  # on a cluster, where every node reads it


# --------------------------------------------------------------------------------------------- expectations

_EXPECTED: dict[str, Any] = {}
_EXPECTED_LOCK = threading.Lock()
EXPECTATIONS_KEPT = 4
"""Expectations kept in memory, by data content: a grading grades one seed, a few gradings run side by side."""


def expectations_for(*, path: Path, data: bytes) -> Expectations:
    """The expectations for ``data`` (the unseen file's bytes, read before any learner code ran), with the checks'
    work on the data alone already done.

    Worked out once per data content (a seed) and shared by gradings of the same data: each gets its own copy
    naming its own file, over the same read-only frames. Only the newest few are kept.
    """
    from checkers.grading.expect import compute_expectations

    source = Path(path).resolve()
    digest = hashlib.sha256(data).hexdigest()
    with _EXPECTED_LOCK:
        shared = _EXPECTED.pop(digest, None)
    if shared is None:
        shared = precompute(compute_expectations(path=source, data=data))
    with _EXPECTED_LOCK:
        _EXPECTED[digest] = shared  # newest last
        while len(_EXPECTED) > EXPECTATIONS_KEPT:
            _EXPECTED.pop(next(iter(_EXPECTED)))
    return replace(shared, source_file=source, bronze=replace(shared.bronze, source_file=source))


# --------------------------------------------------------------------------------------------- the job


def load_job_evidence(submission: Submission) -> JobEvidence:
    """Load and validate the submission's job file; a file that cannot be loaded is evidence, not an error."""
    from checkers.jobs.load import load_job
    from checkers.jobs.validate import validate_job

    if submission.job_file is None:
        return JobEvidence(file=None, problem=submission.job_problem,
                           hint="Add job.yml (bundle YAML) or a Jobs API JSON file next to the notebooks.")
    path = submission.job_file
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return JobEvidence(file=path, problem=f"{path.name} cannot be read: {exc.strerror or exc}")
    try:
        loaded = load_job(path=path)
    except CheckersError as exc:
        return JobEvidence(file=path, problem=exc.message, hint=exc.hint, text=text)
    try:
        findings = validate_job(loaded)
    except Exception as exc:  # noqa: BLE001 - a validator bug must not stop the grading
        return JobEvidence(file=path, loaded=loaded, text=text,
                           problem=f"the validator failed on {path.name}: {type(exc).__name__}: {exc}")
    return JobEvidence(file=path, loaded=loaded, findings=findings, text=text)


def job_unrunnable(job: JobEvidence) -> str | None:
    """Why the job cannot run on the grader's data (None when it can); the notebooks then run directly.

    A job whose tasks are wired differently from the contract still runs (one task at a time, see
    :func:`job_notes`): job.tasks carries that mistake, and the run checks judge what really ran.
    """
    if job.loaded is None:
        return f"the job definition could not be loaded ({job.problem})"
    if job.errors:
        return f"{job.file.name if job.file else 'the job'} has validation errors (see job.valid)"
    problems = parameter_problems(job.loaded)
    if problems:
        return f"the job cannot receive the grader's data: {problems[0]}"
    return None


def job_notes(job: JobEvidence) -> tuple[int | None, str]:
    """How a runnable job is run: (max tasks at once or None for the usual, a note for the report).

    A job whose dependencies differ from the contract's runs one task at a time, in the file's order, so that
    a missing or wrong ``depends_on`` is marked down once, by job.tasks, not again by a layer that raced ahead.
    """
    if job.loaded is None:
        return None, ""
    problems = structure_problems(job.loaded)
    if not problems:
        return None, ""
    return 1, (f"the job does not wire the contract's pipeline ({problems[0]}; see job.tasks), so the grader ran it "
               "one task at a time, in the file's order")


# --------------------------------------------------------------------------------------------- running


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


def _schemas(spark: Any) -> set[str]:
    return {d.name for d in spark.catalog.listDatabases()}


def _leave_nothing_behind(spark: Any, before: set[str]) -> None:
    """On a worker's own server, the next grading (another submission) starts clean: schemas the submission made
    beside its own are dropped, and so are its global temporary views."""
    with contextlib.suppress(Exception):
        for made in _schemas(spark) - before:
            spark.sql(f"DROP SCHEMA IF EXISTS `{made}` CASCADE")
    with contextlib.suppress(Exception):
        for view in spark.sql("SHOW VIEWS IN global_temp").collect():
            spark.catalog.dropGlobalTempView(view.viewName)
    with contextlib.suppress(Exception):
        spark.catalog.clearCache()


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
                cell_timeout: float | None = None, skip_kit_checks: bool = False) -> dict[str, NotebookRun]:
    """Run ``00_widgets`` with ``parameters``, then with none of its widgets (it is not part of the job).

    One after the other, beside the job: on two cores, more kernels starting at once only slow the job down.
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
                                  skip_kit_checks=skip_kit_checks)
        run = _from_result(stem, result)
        run.parameters = dict(params)
        return run

    return {"passed": one("passed", parameters), "defaults": one("defaults", defaults_parameters)}


# --------------------------------------------------------------------------------------------- the flow


def grade_submission(*, folder: Path, options: GradeOptions | None = None, work_dir: Path | None = None,
                     progress: Progress | None = None, name: str | None = None, **overrides: Any) -> Report:
    """Grade the submission in ``folder`` and return its report (also written to ``<grading folder>/report.json``).

    ``options`` says how (see :class:`GradeOptions`); keyword ``overrides`` change single fields of it
    (``grade_submission(folder=f, seed=7)``). ``work_dir`` is the grading folder (default: a new folder under the
    kit home's ``grading/``); ``name`` how the report names the submission (default: the folder path).
    """
    try:
        options = replace(options or GradeOptions(), **overrides)
    except TypeError as exc:
        raise GradingError(f"grade_submission: {exc}", hint="See GradeOptions for the knobs.") from None
    seed, rows, schema, keep = options.seed, options.rows, options.schema, options.keep
    max_parallel, cell_timeout, all_cells = options.max_parallel, options.cell_timeout, options.all_cells
    kernels_ahead = options.kernels_ahead
    started = time.monotonic()
    folder = Path(folder).resolve()
    _check_arguments(folder=folder, rows=rows, schema=schema)
    seed = choose_seed(seed)
    schema = schema or new_schema_name()
    widget_schema = f"{schema}_w"
    say = progress or (lambda _phase: None)
    work = Path(work_dir) if work_dir is not None else _grading_folder(schema)
    if work.exists() and any(work.iterdir()):
        raise GradingError(f"The grading folder {work} exists and is not empty.",
                           hint="Pass an empty or new --work-dir, or leave it out.")
    work.mkdir(parents=True, exist_ok=True)

    say("Starting Spark")
    from checkers.spark.client import kernel_env
    from checkers.spark.server import connect, ensure_server

    sandboxing = sandbox_note(options.sandbox)
    endpoint = ensure_server(options.server)
    server_data = options.server.data_dir if options.server is not None else None
    # A worker's own server reads the unseen data from its own folder (it sees nothing else); the kit's shared one
    # from the grading folder. Either way the kernels see it read-only.
    data_dir = server_data / schema if server_data is not None else work / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**kernel_env(endpoint), PROGRESS_ENV: "0"}  # headless: no query progress to show anyone
    if rows <= SMALL_ROWS:  # tens of thousands of rows: interpreted execution costs the server less CPU
        env[SESSION_CONF_ENV] = json.dumps(SMALL_DATA_SQL_CONFS)
    if options.sandbox != "off":
        # The kernels may write only their grading folder; the unseen data in it is read-only to them.
        env.update({SANDBOX_ENV: str(work), SANDBOX_READONLY_ENV: str(data_dir),
                    SANDBOX_HIDDEN_ENV: os.pathsep.join(str(Path(p).resolve()) for p in options.hidden)})
    # 00_widgets needs no Spark (its kernels skip loading PySpark) and is off the job's critical path.
    widget_env = {**env, PREWARM_ENV: "0", NICE_ENV: str(WIDGET_NICENESS)}
    # The kernels start (one after another) while the submission is copied and the data generated.
    prepare_kernels(env=env, kernels=JOB_KERNELS, ahead=kernels_ahead)
    prepare_kernels(env=widget_env, kernels=WIDGET_KERNELS, ahead=kernels_ahead)
    spark = None
    owned: list[str] = []
    before: set[str] | None = None  # the worker server's schemas before this grading
    try:
        spark = connect(endpoint=endpoint)
        for key, value in (SMALL_DATA_SQL_CONFS if rows <= SMALL_ROWS else {}).items():
            spark.conf.set(key, value)  # the grader's own reads: small tables too
        taken = [other for other in (schema, widget_schema) if spark.catalog.databaseExists(other)]
        if taken:
            raise GradingError(f"Schema {taken[0]} already exists; the grader only reads tables written by this run.",
                               hint="Leave the schema out (a fresh one is made), or drop that schema first.")
        owned = [schema, widget_schema]
        before = _schemas(spark) if server_data is not None else None

        say("Copying the submission")
        notes = copy_submission(source=folder, dest=work / "submission")
        submission = find_submission(folder=work / "submission")
        notes += [*submission.notes, sandboxing]
        job = load_job_evidence(submission)
        if job.loaded is not None:  # the job's own notebook tasks (a quality task too), not the contract's three
            notebooks_in_job = sum(1 for t in job.loaded.tasks.values() if t.notebook_task is not None)
            prepare_kernels(env=env, kernels=max(JOB_KERNELS, notebooks_in_job), ahead=kernels_ahead)
        unreadable, written = read_sources(submission)

        say(f"Generating {rows:,} rows of unseen data (seed {seed})")
        from checkers.data.generate import generate_events

        data = generate_events(out=data_dir / f"events_seed{seed}.csv", rows=rows, seed=seed,
                               start=DATA_FIRST_DAY + timedelta(days=seed % 24), days=DATA_DAYS)
        source_path = data.path.resolve()
        raw_bytes = source_path.read_bytes()  # before any of the submission's code runs

        spark.sql(f"CREATE SCHEMA {schema}")
        params = {"source_path": str(source_path), "schema": schema}
        layer = ("silver", "gold")[seed % 2]
        widget_params = {"layer": layer, "source_path": str(source_path), "schema": widget_schema}
        with ThreadPoolExecutor(max_workers=3, thread_name_prefix="day07-grade") as pool:
            expectations: Future[Any] = pool.submit(expectations_for, path=source_path, data=raw_bytes)
            widgets: Future[dict[str, NotebookRun]] = pool.submit(
                run_widgets, submission=submission, unreadable=unreadable, parameters=widget_params,
                defaults_parameters={"schema": widget_schema}, out_dir=work / "widgets", env=widget_env,
                cell_timeout=cell_timeout, skip_kit_checks=not all_cells)
            reason = job_unrunnable(job)
            say("Running the job" if reason is None else "Running the notebooks (the job cannot run as required)")
            pipeline, notebooks = _run_pipeline(job=job, submission=submission, unreadable=unreadable,
                                                parameters=params, work=work, env=env, reason=reason,
                                                max_parallel=max_parallel, cell_timeout=cell_timeout,
                                                skip_kit_checks=not all_cells)
            say("Running 00_widgets")
            widget_runs = _settle(widgets, lambda exc: {
                which: NotebookRun(stem="00_widgets", status="not_run", message=f"the grader could not run it: {exc}")
                for which in ("passed", "defaults")})
            exp, exp_error = _expectations(expectations)

        say("Reading the tables")
        tables = snapshot_tables(spark, schema=schema)
        # Only now, with the graded run's tables read, the grader's own run on its failing file: nothing the job does
        # there (it sees this grading's schema on the server) can change what was graded.
        quality = None
        if trial_wanted(job=job, runnable=reason is None, pipeline=pipeline):
            say("Running the job on a file that must fail its quality gate, then repairing it")
            prepare_kernels(env=env, kernels=QUALITY_KERNELS, ahead=kernels_ahead)
            quality = orchestration_trial(
                job=job, seed=seed, data_dir=data_dir, runs_dir=work / "runs", env=env, spark=spark,
                max_parallel=max_parallel, cell_timeout=cell_timeout, skip_kit_checks=not all_cells,
                max_retry_interval=GRADING_MAX_RETRY_INTERVAL, owned=owned, keep=keep)
            notes.append(quality.summary())
        evidence = Evidence(submission=submission, schema=schema, source_path=source_path, seed=seed, job=job,
                            run=pipeline, notebooks=notebooks, widget_runs=widget_runs,
                            widget_parameters={k: v for k, v in widget_params.items() if k != "schema"},
                            written=written, quality=quality,
                            tables=tables, expectations=exp, expectations_error=exp_error)
        say("Checking")
        results = run_checks(evidence)
    finally:
        release_kernels(env=env)
        release_kernels(env=widget_env)
        if spark is not None:
            for made in [] if keep else owned:
                with contextlib.suppress(Exception):
                    spark.sql(f"DROP SCHEMA IF EXISTS {made} CASCADE")
            if before is not None and not keep:
                _leave_nothing_behind(spark, before)
            with contextlib.suppress(Exception):
                spark.stop()

    if keep:
        notes.append(f"kept: schema {schema}, the data file and the private copy (--keep)")
    else:
        shutil.rmtree(work / "submission", ignore_errors=True)
        data.path.unlink(missing_ok=True)
        if server_data is not None:
            shutil.rmtree(data_dir, ignore_errors=True)
        notes.append(f"the unseen data is not kept; make it again with `day07 data generate --rows {rows} --seed "
                     f"{seed} --start {data.start} --days {data.days} --out FILE`")
    report = _report(name=name or str(folder), results=results, pipeline=pipeline, seed=seed, rows=rows,
                     schema=schema, work=work, data_file=source_path, notes=notes,
                     duration=time.monotonic() - started)
    write_json(report, work / REPORT_NAME)
    return report


def _run_pipeline(*, job: JobEvidence, submission: Submission, unreadable: dict[str, str],
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


def _settle(future: Future[Any], fallback: Callable[[BaseException], Any]) -> Any:
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - a failed side run is reported through its checks
        return fallback(exc)


def _expectations(future: Future[Any]) -> tuple[Any, str | None]:
    try:
        return future.result(), None
    except Exception as exc:  # noqa: BLE001 - checks that need them say so
        return None, f"{type(exc).__name__}: {exc}"


def _report(*, name: str, results: list, pipeline: PipelineRun, seed: int, rows: int, schema: str, work: Path,
            data_file: Path, notes: list[str], duration: float) -> Report:
    required = [r for r in results if r.required]
    stretch = [r for r in results if not r.required]
    run = RunSummary(result_state=pipeline.result_state, mode=pipeline.mode, note=pipeline.note,
                     run_dir=str(pipeline.run_dir) if pipeline.run_dir else None,
                     tasks=[TaskSummary(task_key=t.task_key, result_state=t.result_state, message=t.message)
                            for t in pipeline.tasks])
    return Report(submission=name, score=sum(r.score for r in required), max_score=sum(r.max_score for r in required),
                  checks=results, run=run, seed=seed, rows=rows, schema=schema, run_folder=str(work),
                  data_file=str(data_file), stretch_score=sum(r.score for r in stretch),
                  stretch_max_score=sum(r.max_score for r in stretch), duration_seconds=duration, notes=notes)
