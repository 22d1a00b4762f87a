"""Points from the grader's catalogue, so a test states which checks a mistake costs, not how much they weigh."""

from __future__ import annotations

from checkers.grading.checks.registry import catalogue


def points(*check_ids: str) -> float:
    """The points of ``check_ids`` together (an unknown id is a test mistake, so it raises)."""
    weights = {spec.id: spec.points for spec in catalogue()}
    return sum(weights[check_id] for check_id in check_ids)


def fraction(check_id: str) -> str:
    """``0/N`` as the CLI prints a failed check of N points."""
    return f"0/{points(check_id):g}"
