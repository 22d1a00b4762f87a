"""The docs site as a whole: the pages that exist only in the build, the screenshots it needs, the mkdocs run.

Reference pages (the CLI, the job fields, the grader's checks, the settings) are written from the code on every
build, so they cannot drift from it; the lessons are rendered from ``lessons/``. Nothing generated lands in
``docs/``: the pages exist only in the build (mkdocs ``File.generated``), so ``mkdocs serve`` never loops on its
own output.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from checkers.authoring.checks_page import checks_reference
from checkers.authoring.cli_page import cli_reference
from checkers.authoring.job_fields_page import job_fields_reference
from checkers.authoring.lesson_pages import LESSON_JOB, job_lesson_page, lesson_files, lesson_page
from checkers.authoring.settings_page import settings_reference

#: Screenshots every build needs; ``day07 docs screenshots`` writes them (see :mod:`checkers.authoring.screenshots`).
REQUIRED_IMAGES = ("widgets.png", "bronze_layer.png", "silver_layer.png", "gold_layer.png", "job_workflow.png",
                   "job_workflow_2.png")


@dataclass(frozen=True)
class GeneratedPage:
    """A page (or file) that exists only in the build."""

    uri: str
    """Path inside the site's docs, e.g. ``reference/cli.md``."""
    content: str | None = None
    """Markdown text, for a generated page."""
    source: Path | None = None
    """A file copied as is (a lesson notebook offered for download)."""


def generated_pages(*, root: Path, parser: argparse.ArgumentParser) -> list[GeneratedPage]:
    """Every generated page of the site, for the repository at ``root``; ``parser`` is the CLI the reference shows."""
    pages = [GeneratedPage("reference/cli.md", cli_reference(parser=parser, root=root)),
             GeneratedPage("reference/job-fields.md", job_fields_reference()),
             GeneratedPage("reference/checks.md", checks_reference(solutions=root / "solutions")),
             GeneratedPage("reference/settings.md", settings_reference())]
    for path in lesson_files(lessons=root / "lessons"):
        content = job_lesson_page(path=path) if path.name == LESSON_JOB else lesson_page(path=path)
        stem = "job" if path.name == LESSON_JOB else path.stem
        pages += [GeneratedPage(f"lessons/{stem}.md", content), GeneratedPage(f"lessons/{path.name}", source=path)]
    return pages


def missing_images(*, docs_dir: Path) -> list[str]:
    """Required screenshots absent from ``docs/images`` (or empty files)."""
    images = docs_dir / "images"
    return [name for name in REQUIRED_IMAGES if not (images / name).is_file() or (images / name).stat().st_size == 0]
