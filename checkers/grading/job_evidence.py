"""The submission's job file as evidence: loaded and validated, and whether (and how) the grader can run it.

A job file that cannot be loaded is evidence for the job checks, never an error of the grader.
"""

from __future__ import annotations

from checkers.errors import CheckersError
from checkers.grading.checks import JobEvidence
from checkers.grading.checks.job import parameter_problems, structure_problems
from checkers.jobs.project import Submission


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
        loaded = load_job(path=path, root=submission.folder)
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


