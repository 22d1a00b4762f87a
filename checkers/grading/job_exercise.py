"""The grader's job checks on a job file, before any run: what ``day07 job validate --exercise`` prints.

``day07 job validate`` says whether a file is a valid Databricks job. A valid job can still be wrong as the Day 07
exercise (gold after bronze is a fine job, and the wrong pipeline). This runs the grader's own checks that need no
run (the ``job`` group, and the stretch goals read from the file) on the same evidence the grader builds, so the
messages are the grader's, word for word. Checks that need a run say so and count as neither right nor wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from checkers.grading.result import CheckResult

RUN_FREE = ("job", "stretch")
"""The check groups judged from the job file alone, less the stretch checks of the grader's own trial run
(stretch.condition also needs a run: it is skipped here)."""
NO_RUN_NOTE = "`day07 job validate` runs nothing"


@dataclass(frozen=True)
class ExerciseReport:
    """The grader's verdicts on one job file."""

    job_file: Path
    results: list[CheckResult]

    @property
    def required(self) -> list[CheckResult]:
        return [r for r in self.results if r.required]

    @property
    def failing(self) -> list[CheckResult]:
        """Required checks that would cost points (failed, or skipped because a prerequisite failed)."""
        return [r for r in self.required if r.status != "passed"]

    @property
    def lost(self) -> float:
        return sum(r.max_score for r in self.failing)

    @property
    def ok(self) -> bool:
        return not self.failing


def check_job_exercise(*, job_file: Path) -> ExerciseReport:
    """Run the grader's run-free job checks on ``job_file`` (its notebooks are looked for next to it, or below its
    bundle's root)."""
    from dataclasses import replace

    from checkers.grading.checks import Evidence, PipelineRun, catalogue, run_checks
    from checkers.grading.job_evidence import load_job_evidence
    from checkers.jobs.bundle import bundle_root
    from checkers.jobs.project import find_submission

    path = Path(job_file)
    root = bundle_root(path)  # a bundle's resources/x.job.yml: its notebooks sit below databricks.yml's folder
    folder = root.parent if root is not None else path.parent
    submission = replace(find_submission(folder=folder), job_file=path, job_problem=None)
    job = load_job_evidence(submission)
    evidence = Evidence(submission=submission, schema="day07", source_path=path, seed=None, job=job,
                        run=PipelineRun(mode="none", note=NO_RUN_NOTE))
    from checkers.grading.checks.run import TRIAL_CHECKS

    specs = [s for s in catalogue() if s.group in RUN_FREE and s.id not in TRIAL_CHECKS]
    return ExerciseReport(job_file=path, results=run_checks(evidence, specs=specs))
