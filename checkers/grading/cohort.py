"""Grade a class: every submission of a cohort folder, in parallel, with a gradebook that survives interruption.

One submission per sub-folder (or ``.zip`` / Databricks ``.dbc`` archive, unpacked safely). Every submission is
graded by :func:`~checkers.grading.grade.grade_submission` on unseen data of its own: its seed is derived from the
cohort's seed (kept in the gradebook) and its id (:func:`~checkers.grading.options.submission_seed`, kept in its
entry and report), so a table copied from a peer never matches. Each is graded from its own private copy, with its
own schema and kernels.

Faults are sorted by whose they are:

- the learner's (a cell that raises, hangs, floods output, a kernel that dies, a broken job): failed checks in
  a normal report — grade_submission already turns these into results;
- the grader's (an exception out of grade_submission): status ``error`` with the message; the cohort goes on;
- the infrastructure's (the Spark server died while grading): the server is restarted and the submission graded
  again once; if the server dies again it is ``infrastructure_error``, never a learner failure.

Ctrl-C: submissions not started stay ``pending``, those in flight are recorded ``interrupted``, the gradebook is
saved, and the :class:`KeyboardInterrupt` propagates. A re-run grades both again.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checkers.errors import CheckersError, GradingError
from checkers.grading.archives import ARCHIVE_SUFFIXES, UnsafeArchiveError, extract_zip, trim_outputs
from checkers.grading.cohort_summary import SUMMARY_JSON, SUMMARY_MD, summarize, summary_json, summary_markdown
from checkers.grading.gradebook import (
    DONE_STATUSES,
    ERROR,
    FAILED,
    INFRASTRUCTURE_ERROR,
    INTERRUPTED,
    PASSED,
    PENDING,
    RUNNING,
    Entry,
    Gradebook,
)
from checkers.grading.options import (
    DEFAULT_ROWS,
    MIN_ROWS,
    GradeOptions,
    SandboxPolicy,
    choose_seed,
    sandbox_note,
    submission_seed,
)
from checkers.grading.report import Report, write_gradescope, write_json, write_junit, write_text_atomic
from checkers.grading.servers import (
    GradingServers,
    Watchdog,
    error_message,
    restart_server,
    server_changed,
    server_identity,
)

if TYPE_CHECKING:
    from checkers.spark.spec import ServerSpec

MESSAGE_CHARS = 500
"""A gradebook message is cut (at a word) to this many characters; the report has every message in full."""
_SKIPPED_NAMES = {"__pycache__", "__MACOSX"}

Grader = Callable[..., Report]
"""Same keywords as :func:`~checkers.grading.grade.grade_submission`."""


@dataclass
class CohortSubmission:
    """One submission found in the cohort folder."""

    id: str
    """Sub-folder name, or archive name without ``.zip`` / ``.dbc``."""
    path: Path
    """The folder or the archive."""


@dataclass
class CohortResult:
    """The outcome of one ``grade_cohort`` call."""

    out_dir: Path
    """Where the gradebook, reports and summary are."""
    seed: int
    """Seed of the unseen data every submission was graded on."""
    entries: list[Entry]
    """Every submission's gradebook entry, by id."""
    graded: list[str] = field(default_factory=list)
    """Ids graded in this call."""
    skipped: list[str] = field(default_factory=list)
    """Ids already graded by an earlier run and kept (no ``force``)."""
    summary: dict[str, Any] = field(default_factory=dict)
    """The cohort summary (also in summary.json): counts, score statistics, histogram, most-failed checks."""
    wall_seconds: float = 0.0
    """Wall-clock time of this call."""

    def entry(self, sid: str) -> Entry:
        return next(e for e in self.entries if e.id == sid)


# --------------------------------------------------------------------------------------------- discovery


