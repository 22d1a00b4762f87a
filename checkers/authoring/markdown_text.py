"""What every page generator shares: the error it raises and markdown-safe table text.

Kept apart so the generators (CLI, job fields, checks, rubric, lessons) depend on this one module, not on each other.
"""

from __future__ import annotations

from checkers.errors import CheckersError


class DocsError(CheckersError):
    """The docs site cannot be built: a screenshot is missing, mkdocs is absent, a page cannot be generated."""


def table_cell(text: object) -> str:
    """Text safe inside a markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")
