"""Small helpers the group modules share: numbers in messages, examples, the verdict from a list of problems, and
the "was the table written" check."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from checkers.grading.checks.evidence import Evidence, TableSnapshot
from checkers.grading.checks.registry import CheckFunc, Outcome, errored, failed, passed, skipped

MONEY_TOLERANCE = 0.01 + 1e-6
"""Money compares within a cent, plus a margin for floating-point noise."""


def thousands(value: float | int) -> str:
    """``18412`` → ``18 412`` (thin, unambiguous thousands separator in every locale)."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".replace(",", " ")
    return f"{int(value):,}".replace(",", " ")


def verdict(problems: Iterable[str | None], ok: str | Callable[[], str], *, hint: str | None = None,
            prefix: str = "") -> Outcome:
    """How most checks end: failed with every problem found (``prefix`` + the problems joined by "; "), else passed.

    ``problems`` may hold None for a test that found nothing. ``ok`` (the passed message) may be a function, called
    only on a pass: it may need what a failing table lacks.
    """
    found = [p for p in problems if p]
    if found:
        return failed(prefix + "; ".join(found), hint=hint)
    return passed(ok() if callable(ok) else ok)


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{thousands(count)} {word if count == 1 else (many or word + 's')}"


def quoted(values: Iterable[Any], limit: int = 4) -> str:
    """``'a', 'b', 'c' …`` for a few examples."""
    items = list(values)
    shown = ", ".join(repr(plain(v)) for v in items[:limit])
    return shown + (" …" if len(items) > limit else "")


def plain(value: Any) -> Any:
    """A numpy / pandas scalar as the Python value it holds (None for any null), for messages."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        try:
            return value.item()
        except (ValueError, AttributeError):
            return value
    return value


def has_columns(snap: TableSnapshot, columns: Iterable[str]) -> bool:
    """True when ``snap`` has every one of ``columns`` (so the checks of their values can still judge it)."""
    return all(c in snap.columns for c in columns)


def columns_problem(snap: TableSnapshot, expected: Iterable[str], *, what: str,
                    allowed: Iterable[str] = ()) -> str | None:
    """Missing / extra columns in words, or None when the columns are exactly ``expected`` (plus any of
    ``allowed``)."""
    expected = list(expected)
    have = snap.columns
    missing = [c for c in expected if c not in have]
    extra = [c for c in have if c not in expected and c not in allowed]
    parts = []
    if missing:
        parts.append(f"it has no column {', '.join(missing)}")
    if extra:
        parts.append(f"it has extra column{'s' if len(extra) > 1 else ''} {', '.join(extra)}")
    if not parts:
        return None
    return f"{snap.qualified} ({what}): " + " and ".join(parts) + f"; expected exactly {', '.join(expected)}"


def table_written(ev: Evidence, name: str, stem: str) -> Outcome:
    """The first check of every table: it exists in the grader's schema and can be read.

    When it does not, the message says why in the learner's terms: the notebook is missing, stopped at a
    lesson exercise ("not done yet"), failed, or ran fine but wrote somewhere else. A notebook that never
    ran because an earlier one failed makes this check skipped (the earlier failure is reported there).
    """
    snap = ev.table(name)
    if snap.readable:
        return passed(f"{snap.qualified} exists ({plural(snap.rows, 'row')})")
    if snap.exists:
        return errored(f"{snap.qualified} exists but could not be read: {snap.error}",
                       hint="Run the notebook again; if it keeps happening, look at the Spark server log "
                            "(`day07 spark status`).")
    run = ev.notebook_run(stem)
    if run.status == "not_run":
        return skipped(f"{snap.qualified} was not written because {stem} did not run: {run.message}")
    if not run.ok:
        return failed(f"{snap.qualified} was not written: {run.explain()}",
                      hint=not_done_hint(run.exercise) if run.exercise else None)
    return failed(f"{stem} ran without error but {snap.qualified} does not exist",
                  hint=f"Read the `schema` widget and write the table as f\"{{schema}}.{name}\" with "
                       f"saveAsTable (mode overwrite); the grader passes schema={ev.schema}.")


def not_done_hint(exercise: str) -> str:
    """The hint for a lesson exercise that still raises its placeholder."""
    return (f"Do exercise {exercise}: replace its `raise NotImplementedError(...)` line with your code, "
            "run the notebook, then grade again.")


def as_count(value: Any) -> int | float | None:
    """A task value that holds a count: a number, or the text of a whole number (``"30000"``); else None.

    Databricks keeps a task value as JSON and a condition task compares ``"30000"`` with ``"0"`` as numbers, so a
    count set as text works there as well as an int does. ``True`` is not a count.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    return None


def needs_columns(table: str, *columns: str, usable: Callable[[TableSnapshot, str], bool] | None = None,
                  says: str = "its table check") -> Callable[[CheckFunc], CheckFunc]:
    """A check of ``columns`` of ``table``: skipped, naming them, when the table lacks one (or, with ``usable``, holds
    it in a type the check cannot judge). The table's columns check marks that down once, and does not stop the
    checks of the columns the table has."""

    def wrap(judge: CheckFunc) -> CheckFunc:
        @functools.wraps(judge)
        def run(ev: Evidence) -> Outcome:
            snap = ev.table(table)
            fit = usable or (lambda s, c: c in s.columns)
            lacking = [c for c in columns if not fit(snap, c)]
            if lacking:
                return skipped(f"{snap.qualified} has no {'usable ' if usable else ''}column {', '.join(lacking)} "
                               f"({says} says so)")
            return judge(ev)

        return run

    return wrap
