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
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checkers.config import env_name, settings
from checkers.errors import GradingError
from checkers.grading.cleanup import leave_nothing_behind, server_schemas
from checkers.grading.options import (
    DATA_DAYS,
    DATA_FIRST_DAY,
    DATA_START_SPREAD,
    GRADING_MAX_RETRY_INTERVAL,
    JOB_KERNELS,
    SIDE_THREADS,
    WIDGET_KERNELS,
    WIDGET_NICENESS,
    GradeOptions,
    Progress,
    check_arguments,
    choose_seed,
    new_schema_name,
    sandbox_note,
)
from checkers.grading.report import Report, RunSummary, TaskSummary, write_json
from checkers.grading.submission import copy_submission
from checkers.grading.volumes_mirror import mirror_volumes, remove_mirror
from checkers.notebooks.execute import prepare_kernels, release_kernels
from checkers.signals import (
    KERNEL_NICE,
    SANDBOX_HIDDEN,
    SANDBOX_READONLY,
    SANDBOX_ROOT,
    SANDBOX_WRITABLE,
    SCHEMA_ALIASES,
    SPARK_PREWARM,
    SPARK_SESSION_CONF,
    VOLUMES_ROOT,
)
from checkers.spark.memory import SMALL_DATA_SQL_CONFS, SMALL_ROWS

if TYPE_CHECKING:
    from checkers.grading.checks import NotebookRun, PipelineRun
    from checkers.grading.expect import Expectations

# The checks, the job loader and the runs (pandas, the Databricks SDK, nbformat: ~2.5 s of imports) are imported
# inside grade_submission, once its kernels have started: the fork server imports its own modules meanwhile.

REPORT_NAME = "report.json"


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
    from checkers.grading.checks import precompute
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


def _table_folders(options: GradeOptions, schemas: list[str]) -> list[Path]:
    """The warehouse folders of the grading's schemas, made now, so that its sandboxed kernels may read the files of
    the tables they wrote (a Delta history records them; the rest of the warehouse stays hidden). None for a server
    whose warehouse is not on this disk."""
    from checkers.spark.spec import ServerPaths

    warehouse = ServerPaths.of(settings(), options.server).warehouse_dir
    if options.sandbox == "off" or not warehouse.is_dir():
        return []
    folders = [warehouse / f"{schema}.db" for schema in schemas]
    for folder in folders:
        folder.mkdir(exist_ok=True)
    return folders


def _job_env(*, base: dict[str, str], options: GradeOptions, work: Path, data_dir: Path, volumes: Path | None,
             volumes_outside: bool, tables: Sequence[Path] = ()) -> dict[str, str]:
    """The environment of the job's kernels."""
    env = {**base, env_name("progress"): "0"}  # headless: no query progress to show anyone
    if volumes is not None:
        env[VOLUMES_ROOT] = str(volumes)
    if options.rows <= SMALL_ROWS:  # tens of thousands of rows: interpreted execution costs the server less CPU
        env[SPARK_SESSION_CONF] = json.dumps(SMALL_DATA_SQL_CONFS)
    if options.sandbox != "off":
        # The kernels may write only their grading folder; the unseen data in it is read-only to them.
        env.update({SANDBOX_ROOT: str(work), SANDBOX_READONLY: os.pathsep.join(map(str, [data_dir, *tables])),
                    SANDBOX_HIDDEN: os.pathsep.join(str(Path(p).resolve()) for p in options.hidden)})
        if volumes_outside and volumes is not None:
            env[SANDBOX_WRITABLE] = str(volumes)
    return env


def _widget_env(env: dict[str, str], *, widget_schema: str) -> dict[str, str]:
    """The environment of 00_widgets' kernels: they need no Spark (they skip loading PySpark), yield the CPU, and are
    off the job's critical path.

    In them the contract's default schema names the grading's widget schema: a ``run_layer`` that really runs a
    layer writes there, never into a ``day07`` schema of the learner's own on a shared server.
    """
    from checkers.grading.checks.widgets import DEFAULT_SCHEMA

    return {**env, SPARK_PREWARM: "0", KERNEL_NICE: str(WIDGET_NICENESS),
            SCHEMA_ALIASES: json.dumps({DEFAULT_SCHEMA: widget_schema})}


