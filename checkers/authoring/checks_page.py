"""The checks catalogue page: every check of the grader's registry by group, then the exercises in the lessons.

Written from ``checkers.grading.checks`` and from the solutions' exercise markers on every build, so a new check or
exercise reaches the docs without anyone editing a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from checkers.authoring.lessons import find_exercises
from checkers.authoring.markdown_text import table_cell
from checkers.grading.checks import all_checks

#: Check groups in the contract's order, with the page that teaches each.
GROUP_PAGES = {"widgets": "widgets.md", "bronze": "bronze.md", "silver": "silver.md", "gold": "gold.md",
               "job": "job-workflow.md", "run": "orchestration.md", "stretch": "scheduling.md"}


@dataclass(frozen=True)
class CheckRow:
    """One grader check as the catalogue shows it."""

    id: str
    """Stable id, e.g. ``silver.no_duplicates``."""
    group: str
    """One of the contract's groups: widgets, bronze, silver, gold, job, run, stretch."""
    points: float
    """Points the check is worth (stretch points are reported apart from the score)."""
    title: str
    """What the check verifies, in one line."""
    hint: str
    """What to do when it fails."""
    docs: str = ""
    """The docs page that teaches it, e.g. ``silver.md`` (empty when the grader names none)."""
    requires: tuple[str, ...] = ()
    """Checks that must pass first; otherwise this one is skipped."""


def grader_checks() -> list[CheckRow]:
    """The grader's check registry (``checkers.grading.checks.all_checks``), one row per check."""
    return [CheckRow(id=spec.id, group=spec.group, points=float(spec.points), title=spec.title, hint=spec.hint,
                     docs=Path(spec.docs).name if spec.docs else "", requires=tuple(spec.requires))
            for spec in all_checks()]


def group_order(rows: Sequence[CheckRow]) -> list[str]:
    """The contract's groups in its order, then any other group the rows name, alphabetically."""
    return list(GROUP_PAGES) + sorted({r.group for r in rows} - set(GROUP_PAGES))


def _lesson_link(file: str) -> str:
    stem = Path(file).stem
    return f"[{file}](../lessons/{stem}.md)"


def checks_reference(*, solutions: Path, rows: Sequence[CheckRow] | None = None) -> str:
    """The grader's checks (``rows``, by default the registry's) and the exercises marked in ``solutions``."""
    rows = grader_checks() if rows is None else rows
    out = ["# Checks catalogue", "",
           "<!-- Generated from the grader's check registry and the solutions (checkers/authoring). -->", "",
           "`day07 check` runs your job on data you have not seen, then runs the checks below. "
           "Each check belongs to one group. A check whose prerequisite failed is *skipped*, not failed twice.", ""]
    required = sum(r.points for r in rows if r.group != "stretch")
    extra = sum(r.points for r in rows if r.group == "stretch")
    out += [f"{len(rows)} checks: {required:g} points for the required ones, "
            f"{extra:g} extra for the stretch goals.", ""]
    for group in group_order(rows):
        members = [r for r in rows if r.group == group]
        if not members:
            continue
        page = GROUP_PAGES.get(group)
        points = sum(r.points for r in members)
        out += [f"## {group}", "", f"{len(members)} checks, {points:g} points"
                + (f". Learn it on [{page.removesuffix('.md')}](../{page})." if page else "."), "",
                "| check | what it checks | when it fails |", "|---|---|---|"]
        for r in members:
            needs = (" Needs " + ", ".join(f"`{x}`" for x in r.requires) + ".") if r.requires else ""
            page_link = f" ([{r.docs.removesuffix('.md')}](../{r.docs}))" if r.docs else ""
            out.append(f"| `{r.id}`<br>{r.points:g} point{'s' if r.points != 1 else ''} | {table_cell(r.title)}."
                       f"{needs} | {table_cell(r.hint)}{page_link} |")
        out.append("")
    exercises = find_exercises(solutions=solutions)
    out += ["## Exercises in the lessons", "",
            "Each exercise is a `# TODO` cell in a lesson. The cell after it checks your work in the notebook; "
            "`day07 check` stays the judge.", "", "| exercise | file | what to do |", "|---|---|---|"]
    for ex in exercises:
        page = ex.docs.removeprefix("../docs/")
        out.append(f"| [`{ex.id}`](../{page}) | {_lesson_link(ex.file)} | {table_cell(ex.prompt)} |")
    return "\n".join(out).rstrip() + "\n"
