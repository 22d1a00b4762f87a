"""One check's result: plain data, importable without the report's renderers (rich), so the in-notebook feedback
(which runs the grader's checks on Databricks too) carries nothing it does not need."""

from __future__ import annotations

from dataclasses import dataclass

STATUSES = ("passed", "failed", "error", "skipped")
"""Check statuses (docs/contract.md)."""


@dataclass
class CheckResult:
    """One check's result."""

    id: str
    """Stable id, e.g. ``silver.dedup``."""
    group: str
    """widgets, bronze, silver, gold, job, run or stretch."""
    title: str
    """What the check verifies."""
    status: str
    """passed, failed, error or skipped."""
    score: float
    """Points earned (0 unless passed)."""
    max_score: float
    """Points the check is worth."""
    message: str
    """What was found, with numbers."""
    hint: str
    """What to do, with the docs page."""
    required: bool = True
    """False for stretch checks: reported, not part of score / max_score."""
