"""The rubric in ``docs/contract.md``: points per check, written from the grader's registry.

It is committed inside the contract page (so GitHub shows it too); ``day07 docs rubric`` rewrites it there, a test
fails when it drifts from the registry, and the site build always renders the registry's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from checkers.authoring.checks_page import GROUP_PAGES, CheckRow, grader_checks, group_order
from checkers.authoring.markdown_text import DocsError, table_cell

CONTRACT_PAGE = "contract.md"
"""The learner contract's page in ``docs/``; it carries the rubric between the two markers below."""
RUBRIC_BEGIN = "<!-- rubric:begin -->"
RUBRIC_END = "<!-- rubric:end -->"


def rubric_markdown(rows: Sequence[CheckRow] | None = None) -> str:
    """The rubric: every check of ``rows`` (by default the grader's registry) with its points, group by group."""
    rows = grader_checks() if rows is None else rows
    groups = group_order(rows)
    required = sum(r.points for r in rows if r.group != "stretch")
    extra = sum(r.points for r in rows if r.group == "stretch")
    out = ["<!-- Generated from the grader's check registry by `day07 docs rubric`. Do not edit by hand. -->", "",
           f"**{required:g} points** for the required checks; the stretch goals are worth **{extra:g} more**, "
           "reported apart from the score.", "",
           "| group | checks | points | taught in |", "|---|---|---|---|"]
    for group in groups:
        members = [r for r in rows if r.group == group]
        if members:
            page = GROUP_PAGES.get(group)
            out.append(f"| [{group}](#rubric-{group}) | {len(members)} | {sum(r.points for r in members):g} | "
                       + (f"[{page.removesuffix('.md')}]({page})" if page else "") + " |")
    for group in groups:
        members = [r for r in rows if r.group == group]
        if not members:
            continue
        points = sum(r.points for r in members)
        out += ["", f"### Rubric: {group}", "", f"{len(members)} checks, {points:g} points.", "",
                "| check | points | passes when | needs first |", "|---|---|---|---|"]
        for r in members:
            needs = ", ".join(f"`{x}`" for x in r.requires)
            out.append(f"| `{r.id}` | {r.points:g} | {table_cell(r.title)} | {needs} |")
    return "\n".join(out) + "\n"


def with_rubric(page: str, rubric: str, *, name: str = CONTRACT_PAGE) -> str:
    """``page`` with the text between the rubric markers replaced by ``rubric``."""
    begin, end = page.find(RUBRIC_BEGIN), page.find(RUBRIC_END)
    if begin < 0 or end < begin:
        raise DocsError(f"{name} has no rubric section: it needs the lines {RUBRIC_BEGIN} and {RUBRIC_END}, "
                        "in that order.", hint=f"Put both markers back where the rubric goes in {name}.")
    return page[:begin + len(RUBRIC_BEGIN)] + "\n" + rubric + page[end:]


def update_rubric(*, page: Path, check: bool = False) -> bool:
    """Write the registry's rubric into ``page``; True when it was stale. With ``check``, only tell."""
    try:
        text = page.read_text(encoding="utf-8")
    except OSError as exc:
        raise DocsError(f"Cannot read {page}: {exc.strerror or exc}.",
                        hint="Run this from the kit's folder, which holds docs/contract.md.") from None
    fresh = with_rubric(text, rubric_markdown(), name=str(page))
    if fresh == text:
        return False
    if not check:
        page.write_text(fresh, encoding="utf-8")
    return True