def find_submissions(*, cohort_dir: Path) -> list[CohortSubmission]:
    """Sub-folders and archives (``.zip``, Databricks' ``.dbc``) of ``cohort_dir``, by name; hidden entries and caches
    are ignored."""
    cohort_dir = Path(cohort_dir)
    if not cohort_dir.is_dir():
        raise GradingError(f"Cohort folder {cohort_dir} does not exist or is not a folder.",
                           hint="Pass a folder holding one sub-folder (or .zip or .dbc archive) per submission.")
    found: dict[str, CohortSubmission] = {}
    for path in sorted(cohort_dir.iterdir()):
        if path.name.startswith(".") or path.name in _SKIPPED_NAMES or path.is_symlink():
            continue
        if path.is_dir():
            sid = path.name
        elif path.is_file() and path.suffix.lower() in ARCHIVE_SUFFIXES:
            sid = path.stem
        else:
            continue
        if sid in found:
            raise GradingError(f"Two submissions are both called {sid!r} in {cohort_dir}: {found[sid].path.name} "
                               f"and {path.name}.", hint="Keep one of them (the folder or the archive).")
        found[sid] = CohortSubmission(id=sid, path=path)
    if not found:
        raise GradingError(f"No submissions in {cohort_dir}: it has no sub-folders and no .zip or .dbc files.",
                           hint="Put each learner's folder (or .zip / .dbc) inside the cohort folder.")
    return list(found.values())


# --------------------------------------------------------------------------------------------- one submission


@dataclass
class _Job:
    sub: CohortSubmission
    out_dir: Path
    seed: int
    options: GradeOptions
    """How every submission is graded (its seed and server are set per submission)."""
    grader: Grader
    stop: threading.Event
    servers: GradingServers | None = None
    """The workers' servers (None: the kit's shared one, e.g. a test's)."""


def _grade_one(job: _Job, book: Gradebook) -> Entry:
    """Grade one submission; every failure becomes the entry's status, never an exception (bar Ctrl-C)."""
    sub = job.sub
    entry = Entry(id=sub.id, source=str(sub.path), status=RUNNING)
    if job.stop.is_set():
        return Entry(id=sub.id, source=str(sub.path), status=PENDING)
    book.put(entry)
    base = job.out_dir / "submissions" / sub.id
    shutil.rmtree(base, ignore_errors=True)  # a half-graded earlier attempt
    started = time.monotonic()
    try:
        folder = sub.path
        if sub.path.is_file():
            try:
                folder = extract_zip(archive=sub.path, dest=base / "unpacked")
            except UnsafeArchiveError as exc:
                return _finish(book, entry, status=ERROR, message=error_message(exc), started=started)
        with job.servers.take() if job.servers is not None else contextlib.nullcontext() as spec:
            return _grade_on(job, book, entry, folder=folder, base=base, spec=spec, started=started)
    except KeyboardInterrupt:
        _interrupted(book, entry, started)
        raise
    except CheckersError as exc:  # the server cannot be restarted, or the reports cannot be written
        return _finish(book, entry, status=INFRASTRUCTURE_ERROR, message=error_message(exc), started=started)
    except Exception as exc:  # noqa: BLE001 - a bug in the cohort code must not stop the cohort either
        return _finish(book, entry, status=ERROR, message=f"the grader failed: {type(exc).__name__}: {exc} "
                       f"(at {_where(exc)})", started=started)


def _grade_on(job: _Job, book: Gradebook, entry: Entry, *, folder: Path, base: Path, spec: ServerSpec | None,
              started: float) -> Entry:
    """Grade on the server ``spec``, and once more if that server died meanwhile (not the learner's fault)."""
    from checkers.spark.server import ensure_server

    sub = job.sub
    infra = ""
    for attempt in (1, 2):
        entry.attempts = attempt
        if job.stop.is_set():
            return _interrupted(book, entry, started)
        if attempt > 1:
            book.put(entry)  # the gradebook shows the re-grade while it runs
        ensure_server(spec)  # up before the grading starts, so a death during it is noticed
        before = server_identity(spec)
        # A re-grade gets other data: nothing the first attempt saw (the grader's silver, say) fits it.
        entry.seed = submission_seed(job.seed, sub.id if attempt == 1 else f"{sub.id}#{attempt}")
        try:
            report = job.grader(folder=folder, options=replace(job.options, seed=entry.seed, server=spec),
                                work_dir=base / f"attempt-{attempt}", name=sub.id)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - any grader failure is this submission's status
            if job.stop.is_set():
                return _interrupted(book, entry, started)
            if server_changed(before, spec):
                infra = f"the Spark server died while grading it ({error_message(exc)})"
                restart_server(spec)
                continue
            detail = error_message(exc) if isinstance(exc, CheckersError) else (
                f"{type(exc).__name__}: {exc} (at {_where(exc)})")
            return _finish(book, entry, status=ERROR, message=f"the grader failed: {detail}", started=started)
        if job.stop.is_set():  # Ctrl-C reached the kernels too: this result is not the learner's
            return _interrupted(book, entry, started)
        if not report.all_passed and server_changed(before, spec):
            infra = "the Spark server died while grading it"
            restart_server(spec)
            continue
        if infra:
            report.notes.append(f"graded a second time: {infra}; the first grading does not count")
        return _record_report(book, entry, report=report, job=job, started=started)
    # Twice, on a restarted server and other data, and only while this submission ran: its own code stopped the
    # server (a UDF that kills it, or memory it ran out of). Not a way out of being graded: it fails, with 0.
    from checkers.grading.checks import max_score

    entry.score, entry.max_score = 0.0, max_score()
    return _finish(book, entry, status=FAILED,
                   message=f"{infra}; it was restarted and the submission graded again on other data, and it died "
                           "again: its notebooks (or a UDF they ran) stopped the server or ran it out of memory, so "
                           "it scores 0. If the machine itself was short of memory, grade it again alone "
                           "(--force)", started=started)


