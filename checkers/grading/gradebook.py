"""The cohort's gradebook: one entry per submission, saved atomically after every change.

The gradebook is the cohort run's memory: a re-run reads it to skip what is already graded, and an entry left
``running`` (the grader was killed mid-way) or ``interrupted`` (Ctrl-C) is graded again. It is written with
:func:`~checkers.grading.report.write_text_atomic` (temporary file + rename), so a reader — or a crash — never
sees half a file.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from checkers.errors import GradingError
from checkers.grading.report import write_text_atomic

GRADEBOOK_JSON = "gradebook.json"
GRADEBOOK_CSV = "gradebook.csv"
FORMAT_VERSION = 1

PASSED = "passed"
"""Graded; every required check passed."""
FAILED = "failed"
"""Graded; some required check did not pass (the learner's part)."""
ERROR = "error"
"""The grader itself failed on this submission (a bug, or an archive it cannot open); the message says why."""
INFRASTRUCTURE_ERROR = "infrastructure_error"
"""Its Spark server could not be started again after it died: not the learner's failure; graded again on a
re-run. (A server that dies twice while one submission runs is that submission's failure: ``failed``, 0.)"""
RUNNING = "running"
"""Being graded (left like this only when the grader was killed; graded again on a re-run)."""
INTERRUPTED = "interrupted"
"""Ctrl-C stopped its grading; graded again on a re-run."""
PENDING = "pending"
"""Not graded yet."""

DONE_STATUSES = frozenset({PASSED, FAILED, ERROR})
"""Statuses a re-run keeps unless ``--force``."""


@dataclass
class Entry:
    """One submission's line in the gradebook."""

    id: str
    """Submission id: the sub-folder name, or the archive name without ``.zip``."""
    source: str
    """The folder or archive graded."""
    status: str = PENDING
    """One of passed, failed, error, infrastructure_error, running, interrupted, pending."""
    score: float | None = None
    """Required points earned (None until graded)."""
    max_score: float | None = None
    """Required points possible."""
    seed: int | None = None
    """Seed of this submission's own unseen data (derived from the cohort's seed and the id)."""
    groups: dict[str, list[float]] = field(default_factory=dict)
    """Group → [score, max_score] (stretch included)."""
    message: str = ""
    """Why it is not ``passed``: the grader's error, the infrastructure failure, or the first failed checks."""
    report: str | None = None
    """The JSON report (relative to the cohort's out folder)."""
    attempts: int = 0
    """Gradings started for it in the last run (2 when the Spark server died and it was re-graded)."""
    duration_seconds: float | None = None
    """Wall-clock seconds of its last grading."""
    failed_checks: list[str] = field(default_factory=list)
    """Ids of the required checks that failed (or could not run: ``error``), for the cohort summary."""
    skipped_checks: list[str] = field(default_factory=list)
    """Ids of the required checks skipped because a check they need did not pass (0 points, counted apart)."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entry:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


class Gradebook:
    """The entries of one cohort's out folder; thread-safe, every change saved (JSON + CSV) at once."""

    def __init__(self, *, out_dir: Path, seed: int, rows: int, entries: dict[str, Entry] | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.seed = seed
        self.rows = rows
        self.entries: dict[str, Entry] = dict(entries or {})
        self._lock = threading.RLock()

    @property
    def json_path(self) -> Path:
        return self.out_dir / GRADEBOOK_JSON

    @property
    def csv_path(self) -> Path:
        return self.out_dir / GRADEBOOK_CSV

    @classmethod
    def load(cls, *, out_dir: Path) -> Gradebook | None:
        """The gradebook saved in ``out_dir``, or None when there is none."""
        path = Path(out_dir) / GRADEBOOK_JSON
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entries = {e["id"]: Entry.from_dict(e) for e in data["entries"]}
            return cls(out_dir=out_dir, seed=int(data["seed"]), rows=int(data["rows"]), entries=entries)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise GradingError(f"{path} is not a gradebook this kit can read ({type(exc).__name__}: {exc}).",
                               hint="Pass another --out folder, or delete that file to start over.") from None

    def get(self, sid: str) -> Entry | None:
        with self._lock:
            return self.entries.get(sid)

    def put(self, entry: Entry) -> None:
        """Store ``entry`` (replacing the one with its id) and save."""
        with self._lock:
            self.entries[entry.id] = entry
            self.save()

    def save(self) -> None:
        with self._lock:
            data = {"version": FORMAT_VERSION, "seed": self.seed, "rows": self.rows,
                    "entries": [asdict(e) for e in sorted(self.entries.values(), key=lambda e: e.id)]}
            write_text_atomic(self.json_path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
            write_text_atomic(self.csv_path, self.to_csv())

    def groups(self) -> list[str]:
        """Every group any entry has, in first-seen order (the CSV's per-group columns)."""
        out: list[str] = []
        for e in sorted(self.entries.values(), key=lambda e: e.id):
            out += [g for g in e.groups if g not in out]
        return out

    def group_maxima(self) -> dict[str, float]:
        """Group → its points (the same for every graded submission; the largest seen, to be safe)."""
        maxima: dict[str, float] = {}
        for e in self.entries.values():
            for g, (_score, top) in e.groups.items():
                maxima[g] = max(maxima.get(g, 0.0), float(top))
        return maxima

    def to_csv(self) -> str:
        """One row per submission: id, seed, score, max, each group's score and maximum, status, report, message."""
        groups = self.groups()
        maxima = self.group_maxima()
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["id", "seed", "score", "max_score",
                         *(column for g in groups for column in (g, f"{g}_max")), "status", "report", "message"])
        for e in sorted(self.entries.values(), key=lambda e: e.id):
            cells = []
            for g in groups:
                cells += [_cell(e.groups[g][0]) if g in e.groups else "", _cell(maxima.get(g))]
            writer.writerow([e.id, "" if e.seed is None else e.seed, _cell(e.score), _cell(e.max_score), *cells,
                             e.status, e.report or "", e.message.replace("\n", " ")])
        return buf.getvalue()


def _cell(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"