# --------------------------------------------------------------------------------------------- the flow


def grade_submission(*, folder: Path, options: GradeOptions | None = None, work_dir: Path | None = None,
                     progress: Progress | None = None, name: str | None = None) -> Report:
    """Grade the submission in ``folder`` and return its report (also written to ``<grading folder>/report.json``).

    ``options`` says how (see :class:`~checkers.grading.options.GradeOptions`; default: all defaults).
    ``work_dir`` is the grading folder (default: a new folder under the kit home's ``grading/``); ``name`` how the
    report names the submission (default: the folder path).
    """
    options = options or GradeOptions()
    seed, rows, schema, keep = options.seed, options.rows, options.schema, options.keep
    max_parallel, cell_timeout, all_cells = options.max_parallel, options.cell_timeout, options.all_cells
    kernels_ahead = options.kernels_ahead
    started = time.monotonic()
    folder = Path(folder).resolve()
    check_arguments(folder=folder, rows=rows, schema=schema)
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
    # The submission's own /Volumes, writable by its kernels and by the server: a worker's server writes only in its
    # own folder, the kit's shared one anywhere.
    volumes: Path | None = None
    volumes_note = None
    try:
        volumes = mirror_volumes(source=settings().volumes_dir,
                                 dest=options.server.root / "volumes" if server_data is not None else work / "volumes")
    except OSError as exc:  # the kit's volumes as they are (read-only to the kernels) rather than no grading
        volumes_note = f"/Volumes was the kit's own, read-only: its private copy could not be made ({exc})"
        volumes = None
    trial_schema = new_schema_name()  # the orchestration trial's: its folder, too, is made before the kernels
    table_folders = _table_folders(options, [schema, trial_schema])
    env = _job_env(base=kernel_env(endpoint), options=options, work=work, data_dir=data_dir, volumes=volumes,
                   volumes_outside=server_data is not None, tables=table_folders)
    # The kernels start (one after another) while the grader imports its checks, copies the submission and makes
    # the data.
    prepare_kernels(env=env, kernels=JOB_KERNELS, ahead=kernels_ahead)
    widget_env = _widget_env(env, widget_schema=widget_schema)
    prepare_kernels(env=widget_env, kernels=WIDGET_KERNELS, ahead=kernels_ahead)
    from checkers.grading import layers_alone as alone
    from checkers.grading.checks import Evidence, NotebookRun, run_checks, snapshot_tables
    from checkers.grading.job_evidence import job_unrunnable, load_job_evidence
    from checkers.grading.kit_code import discount, scan_submission, task_stems
    from checkers.grading.quality_run import QUALITY_KERNELS, orchestration_trial, trial_wanted
    from checkers.grading.runs import read_sources, run_pipeline, run_widgets, widget_reruns
    from checkers.grading.shared_code import own_code, solution_answers
    from checkers.jobs.project import find_submission

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
        before = server_schemas(spark) if server_data is not None else None

        say("Copying the submission")
        notes = copy_submission(source=folder, dest=work / "submission")
        submission = find_submission(folder=work / "submission")
        notes += [*submission.notes, sandboxing, *([volumes_note] if volumes_note else [])]
        job = load_job_evidence(submission)
        if job.loaded is not None:  # the job's own notebook tasks (a quality task too), not the contract's three
            notebooks_in_job = sum(1 for t in job.loaded.tasks.values() if t.notebook_task is not None)
            # Alone, a grading starts all of them ahead: a task never waits behind 00_widgets' kernels.
            job_kernels = max(JOB_KERNELS, notebooks_in_job)
            prepare_kernels(env=env, kernels=job_kernels,
                            ahead=job_kernels if kernels_ahead is None else kernels_ahead)
        unreadable, written = read_sources(submission)
        kit_uses = scan_submission(submission.folder, first=submission.notebooks.values())  # before any code runs
        own = own_code(submission.notebooks)
        answers = solution_answers(submission.notebooks)

        say(f"Generating {rows:,} rows of unseen data (seed {seed})")
        from checkers.data.edges import set_edges
        from checkers.data.generate import generate_events

        data = generate_events(out=data_dir / f"events_seed{seed}.csv", rows=rows, seed=seed,
                               start=DATA_FIRST_DAY + timedelta(days=seed % DATA_START_SPREAD), days=DATA_DAYS)
        set_edges(data.path, seed=seed)  # every grading's data tests the rules' boundaries (checkers.data.edges)
        source_path = data.path.resolve()
        raw_bytes = source_path.read_bytes()  # before any of the submission's code runs

        spark.sql(f"CREATE SCHEMA {schema}")
        params = {"source_path": str(source_path), "schema": schema}
        layer = ("silver", "gold")[seed % 2]
        widget_params = {"layer": layer, "source_path": str(source_path), "schema": widget_schema}
        with ThreadPoolExecutor(max_workers=SIDE_THREADS, thread_name_prefix="day07-grade") as pool:
            expectations: Future[Any] = pool.submit(expectations_for, path=source_path, data=raw_bytes)
            widgets: Future[dict[str, NotebookRun]] = pool.submit(
                run_widgets, submission=submission, unreadable=unreadable, parameters=widget_params,
                defaults_parameters={"schema": widget_schema}, out_dir=work / "widgets", env=widget_env,
                cell_timeout=cell_timeout, skip_kit_checks=not all_cells)
            reason = job_unrunnable(job)
            say("Running the job" if reason is None else "Running the notebooks (the job cannot run as required)")
            pipeline, notebooks = run_pipeline(job=job, submission=submission, unreadable=unreadable,
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
        downstream = alone.Downstream()
        if exp is not None:  # a layer failed: the ones after it run on the grader's table of the layer before them
            downstream = alone.run_downstream(
                spark=spark, exp=exp, schema=schema, submission=submission, unreadable=unreadable, parameters=params,
                runs=notebooks, out_dir=work / "layers_alone", env=env, cell_timeout=cell_timeout,
                skip_kit_checks=not all_cells, owned=owned, say=say)
            notebooks.update(downstream.runs)
            tables.update(downstream.tables)
            notes += downstream.notes
        again = widget_reruns(widget_runs)
        if again:
            say("Running 00_widgets again, with the job's tables in place")
            widget_runs = _rerun_widgets(again, widget_runs, spark=spark, schema=schema, widget_schema=widget_schema,
                                         submission=submission, unreadable=unreadable, parameters=widget_params,
                                         out_dir=work / "widgets_again", env=widget_env, cell_timeout=cell_timeout,
                                         skip_kit_checks=not all_cells, notes=notes)
        # Only now, with the graded run's tables read, the grader's own run on its failing file: nothing the job does
        # there (it sees this grading's schema on the server) can change what was graded.
        quality = None
        if trial_wanted(job=job, runnable=reason is None, pipeline=pipeline):
            say("Running the job on a file that must fail its quality gate, then repairing it")
            prepare_kernels(env=env, kernels=QUALITY_KERNELS, ahead=kernels_ahead)
            quality = orchestration_trial(
                job=job, seed=seed, data_dir=data_dir, runs_dir=work / "runs", env=env, spark=spark,
                max_parallel=max_parallel, cell_timeout=cell_timeout, skip_kit_checks=not all_cells,
                max_retry_interval=GRADING_MAX_RETRY_INTERVAL, owned=owned, keep=keep, schema=trial_schema)
            notes.append(quality.summary())
        evidence = Evidence(submission=submission, schema=schema, source_path=source_path, seed=seed, job=job,
                            run=pipeline, notebooks=notebooks, widget_runs=widget_runs,
                            widget_parameters={k: v for k, v in widget_params.items() if k != "schema"},
                            written=written, quality=quality,
                            tables=tables, expectations=exp, expectations_error=exp_error,
                            gold_on_expected_silver=downstream.gold_on_expected_silver)
        say("Checking")
        results = discount(run_checks(evidence), kit_uses, folder=submission.folder, notebooks=submission.notebooks,
                           task_stems=task_stems(job.loaded))
        notes += [f"{use.where()} uses the kit's solution code (`{use.line}`): its layer's checks are not counted"
                  for use in kit_uses]
    finally:
        release_kernels(env=env)
        release_kernels(env=widget_env)
        if spark is not None:
            for made in [] if keep else owned:
                with contextlib.suppress(Exception):
                    spark.sql(f"DROP SCHEMA IF EXISTS {made} CASCADE")
        leave_nothing_behind(spark, before=None if keep else before, server=options.server)
        for made_folder in [] if keep else table_folders:  # a schema folder made for a run that never came
            with contextlib.suppress(OSError):
                made_folder.rmdir()  # only when empty

    if keep:
        notes.append(f"kept: schema {schema}, the data file, the private copy and its /Volumes (--keep)")
    else:
        shutil.rmtree(work / "submission", ignore_errors=True)
        if volumes is not None:
            remove_mirror(volumes)
        data.path.unlink(missing_ok=True)
        if server_data is not None:
            shutil.rmtree(data_dir, ignore_errors=True)
        notes.append(f"the unseen data is not kept; make it again with `day07 data generate --rows {rows} --seed "
                     f"{seed} --start {data.start} --days {data.days} --edges --out FILE`")
    report = _report(name=name or str(folder), results=results, pipeline=pipeline, seed=seed, rows=rows,
                     schema=schema, work=work, data_file=source_path, notes=notes,
                     duration=time.monotonic() - started)
    report.own_code = own
    report.solution_answers = answers
    write_json(report, work / REPORT_NAME)
    return report


def _rerun_widgets(which: tuple[str, ...], runs: dict[str, NotebookRun], *, spark: Any, schema: str,
                   widget_schema: str, submission: Any, unreadable: dict[str, str], parameters: dict[str, str],
                   out_dir: Path, env: dict[str, str], cell_timeout: float | None, skip_kit_checks: bool,
                   notes: list[str]) -> dict[str, NotebookRun]:
    """A second run of the failed ``00_widgets`` runs, as a learner would run it on Databricks after the job: the
    widget schema (the default schema's stand-in) holds copies of the tables the job wrote, already read for
    grading, so nothing this run does can change them."""
    from checkers.grading.checks.widgets import DEFAULT_SCHEMA
    from checkers.grading.runs import run_widgets

    try:
        spark.sql(f"DROP SCHEMA IF EXISTS `{widget_schema}` CASCADE")
        spark.sql(f"CREATE SCHEMA `{widget_schema}`")
        for table in spark.catalog.listTables(schema):
            if not table.isTemporary:
                spark.sql(f"CREATE TABLE `{widget_schema}`.`{table.name}` AS SELECT * FROM `{schema}`.`{table.name}`")
        second = run_widgets(submission=submission, unreadable=unreadable, parameters=parameters,
                             defaults_parameters={"schema": widget_schema}, out_dir=out_dir, env=env,
                             cell_timeout=cell_timeout, skip_kit_checks=skip_kit_checks, only=which,
                             kernels_ahead=False)
    except Exception as exc:  # noqa: BLE001 - the first runs stand; a second chance must never cost the grading
        notes.append(f"00_widgets could not be run again after the job ({type(exc).__name__}: {exc})")
        return runs
    finally:
        release_kernels(env=env)
    for name, run in second.items():
        first = runs[name].message.splitlines()[0] if runs[name].message else "no message"
        first = first if len(first) <= 240 else first[:239] + "…"
        notes.append(f"00_widgets ({'with values passed' if name == 'passed' else 'without values'}) failed beside "
                     f"the job ({first}); run again after it, with the job's tables under schema {DEFAULT_SCHEMA}: "
                     f"{'it succeeded' if run.ok else run.message}")
    return {**runs, **second}


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