def _interrupted(book: Gradebook, entry: Entry, started: float) -> Entry:
    return _finish(book, entry, status=INTERRUPTED,
                   message="grading was interrupted (Ctrl-C); it is graded again on a re-run", started=started)


def _record_report(book: Gradebook, entry: Entry, *, report: Report, job: _Job, started: float) -> Entry:
    if report.run_folder:
        report.notes.extend(trim_outputs(folder=Path(report.run_folder)))
    reports = job.out_dir / "reports"
    json_path = write_json(report, reports / f"{entry.id}.json")
    write_junit(report, reports / f"{entry.id}.junit.xml")
    write_gradescope(report, reports / f"{entry.id}.gradescope.json")
    if report.run_folder:
        write_json(report, Path(report.run_folder) / "report.json")
    failed = [c for c in report.required_checks if c.status in ("failed", "error")]
    entry.score, entry.max_score = report.score, report.max_score
    entry.groups = {g: [s, m] for g, (s, m) in report.group_scores().items()}
    entry.report = str(json_path.relative_to(job.out_dir))
    entry.failed_checks = [c.id for c in failed]
    entry.skipped_checks = [c.id for c in report.required_checks if c.status == "skipped"]
    message = shorten("; ".join(f"{c.id}: {c.message.splitlines()[0] if c.message else c.status}"
                                for c in failed), MESSAGE_CHARS)
    return _finish(book, entry, status=PASSED if report.all_passed else FAILED, message=message, started=started)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, with "…" where it was cut."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ;,") + "…"


def _finish(book: Gradebook, entry: Entry, *, status: str, message: str, started: float) -> Entry:
    entry.status = status
    entry.message = message
    entry.duration_seconds = round(time.monotonic() - started, 2)
    book.put(entry)
    return entry


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "unknown place"
    last = frames[-1]
    return f"{Path(last.filename).name}:{last.lineno} in {last.name}"


# --------------------------------------------------------------------------------------------- the cohort


