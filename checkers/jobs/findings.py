"""The finding every job check reports, and the words findings share (key paths, values, task names).

The schema walk, the structure checks and the loader (when ``from_dict`` fails) all report findings; they
live here, below all of them, so no check module has to import another for the type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One problem (error) or suspicious choice (warning) in a job definition."""

    level: Level
    """``error``: Databricks would refuse the job or the run would fail; ``warning``: legal but suspicious."""
    code: str
    """Stable id for tests and graders, e.g. ``unknown_key``, ``cycle``, ``invalid_cron``."""
    message: str
    """What is wrong, naming the task and key."""
    task_key: str | None = None
    """The task concerned, when the problem is inside one."""
    key: str | None = None
    """Key path inside the job settings, e.g. ``tasks[1].depends_on[0].task_key``."""
    hint: str | None = None
    """What to do about it."""

    def describe(self) -> str:
        """One line: key path and message."""
        return f"{self.key}: {self.message}" if self.key else self.message


def errors(findings: list[Finding]) -> list[Finding]:
    """Only the error-level findings."""
    return [f for f in findings if f.level == "error"]


class FindingCollector:
    """Collects findings in the order the checks report them; checks sharing one list keep that order."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings

    def add(self, level: Level, code: str, message: str, *, task_key: str | None = None,
            key: str | None = None, hint: str | None = None) -> None:
        self.findings.append(Finding(level, code, task_prefix(task_key) + message, task_key, key, hint))


def value_word(value: Any) -> str:
    """How a message names a value the learner wrote: ``the text 'x'``, ``the number 3``, ``a list``."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "null" if value is None else type(value).__name__


def child_key(key: str, name: str | int) -> str:
    """The key path of ``name`` below ``key``: ``tasks[1]``, ``tasks[1].depends_on``."""
    if isinstance(name, int):
        return f"{key}[{name}]"
    return f"{key}.{name}" if key else str(name)


def task_prefix(task_key: str | None) -> str:
    """``Task `key`: `` in front of a message about one task."""
    return f"Task `{task_key}`: " if task_key else ""
