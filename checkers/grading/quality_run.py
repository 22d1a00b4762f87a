"""The grader's own orchestration run: the learner's job on a file that must fail its quality gate, then a repair.

The orchestration exercises (docs/orchestration.md) are graded only from what the grader does and sees itself:

1. It writes a second raw file (a seed of its own, derived from the grading's) in which a share of the rows, drawn
   at random between 8 and 80 %, miss a required value, so the data-quality task must fail.
2. It runs the learner's job on that file, into a fresh schema, with a ``max_bad_pct`` override **below** that
   share (a number the learner cannot know): ``04_quality`` must fail after setting ``bad_rows``, and gold must
   not run.
3. Half the time (drawn per grading) it first repairs the run with another ``max_bad_pct`` below the share: the
   quality task must fail again. So how many failing tries come before the passing one cannot be known in advance,
   and a notebook that counts its runs, instead of comparing with the threshold, cannot time its answers.
4. It repairs the run from the record it holds in memory, with a ``max_bad_pct`` **above** the share: only the
   failed tasks run again, ``04_quality`` now passes on the same bronze, gold runs, and the run ends SUCCESS.

It starts only after the graded run's tables were read, so nothing it runs can change them. The runner's record
lives in the grader process; the task value is the one the runtime streamed as it was set;
the bad rows are counted by the grader from the file's bytes (read before any learner code ran) and from the
learner's bronze table through the grader's own Spark session. Nothing a notebook writes to a file counts.
"""

from __future__ import annotations

import hashlib
import math
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from checkers.errors import CheckersError
from checkers.grading.checks.evidence import PipelineRun, QualityRun, TaskState
from checkers.grading.options import new_schema_name
from checkers.grading.quality_rule import QUALITY_STEM, THRESHOLD, count_bad_rows, count_bad_rows_csv

QUALITY_ROWS = 2_000
"""Rows of the failing file: the gate needs no more, and the job runs twice on it."""
BLANK_SHARE = (0.08, 0.80)
"""The share of rows (drawn per grading) whose ``user_session`` the grader blanks."""
QUALITY_KERNELS = 6
"""Kernels the run and the repairs need at most: bronze, silver, 04_quality; 04_quality; 04_quality and gold."""
FIRST_DAY = date(2019, 10, 1)