def grade_cohort(*, cohort_dir: Path, out_dir: Path, workers: int = 2, force: bool = False, seed: int | None = None,
                 rows: int | None = None, cell_timeout: float | None = None, max_parallel: int = 1,
                 sandbox: SandboxPolicy = "required",
                 progress: Callable[[Entry, int, int], None] | None = None,
                 on_start: Callable[[list[CohortSubmission]], None] | None = None) -> CohortResult:
    """Grade every submission in ``cohort_dir`` into ``out_dir`` (gradebook, reports, summary) and return the result.

    ``workers`` submissions are graded at once. ``seed``/``rows`` pick the unseen data for the whole cohort
    (default: the seed of an existing gradebook in ``out_dir``, else a random one). Without ``force``, submissions
    the gradebook already has as passed / failed / error are kept. ``progress(entry, done, total)`` is called after
    each submission; ``on_start(todo)`` once with what will be graded. ``max_parallel`` is the job tasks run at once
    inside one submission. ``sandbox``: a class's code runs confined; without bubblewrap the cohort is refused
    unless ``"off"`` (``--no-sandbox``), which every report then states.
    """
    started = time.monotonic()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise GradingError(f"--workers {workers!r} must be a whole number of at least 1.", hint="Use e.g. --workers 2.")
    if cell_timeout is not None and cell_timeout <= 0:
        raise GradingError(f"--cell-timeout {cell_timeout!r} must be a positive number of seconds.",
                           hint="Use e.g. --cell-timeout 120.")
    subs = find_submissions(cohort_dir=cohort_dir)
    sandbox_note(sandbox)  # refuses now, before anything runs, when the sandbox is required and missing
    out_dir = Path(out_dir).resolve()  # kernels run elsewhere: a relative folder would not be found there
    out_dir.mkdir(parents=True, exist_ok=True)
    book = Gradebook.load(out_dir=out_dir)
    if book is not None and not force and ((seed is not None and seed != book.seed) or
                                           (rows is not None and rows != book.rows)):
        raise GradingError(f"{book.json_path} graded this cohort on seed {book.seed} with {book.rows} rows; "
                           f"mixing data would make the scores incomparable.",
                           hint="Leave --seed/--rows out to continue, --force to regrade all, or use another --out.")
    if book is None or force:
        rows = rows if rows is not None else book.rows if book is not None else DEFAULT_ROWS
        seed = choose_seed(seed if seed is not None else book.seed if book is not None else None)
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < MIN_ROWS:
            raise GradingError(f"--rows {rows!r} is too small: the unseen data needs at least {MIN_ROWS} rows so "
                               "every cleaning rule is tested.", hint=f"Use the default ({DEFAULT_ROWS}) or more.")
        book = Gradebook(out_dir=out_dir, seed=seed, rows=rows)
    ids = {s.id for s in subs}
    for sid in [sid for sid in book.entries if sid not in ids]:
        del book.entries[sid]  # no longer in the cohort folder
    todo = []
    skipped = []
    for sub in subs:
        old = book.get(sub.id)
        if old is not None and old.status in DONE_STATUSES and not force:
            skipped.append(sub.id)
        else:
            todo.append(sub)
            book.entries[sub.id] = Entry(id=sub.id, source=str(sub.path), status=PENDING)
    book.save()
    if on_start is not None:
        on_start(todo)

    graded: list[str] = []
    if todo:
        stop = threading.Event()
        hidden = (Path(cohort_dir).resolve(), out_dir.resolve())
        options = GradeOptions(rows=book.rows, cell_timeout=cell_timeout, max_parallel=max_parallel,
                               kernels_ahead=1 if workers > 1 else None, sandbox=sandbox, hidden=hidden)
        servers = GradingServers(workers=min(workers, len(todo)), confined=sandbox != "off", hidden=hidden,
                                 rows=book.rows)
        jobs = [_Job(sub=s, out_dir=out_dir, seed=book.seed, options=options, grader=_default_grader(), stop=stop,
                     servers=servers) for s in todo]
        try:
            with Watchdog(list(servers.specs)):
                graded = _run_pool(jobs=jobs, book=book, workers=workers, stop=stop, progress=progress)
        finally:
            servers.close()

    from checkers.grading.shared_code import cohort_copies, cohort_pairs

    reports = {e.id: e.report for e in book.entries.values()}
    summary = summarize(book, shared_code=cohort_pairs(out_dir=out_dir, reports=reports),
                        solution_copies=cohort_copies(out_dir=out_dir, reports=reports))
    write_text_atomic(out_dir / SUMMARY_JSON, summary_json(summary))
    write_text_atomic(out_dir / SUMMARY_MD, summary_markdown(summary))
    return CohortResult(out_dir=out_dir, seed=book.seed, entries=sorted(book.entries.values(), key=lambda e: e.id),
                        graded=graded, skipped=skipped, summary=summary, wall_seconds=time.monotonic() - started)


def _run_pool(*, jobs: list[_Job], book: Gradebook, workers: int, stop: threading.Event,
              progress: Callable[[Entry, int, int], None] | None) -> list[str]:
    """Grade ``jobs`` ``workers`` at a time; on Ctrl-C record what was in flight as interrupted, then re-raise."""
    graded: list[str] = []
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="day07-cohort")
    futures: dict[Future[Entry], _Job] = {pool.submit(_grade_one, j, book): j for j in jobs}
    try:
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for f in finished:
                entry = f.result()
                graded.append(entry.id)
                if progress is not None:
                    progress(entry, len(graded), len(jobs))
    except BaseException:
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        for f, j in futures.items():
            e = book.get(j.sub.id)
            if not f.done() and e is not None and e.status == RUNNING:
                book.put(Entry(id=e.id, source=e.source, status=INTERRUPTED, attempts=e.attempts,
                               message="grading was interrupted (Ctrl-C); it is graded again on a re-run"))
        book.save()
        raise
    pool.shutdown(wait=True)
    return graded


def _default_grader() -> Grader:
    """The grader (looked up at call time, so tests can replace it)."""
    from checkers.grading import grade

    return grade.grade_submission
