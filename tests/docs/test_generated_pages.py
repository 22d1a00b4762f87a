"""The generated reference and lesson pages: written from the code, so they cannot drift from it."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from checkers.authoring import (
    checks_page,
    cli_page,
    job_fields_page,
    lesson_pages,
    markdown_text,
    rubric,
    site,
    site_hooks,
)
from checkers.config import PROJECT_ROOT


def _all_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _all_parsers(sub)
    return found


# ------------------------------------------------------------------------------------------------ CLI page


def _toy_parser(root: Path) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toy", description="A toy command.")
    sub = parser.add_subparsers(metavar="COMMAND")
    grade = sub.add_parser("grade", help="grade a folder", description="Grade every submission | in a folder.")
    grade.add_argument("folder", type=Path, help="the cohort folder")
    grade.add_argument("--workers", type=int, default=3, help="submissions at once")
    grade.add_argument("--out", type=Path, default=root / "reports", metavar="DIR", help="where reports go")
    grade.add_argument("--format", choices=("csv", "json"), default="csv", help="gradebook format")
    grade.add_argument("--force", action="store_true", help="grade everything again")
    nested = sub.add_parser("cohort", help="cohort tools").add_subparsers(metavar="ACTION")
    nested.add_parser("summary", help="print the summary")
    return parser


def test_cli_page_documents_each_command_option_and_default(tmp_path: Path) -> None:
    page = cli_page.cli_reference(parser=_toy_parser(tmp_path), root=tmp_path)

    for heading in ("## `toy grade`", "## `toy cohort`", "### `toy cohort summary`"):
        assert heading in page
    assert "Grade every submission \\| in a folder." not in page  # descriptions are prose, not table cells
    assert "Grade every submission | in a folder." in page
    assert "toy grade [-h] [--workers WORKERS] [--out DIR] [--format {csv,json}] [--force] folder" in page
    rows = {line.split(" | ")[0]: line for line in page.splitlines() if line.startswith("| <code>")}
    assert "<code>3</code>" in rows["| <code>--workers WORKERS</code>"]
    # a path default under the repository is shown relative to it, not as this machine's absolute path
    assert "<code>reports</code>" in rows["| <code>--out DIR</code>"] and str(tmp_path) not in page
    assert "<code>csv</code>" in rows["| <code>--format {csv,json}</code>"]
    assert rows["| <code>--force</code>"].rstrip().endswith("|  |")  # a flag has no default to show
    assert "[`toy grade`](#toy-grade)" in page


def test_cli_page_covers_every_command_of_the_real_cli() -> None:
    from checkers.cli import build_parser

    parser = build_parser()
    page = cli_page.cli_reference(parser=parser, root=PROJECT_ROOT)
    for sub in _all_parsers(parser)[1:]:
        assert f"`{sub.prog}`" in page, f"{sub.prog} has no section"
        for action in sub._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert option in page, f"{sub.prog} {option} is not documented"
    assert str(PROJECT_ROOT) not in page


# ------------------------------------------------------------------------------------------------ job fields


def test_job_fields_page_lists_the_fields_the_validator_walks() -> None:
    from databricks.sdk.service import jobs

    from checkers.jobs.sdk_fields import sdk_fields

    page = job_fields_page.job_fields_reference()
    sections = {chunk.split("\n", 1)[0]: chunk for chunk in page.split("\n## ")[1:]}
    for cls in (jobs.JobSettings, jobs.Task, jobs.TaskDependency, jobs.CronSchedule, jobs.ConditionTask):
        for name in sdk_fields(cls):
            assert f"| `{name}` |" in sections[cls.__name__], f"{cls.__name__}.{name} missing"
    assert "| `task_key` | string | yes |" in sections["Task"]
    for member in jobs.RunIf:
        assert f"`{member.value}`" in sections["RunIf"]
    assert "**ClusterSpec**" in sections["Every other type"]  # reachable through job_clusters / new_cluster
    assert "](/" not in page  # the SDK's links into docs.databricks.com would be broken links here


@pytest.mark.parametrize("job_file", ["bad_cycle.yml", "bad_typo_key.yml", "bad_run_if.yml", "bad_cron.yml",
                                      "warn_retry_immediately.yml", "bad_reference_not_upstream.yml"])
def test_job_fields_page_lists_each_finding_code_the_validator_reports(files: Path, job_file: str) -> None:
    from checkers.jobs.load import load_job
    from checkers.jobs.validate import validate_job

    findings = validate_job(load_job(path=files / "jobs" / job_file))
    assert findings, f"{job_file} should give findings"
    page = job_fields_page.job_fields_reference()
    for finding in findings:
        assert f"| `{finding.code}` | " in page, f"code {finding.code} ({job_file}) is not documented"


# ------------------------------------------------------------------------------------------------ checks page


def test_checks_page_is_generated_from_the_grader_registry() -> None:
    rows = [
        checks_page.CheckRow("job.schedule", "job", 10, "daily at 02:00", "Use 0 0 2 * * ?"),
        checks_page.CheckRow("silver.no_duplicates", "silver", 5, "one row per event", "dropDuplicates on the key",
                             docs="silver.md", requires=("silver.table", "bronze.rows")),
        checks_page.CheckRow("widgets.declared", "widgets", 4, "widgets | declared", "declare them"),
        checks_page.CheckRow("stretch.retries", "stretch", 2, "bronze retries", "max_retries: 1"),
    ]
    page = checks_page.checks_reference(solutions=PROJECT_ROOT / "solutions", rows=rows)

    order = [page.index(f"\n## {group}\n") for group in ("widgets", "silver", "job", "stretch")]
    assert order == sorted(order), "groups follow the contract's order"
    assert "4 checks: 19 points for the required ones, 2 extra for the stretch goals." in page
    assert ("| `silver.no_duplicates`<br>5 points | one row per event. Needs `silver.table`, `bronze.rows`. "
            "| dropDuplicates on the key ([silver](../silver.md)) |") in page
    assert "| `job.schedule`<br>10 points | daily at 02:00. | Use 0 0 2 * * ? |" in page
    assert "widgets \\| declared" in page


def test_checks_page_lists_every_exercise_with_its_page() -> None:
    from checkers.authoring.lessons import find_exercises

    page = checks_page.checks_reference(solutions=PROJECT_ROOT / "solutions")
    exercises = find_exercises(solutions=PROJECT_ROOT / "solutions")
    assert exercises
    for ex in exercises:
        assert f"[`{ex.id}`](../{ex.docs.removeprefix('../docs/')})" in page


# ------------------------------------------------------------------------------------------------ lessons


@pytest.mark.parametrize(("target", "expected"), [
    ("../docs/widgets.md", "../widgets.md"),
    ("../docs/dependencies.md#task-values", "../dependencies.md#task-values"),
    ("./01_bronze.ipynb", "01_bronze.md"),
    ("02_silver.py", "02_silver.md"),
    ("job.yml", "job.md"),
    ("https://docs.databricks.com/", "https://docs.databricks.com/"),
    ("#setup", "#setup"),
    ("../README.md", "../README.md"),
])
def test_lesson_links_point_inside_the_site(target: str, expected: str) -> None:
    assert lesson_pages._rewrite_link(target) == expected


def test_lesson_notebook_renders_with_exercises_and_checks(docs_files: Path) -> None:
    page = lesson_pages.lesson_page(path=docs_files / "tiny_lesson.ipynb")

    assert page.startswith("# Tiny lesson: links and exercises\n")
    assert "[Download the notebook](tiny_lesson.ipynb)" in page
    assert "[Widgets](../widgets.md#declare-a-widget)" in page
    assert "[01 Bronze](01_bronze.md)" in page and "[the job](job.md)" in page
    assert "Steps:\n\n- one\n- two" in page  # a blank line, or Python-Markdown would not see the list
    assert '!!! example "Exercise demo.step"\n\n    ```python\n    # TODO demo.step' in page
    assert '??? success "Check cell' in page and '??? note "Setup cell"' in page
    assert "```sql\n%sql\nSELECT 1 AS one\n```" in page


def test_lesson_in_databricks_source_format_renders(docs_files: Path) -> None:
    page = lesson_pages.lesson_page(path=docs_files / "tiny_lesson.py")
    assert page.startswith("# Tiny source lesson\n")
    assert "[Silver](../silver.md)" in page
    assert "```python\ndf = spark.range(3)\ndisplay(df)\n```" in page


def test_missing_lesson_names_the_file_and_the_fix(tmp_path: Path) -> None:
    (tmp_path / "00_widgets.ipynb").write_text("{}", encoding="utf-8")
    with pytest.raises(markdown_text.DocsError) as info:
        lesson_pages.lesson_files(lessons=tmp_path)
    assert "01_bronze" in info.value.message and "day07 lessons build" in (info.value.hint or "")


def test_every_lesson_of_the_kit_becomes_a_page_and_a_download() -> None:
    from checkers.cli import build_parser

    pages = {p.uri: p for p in site.generated_pages(root=PROJECT_ROOT, parser=build_parser())}
    for stem in lesson_pages.LESSON_STEMS:
        assert f"lessons/{stem}.md" in pages
        assert any(uri.startswith(f"lessons/{stem}.") and page.source is not None for uri, page in pages.items())
    assert "# TODO" in (pages["lessons/job.md"].content or "")
    assert {"reference/cli.md", "reference/checks.md", "reference/job-fields.md"} <= set(pages)


# ------------------------------------------------------------------------------------------------ images


def test_build_stops_when_a_screenshot_is_missing(tmp_path: Path) -> None:
    from mkdocs.exceptions import PluginError

    images = tmp_path / "images"
    images.mkdir()
    for name in site.REQUIRED_IMAGES[1:]:
        (images / name).write_bytes(b"\x89PNG not empty")
    (images / site.REQUIRED_IMAGES[2]).write_bytes(b"")  # an empty file is as good as none

    assert site.missing_images(docs_dir=tmp_path) == [site.REQUIRED_IMAGES[0],
                                                            site.REQUIRED_IMAGES[2]]
    with pytest.raises(PluginError) as info:
        site_hooks.on_pre_build(SimpleNamespace(docs_dir=str(tmp_path)))
    assert site.REQUIRED_IMAGES[0] in str(info.value) and "day07 docs screenshots" in str(info.value)


def test_the_kit_ships_every_screenshot() -> None:
    assert site.missing_images(docs_dir=PROJECT_ROOT / "docs") == []


# ------------------------------------------------------------------------------------------------ contract page


CONTRACT = PROJECT_ROOT / "docs" / rubric.CONTRACT_PAGE


def test_the_committed_rubric_is_the_grader_registrys() -> None:
    """docs/contract.md carries the rubric for GitHub readers; a change to the checks must reach it."""
    assert not rubric.update_rubric(page=CONTRACT, check=True), (
        "The rubric in docs/contract.md differs from the grader's checks: run `day07 docs rubric` and commit it.")


def test_the_rubric_lists_every_check_with_its_points() -> None:
    from checkers.grading.checks import catalogue

    specs = catalogue()
    text = rubric.rubric_markdown()
    for spec in specs:
        assert f"| `{spec.id}` | {spec.points:g} |" in text
    required = sum(s.points for s in specs if s.required)
    stretch = sum(s.points for s in specs if not s.required)
    assert f"**{required:g} points** for the required checks" in text and f"**{stretch:g} more**" in text
    for group in {s.group for s in specs}:
        assert f"### Rubric: {group}\n" in text and f"(#rubric-{group})" in text


def test_a_drifted_rubric_is_found_and_rewritten_between_its_markers(tmp_path: Path) -> None:
    page = tmp_path / "contract.md"
    text = rubric.with_rubric(CONTRACT.read_text(encoding="utf-8"), rubric.rubric_markdown())
    stale = text.replace("| `silver.dedup` |", "| `silver.dedup_old` |")
    assert stale != text
    page.write_text(stale, encoding="utf-8")
    assert rubric.update_rubric(page=page, check=True) is True
    assert page.read_text(encoding="utf-8") == stale  # --check changes nothing
    assert rubric.update_rubric(page=page) is True
    assert page.read_text(encoding="utf-8") == text
    assert rubric.update_rubric(page=page) is False


def test_a_contract_page_without_markers_names_them(tmp_path: Path) -> None:
    page = tmp_path / "contract.md"
    page.write_text("# The contract\n\nNo rubric here.\n", encoding="utf-8")
    with pytest.raises(markdown_text.DocsError) as err:
        rubric.update_rubric(page=page)
    assert rubric.RUBRIC_BEGIN in err.value.message and str(page) in err.value.message


def test_rubric_command_checks_and_reports(day07: Any) -> None:
    code, out, _ = day07("docs", "rubric", "--check")
    assert code == 0 and "matches the grader's checks" in out


def test_every_lesson_links_the_contract_in_its_first_cell() -> None:
    import nbformat

    from checkers.notebooks.formats import find_notebook

    for folder in ("solutions", "lessons"):
        for stem in lesson_pages.LESSON_STEMS:
            path = find_notebook(PROJECT_ROOT / folder, stem)
            assert path is not None
            first = next(c for c in nbformat.read(str(path), as_version=4).cells if c.cell_type == "markdown")
            assert "](../docs/contract.md)" in first.source, f"{path}: first markdown cell"
            assert (path.parent / "../docs/contract.md").resolve().is_file()


@pytest.mark.parametrize(("target", "page_dir", "expected"), [
    ("../lessons/01_bronze.ipynb", "", "lessons/01_bronze.md"),
    ("../lessons/job.yml", "", "lessons/job.md"),
    ("../lessons/02_silver.ipynb#rule-5", "", "lessons/02_silver.md#rule-5"),
    ("../../lessons/03_gold.py", "guide", "../lessons/03_gold.md"),
    ("../lessons/notes.ipynb", "", "../lessons/notes.ipynb"),
    ("silver.md", "", "silver.md"),
    ("https://example.com/lessons/x.ipynb", "", "https://example.com/lessons/x.ipynb"),
])
def test_links_to_lesson_files_become_the_lessons_pages(target: str, page_dir: str, expected: str) -> None:
    assert lesson_pages.site_link(target, page_dir=page_dir) == expected


def _markdown_links(text: str) -> list[str]:
    fenced = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    return [t for t in re.findall(r"\]\(([^)\s]+)\)", fenced) if not re.match(r"^[a-z]+:|^#", t)]


def test_links_between_docs_and_lessons_work_on_github_too() -> None:
    """A relative link in the repository's own files must reach a file in the repository (not only the site).

    Pages generated at build time (reference/) exist only in the site; they are the one exception.
    """
    sources = [*sorted((PROJECT_ROOT / "docs").glob("*.md")), PROJECT_ROOT / "README.md"]
    broken = []
    for source in sources:
        for target in _markdown_links(source.read_text(encoding="utf-8")):
            path = target.partition("#")[0]
            if not path or path.startswith("reference/"):
                continue
            if not (source.parent / path).exists():
                broken.append(f"{source.relative_to(PROJECT_ROOT)} → {target}")
    for stem in lesson_pages.LESSON_STEMS:
        notebook = PROJECT_ROOT / "lessons" / f"{stem}.ipynb"
        for target in _markdown_links(notebook.read_text(encoding="utf-8").replace("\\n", "\n")):
            if not (notebook.parent / target.partition("#")[0]).exists():
                broken.append(f"lessons/{notebook.name} → {target}")
    assert not broken, "\n".join(broken)
