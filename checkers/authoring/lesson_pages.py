"""The lessons as pages of the site, and the links between hand-written pages and lessons.

A lesson notebook (``.ipynb`` or Databricks ``.py``) becomes a markdown page with its exercises and check cells
marked; ``job.yml`` becomes a page of its own. Links written for the repository (so they work on GitHub) are pointed
at those pages inside the site.
"""

from __future__ import annotations

import posixpath
import re
import textwrap
from pathlib import Path

from checkers.authoring.markdown_text import DocsError
from checkers.notebooks.formats import find_notebook, read_notebook

#: Lesson files rendered as pages, in the order the course uses them (``<stem>.ipynb`` or ``<stem>.py``).
LESSON_STEMS = ("00_widgets", "01_bronze", "02_silver", "03_gold", "04_quality")
#: The lesson job definition, rendered as a page of its own.
LESSON_JOB = "job.yml"
#: A markdown link's target.
LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


def _rewrite_link(target: str) -> str:
    """Links written for the repository (``../docs/x.md``, ``./01_bronze.ipynb``) → links inside the site."""
    if re.match(r"^[a-z]+:", target) or target.startswith("#"):
        return target
    path, _, fragment = target.partition("#")
    name = Path(path).name
    if path.startswith("../docs/"):
        new = "../" + path.removeprefix("../docs/")
    elif Path(name).stem in LESSON_STEMS or name == LESSON_JOB:
        new = Path(name).stem + ".md" if name != LESSON_JOB else "job.md"
    else:
        return target
    return new + (f"#{fragment}" if fragment else "")


def _rewrite_links(markdown: str) -> str:
    return LINK.sub(lambda m: f"]({_rewrite_link(m.group('target'))})", markdown)


_LIST_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d+[.)])\s")


def _blank_line_before_lists(markdown: str) -> str:
    """Jupyter (CommonMark) starts a list right after a paragraph line; Python-Markdown needs a blank line."""
    out: list[str] = []
    fenced = False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif (not fenced and _LIST_ITEM.match(line) and out and out[-1].strip()
              and not _LIST_ITEM.match(out[-1]) and not out[-1].startswith((" ", "\t"))):
            out.append("")
        out.append(line)
    return "\n".join(out)


def _fence(source: str, language: str) -> str:
    ticks = "````" if "```" in source else "```"
    return f"{ticks}{language}\n{source.rstrip()}\n{ticks}"


def _indent(text: str) -> str:
    return textwrap.indent(text, "    ")


def lesson_page(*, path: Path) -> str:
    """A lesson notebook (.ipynb or Databricks .py) as a markdown page, exercises and checks marked."""
    nb = read_notebook(path)
    download = f"*This page shows `lessons/{path.name}`. [Download the notebook]({path.name}) to run it.*"
    out: list[str] = []
    for cell in nb.cells:
        source = cell.source.rstrip()
        if not source:
            continue
        if cell.cell_type == "markdown":
            text = _blank_line_before_lists(_rewrite_links(source))
            if not out:  # the title: the notebook's own H1, or its name
                title, _, rest = text.partition("\n") if text.startswith("# ") else (f"# {path.stem}", "", text)
                out += [title, download]
                text = rest.strip()
            if text:
                out.append(text)
            continue
        if cell.cell_type != "code":
            continue
        if not out:
            out += [f"# {path.stem}", download]
        first = source.splitlines()[0].strip()
        language = "sql" if first.startswith("%sql") else "markdown" if first.startswith("%md") else "python"
        tags = cell.metadata.get("tags", [])
        block = _fence(source, language)
        if "exercise" in tags:
            exercise = cell.metadata.get("day07", {}).get("exercise", "")
            out.append(f'!!! example "Exercise {exercise}"\n\n{_indent(block)}')
        elif "check" in tags:
            out.append(f'??? success "Check cell: prints ✅ or ❌ for the exercise above"\n\n{_indent(block)}')
        elif "setup" in tags or cell.metadata.get("jupyter", {}).get("source_hidden"):
            out.append(f'??? note "{"Setup cell" if "setup" in tags else "Folded cell"}"\n\n{_indent(block)}')
        else:
            out.append(block)
    return "\n\n".join(out or [f"# {path.stem}", download]).rstrip() + "\n"


def job_lesson_page(*, path: Path) -> str:
    """The lesson's job definition with its TODOs, as a page."""
    text = path.read_text(encoding="utf-8")
    todos = sum(1 for line in text.splitlines() if line.strip().startswith("# TODO"))
    return "\n\n".join([
        "# The job definition: job.yml",
        f"*This page shows `lessons/{path.name}`. [Download the file]({path.name}).*",
        f"This file defines the Day 07 job as a Databricks Asset Bundle resource. It has {todos} `# TODO` "
        "comments: add the job parameters, the schedule and the task dependencies. "
        "[The job workflow](../job-workflow.md), [Task dependencies](../dependencies.md) and "
        "[Scheduling and error handling](../scheduling.md) explain each part.",
        "Check it as you go with `day07 job validate lessons/job.yml`.",
        _fence(text, "yaml"),
    ]) + "\n"


def lesson_files(*, lessons: Path) -> list[Path]:
    """The lesson notebooks in course order, then the job file; a missing one is a :class:`DocsError`."""
    found = []
    for stem in LESSON_STEMS:
        notebook = find_notebook(lessons, stem)
        if notebook is None:
            raise DocsError(f"Lesson {stem} not found in {lessons} (looked for {stem}.ipynb and {stem}.py).",
                            hint="Run `day07 lessons build` to write the lessons from the solutions.")
        found.append(notebook)
    job = lessons / LESSON_JOB
    if not job.is_file():
        raise DocsError(f"{job} not found.", hint="Run `day07 lessons build` to write the lessons from the solutions.")
    return [*found, job]


_LESSON_FILE = re.compile(r"^(?P<stem>[\w-]+)\.(?:ipynb|py|yml|yaml)$")


def site_link(target: str, *, page_dir: str) -> str:
    """A link written for GitHub (``../lessons/01_bronze.ipynb`` from a page in ``docs/``) → its page in the site.

    Hand-written pages link the lesson files themselves, so the links work on GitHub too; the site shows each
    lesson as a generated page (``lessons/<stem>.md``), so the build points the link there.
    """
    if re.match(r"^[a-z]+:", target) or target.startswith(("#", "/")):
        return target
    path, _, fragment = target.partition("#")
    depth = len([part for part in page_dir.split("/") if part])
    resolved = posixpath.normpath(posixpath.join("docs", page_dir, path))
    folder, _, name = resolved.rpartition("/")
    match = _LESSON_FILE.match(name)
    if folder != "lessons" or match is None:
        return target
    stem = match.group("stem")
    if stem not in LESSON_STEMS and name != LESSON_JOB:
        return target
    new = "../" * depth + f"lessons/{'job' if name == LESSON_JOB else stem}.md"
    return new + (f"#{fragment}" if fragment else "")
