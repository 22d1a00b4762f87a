"""How one submission is graded: :class:`GradeOptions`, the rules for the unseen data's seed and size, the
sandbox policy, and the grader's tuning constants.

Part of :mod:`checkers.grading`; imports only the layers below it (config, data, errors, sandbox, runtime).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from checkers.config import settings
from checkers.data import SAMPLE_SEED
from checkers.errors import CheckersError, GradingError

DEFAULT_ROWS = 30_000
"""Rows of unseen data: enough for every kind of dirt to appear many times, small enough to grade fast."""
MIN_ROWS = 2_000
"""Below this the generator cannot promise every kind of dirt, so some rules would go untested."""
DATA_DAYS = 7
"""Days the unseen data spans (several, so daily sales has several rows)."""
DATA_FIRST_DAY = date(2019, 10, 1)
"""The earliest first day of the unseen data."""
DATA_START_SPREAD = 24
"""The first day moves up to this many days past :data:`DATA_FIRST_DAY`, with the seed (dates differ per seed)."""
JOB_KERNELS = 3
"""Bronze, silver and gold: the job's kernels a grading starts ahead of need (no more)."""
WIDGET_KERNELS = 2
"""00_widgets runs twice (with values, without)."""
WIDGET_NICENESS = 10
"""00_widgets runs beside the job and is not waited for until the job ends: its kernels yield the CPU to the job's."""
SIDE_THREADS = 3
"""Threads of one grading: the expectations and ``00_widgets`` are worked out beside the job."""
GRADING_MAX_RETRY_INTERVAL = 5.0
"""Seconds the grader waits at most between a task's retries (a job may ask for minutes; retries still happen)."""
_SCHEMA_RE = re.compile(r"[a-z_][a-z0-9_]{0,99}")
Progress = Callable[[str], None]
"""Called with a short phase description ("Running the job", ...) as grading moves on."""
SandboxPolicy = Literal["auto", "required", "off"]
"""``auto``: sandbox the kernels when bubblewrap works, else grade with a note (a learner's own ``day07 check``);
``required``: refuse to grade without it (``day07 grade`` of a class's work); ``off``: never (``--no-sandbox``),
written in the report."""


@dataclass(frozen=True)
class GradeOptions:
    """How one submission is graded: the knobs of :func:`~checkers.grading.grade.grade_submission`, in one place."""

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


def check_arguments(*, folder: Path, rows: int, schema: str | None) -> None:
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