def quality_seed(seed: int) -> int:
    """The failing file's seed, derived from the grading's own (reproducible, never the same)."""
    digest = hashlib.sha256(f"day07-quality:{seed}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % (2**31 - 2) + 1


def blank_share(rng: random.Random) -> float:
    """The share of rows to blank: as often 8–16 % as 40–80 % (log-uniform), so no fixed number sits near most."""
    return math.exp(rng.uniform(math.log(BLANK_SHARE[0]), math.log(BLANK_SHARE[1])))


def write_failing_data(*, out: Path, seed: int, rows: int = QUALITY_ROWS) -> tuple[int, int]:
    """Write raw events like the grader's unseen data, then blank ``user_session`` in a random share of the rows.

    Returns (bad rows, rows) as the quality rule counts them.
    """
    from checkers.data.generate import generate_events

    generate_events(out=out, rows=rows, seed=seed, start=FIRST_DAY + timedelta(days=seed % 24), days=2)
    rng = random.Random(seed)
    share = blank_share(rng)
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    blanked = [lines[0]]
    for line in lines[1:]:
        if rng.random() < share:
            body = line.rstrip("\r\n")
            line = body[: body.rfind(",") + 1] + line[len(body):]  # user_session is the last column
        blanked.append(line)
    out.write_text("".join(blanked), encoding="utf-8")
    return count_bad_rows_csv(out.read_bytes())


def thresholds(*, seed: int, share: float) -> tuple[str, str, str]:
    """(below, again, above) the share, drawn per grading, close to it: a gate that compares ``max_bad_pct`` with a
    fixed number instead of the share lands between them rarely (the best fixed number, over 5 000 simulated
    gradings: 15 %; with the ranges used before: 78 %).

    ``again`` is a second value below the share for an extra failing repair, or "" when none is made this time.
    Whole numbers, at least one point away from the share: a gate that reads the widget with ``int(...)`` (the
    lesson's default is ``5``) or rounds the share compares right too.
    """
    rng = random.Random(f"day07-thresholds:{seed}")
    below = max(1, min(math.floor(share * rng.uniform(0.85, 0.93)), math.floor(share - 1)))
    above = min(99, max(math.ceil(share * rng.uniform(1.07, 1.15) + 0.5), math.ceil(share + 1)))
    again = max(1, min(math.floor(share * rng.uniform(0.4, 0.9)), math.floor(share - 1))) \
        if rng.random() < 0.5 else None
    return str(below), "" if again is None else str(again), str(above)


def states(record: Any, stems: dict[str, str]) -> PipelineRun:
    """A copy of the run's task states (the repair changes the record in place)."""
    tasks = [TaskState(task_key=t.task_key, kind=t.type, result_state=t.result_state,
                       depends_on=[d["task_key"] for d in t.depends_on], notebook=stems.get(t.task_key),
                       start_time=t.start_time, end_time=t.end_time, message=t.message, outcome=t.outcome,
                       parameters=dict(t.parameters)) for t in record.tasks]
    return PipelineRun(mode="job", result_state=record.result_state, tasks=tasks, run_dir=Path(record.run_dir),
                       parameters=dict(record.parameters), message=record.message)


def _task_values(record: Any, key: str | None) -> dict[str, Any]:
    task = next((t for t in record.tasks if t.task_key == key), None)
    if task is None or not task.attempts or task.attempts[-1].runtime is None:
        return {}
    return dict(task.attempts[-1].runtime.task_values)


def run_quality_trial(*, job: Any, seed: int, data_dir: Path, runs_dir: Path, env: dict[str, str], spark: Any,
                      max_parallel: int, cell_timeout: float | None, skip_kit_checks: bool,
                      max_retry_interval: float | None, owned: list[str], keep: bool = False,
                      schema: str | None = None) -> QualityRun:
    """Run the learner's job on a failing file, then repair it (see the module's docstring); never raises for the
    submission's sake. The run's schema is added to ``owned`` (the grading drops it)."""
    from checkers.grading.checks.job import structure
    from checkers.jobs.run import repair_run, run_job

    s = structure(job)
    stems = {key: stem for stem, keys in s.by_stem.items() for key in keys}
    out = QualityRun(status="ran", quality_key=s.key(QUALITY_STEM), gold_key=s.key("03_gold"),
                     seed=quality_seed(seed))
    schema = schema or new_schema_name()  # named like the grading's own: nothing tells the two apart
    path = data_dir / f"events_seed{out.seed}.csv"
    try:
        out.bad_rows, out.rows = write_failing_data(out=path, seed=out.seed or 0)
        out.fail_at, out.again_at, out.pass_at = thresholds(seed=seed, share=out.share)
        spark.sql(f"CREATE SCHEMA {schema}")
        owned.append(schema)
        params = {"source_path": str(path.resolve()), "schema": schema, THRESHOLD: out.fail_at}
        record = run_job(job=job, parameters=params, max_parallel=max_parallel, runs_dir=runs_dir,
                         cell_timeout=cell_timeout, validate=False, spark=True, env=env,
                         skip_kit_checks=skip_kit_checks, max_retry_interval=max_retry_interval)
        out.first = states(record, stems)
        out.first_values = _task_values(record, out.quality_key)
        out.bronze_bad_rows, out.bronze_rows = _bronze_counts(spark, schema)
        if record.result_state == "SUCCESS":
            out.note = f"the run with {THRESHOLD}={out.fail_at} succeeded, so there was nothing to repair"
            return out
        repair = {"job": job, "max_parallel": max_parallel, "cell_timeout": cell_timeout, "validate": False,
                  "spark": True, "env": env, "skip_kit_checks": skip_kit_checks,
                  "max_retry_interval": max_retry_interval}
        if out.again_at:
            record = repair_run(run_id=record.run_id, record=record, parameters={THRESHOLD: out.again_at}, **repair)
            out.again = states(record, stems)
            if record.result_state == "SUCCESS":
                out.note = f"the repair with {THRESHOLD}={out.again_at} succeeded, so there was nothing left to repair"
                return out
        record = repair_run(run_id=record.run_id, record=record, parameters={THRESHOLD: out.pass_at}, **repair)
        out.rerun = list(record.repairs[-1].rerun_tasks) if record.repairs else []
        out.repair = states(record, stems)
        out.gold_rows = _table_rows(spark, f"{schema}.gold_daily_sales")
    except CheckersError as exc:
        out.note = f"the grader's run of the job on its failing file could not run: {exc.message}"
    except Exception as exc:  # noqa: BLE001 - a runner bug must not cost the rest of the grading
        out.note = f"the grader's run of the job on its failing file failed: {type(exc).__name__}: {exc}"
    finally:
        if not keep:
            path.unlink(missing_ok=True)
    return out


def _bronze_counts(spark: Any, schema: str) -> tuple[int | None, int | None]:
    try:
        return count_bad_rows(spark.table(f"{schema}.bronze_events"))
    except Exception:  # noqa: BLE001 - no (readable) bronze table: the file's counts stand
        return None, None


def _table_rows(spark: Any, name: str) -> int | None:
    try:
        return int(spark.table(name).count())
    except Exception:  # noqa: BLE001 - no table: None
        return None



def trial_wanted(*, job: Any, runnable: bool, pipeline: PipelineRun) -> bool:
    """Whether the grader makes its orchestration run: the job ran on its data and has the quality gate."""
    from checkers.grading.checks.job import fan_out_problems

    return runnable and job.loaded is not None and pipeline.mode == "job" and not fan_out_problems(job.loaded)


def orchestration_trial(*, job: Any, **run: Any) -> QualityRun:
    """:func:`run_quality_trial` on the job evidence's loaded job (``run`` holds its other arguments); a miswired job
    runs one task at a time, as the graded run did."""
    from checkers.grading.checks.job import structure_problems

    if structure_problems(job.loaded):
        run["max_parallel"] = 1
    return run_quality_trial(job=job.loaded, **run)
