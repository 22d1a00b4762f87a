"""The docs site's generated pages, and the mkdocs hooks that add them at build time.

Reference pages (the CLI, the job fields, the grader's checks) are written from the code on every build, so
they cannot drift from it; the lessons are rendered from ``lessons/``. Nothing generated lands in ``docs/``:
the pages exist only in the build (mkdocs ``File.generated``), so ``mkdocs serve`` never loops on its own output.

``mkdocs.yml`` loads this file as a hook (``hooks: [checkers/authoring/docs_build.py]``), so ``mkdocs build`` stays one
command; ``day07 docs build`` runs that same build.
"""

from __future__ import annotations

import argparse
import ast
import functools
import html
import importlib
import inspect
import os
import posixpath
import re
import subprocess
import sys
import textwrap
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from checkers.errors import CheckersError

#: Screenshots every build needs; ``day07 docs screenshots`` writes them (see :mod:`checkers.authoring.screenshots`).
REQUIRED_IMAGES = ("widgets.png", "bronze_layer.png", "silver_layer.png", "gold_layer.png", "job_workflow.png",
                   "job_workflow_2.png")
#: Lesson files rendered as pages, in the order the course uses them (``<stem>.ipynb`` or ``<stem>.py``).
LESSON_STEMS = ("00_widgets", "01_bronze", "02_silver", "03_gold", "04_quality")
#: The lesson job definition, rendered as a page of its own.
LESSON_JOB = "job.yml"
#: Check groups in the contract's order, with the page that teaches each.
GROUP_PAGES = {"widgets": "widgets.md", "bronze": "bronze.md", "silver": "silver.md", "gold": "gold.md",
               "job": "job-workflow.md", "run": "orchestration.md", "stretch": "scheduling.md"}
#: The SDK dataclasses a Day 07 job uses, documented field by field (the rest is listed by name).
CORE_JOB_CLASSES = ("JobSettings", "Task", "TaskDependency", "NotebookTask", "ConditionTask", "CronSchedule",
                    "JobParameterDefinition", "JobEmailNotifications", "TaskEmailNotifications")
USAGE_WIDTH = 100


class DocsError(CheckersError):
    """The docs site cannot be built: a screenshot is missing, mkdocs is absent, a page cannot be generated."""


# ------------------------------------------------------------------------------------------------ helpers


def _cell(text: object) -> str:
    """Text safe inside a markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _code(text: str) -> str:
    """Inline code that survives backticks and pipes."""
    return f"<code>{html.escape(text)}</code>".replace("|", "&#124;")


def _first_sentence_block(doc: str | None, *, sentences: int = 2) -> str:
    """The first sentences of an SDK docstring, with its RST markup turned into markdown."""
    if not doc:
        return ""
    para = " ".join(doc.strip().split("\n\n")[0].split())
    para = re.sub(r"`([^`<]+?)\s*<(https?://[^>]+)>`__?", r"[\1](\2)", para)
    para = re.sub(r"`([^`<]+?)\s*<[^>]*>`__?", r"\1", para)  # a link into the Databricks docs: keep the words
    para = re.sub(r"\[([^\]]+)\]\((?!https?:)[^)]*\)", r"\1", para)  # same, written in markdown
    para = re.sub(r"``([^`]+)``", r"`\1`", para)
    para = re.sub(r":method:([\w/]+)", r"`\1`", para)
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z`])", para)
    return " ".join(parts[:sentences])


# ------------------------------------------------------------------------------------------------ CLI page


def _subparsers(parser: argparse.ArgumentParser) -> Iterator[tuple[str, str, argparse.ArgumentParser]]:
    """(name, one-line help, parser) for each subcommand, in registration order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield name, helps.get(name, ""), sub


def _usage(parser: argparse.ArgumentParser) -> str:
    formatter = argparse.HelpFormatter(prog=parser.prog, width=USAGE_WIDTH)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups, prefix="")
    return formatter.format_help().strip()


def _default_text(action: argparse.Action, root: Path | None) -> str:
    default = action.default
    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse._HelpAction,
                           argparse._VersionAction)) or default in (None, argparse.SUPPRESS) or default == []:
        return ""
    if isinstance(default, Path) and root is not None:
        try:
            default = default.resolve().relative_to(root.resolve())
        except ValueError:
            pass
    return _code(str(default))


def _argument_rows(parser: argparse.ArgumentParser, root: Path | None) -> list[str]:
    rows = []
    for action in parser._actions:
        if isinstance(action, (argparse._SubParsersAction, argparse._HelpAction)) or action.help == argparse.SUPPRESS:
            continue
        if action.option_strings:
            metavar = ""
            if action.nargs != 0:
                shown = action.metavar if isinstance(action.metavar, str) else None
                metavar = " " + (shown or (
                    "{" + ",".join(map(str, action.choices)) + "}" if action.choices else action.dest.upper()))
            name = ", ".join(_code(opt + metavar) for opt in action.option_strings)
        else:
            name = _code(str(action.metavar or action.dest))
        help_text = (action.help or "") % {"default": action.default, "prog": parser.prog} \
            if "%(" in (action.help or "") else (action.help or "")
        if action.choices and action.option_strings == [] and not isinstance(action.choices, dict):
            help_text += f" (one of {', '.join(map(str, action.choices))})"
        rows.append(f"| {name} | {_cell(help_text)} | {_default_text(action, root)} |")
    return rows


def _command_section(name: str, summary: str, parser: argparse.ArgumentParser, level: int,
                     root: Path | None) -> list[str]:
    out = [f"{'#' * level} `{parser.prog}`", ""]
    text = parser.description or summary
    if text:
        out += [text.strip(), ""]
    out += ["```text", _usage(parser), "```", ""]
    rows = _argument_rows(parser, root)
    if rows:
        out += ["| argument | what it does | default |", "|---|---|---|", *rows, ""]
    subs = list(_subparsers(parser))
    if subs:
        out += ["Subcommands: " + ", ".join(f"`{sub_name}`" for sub_name, _, _ in subs) + ".", ""]
    for sub_name, sub_help, sub in subs:
        out += _command_section(sub_name, sub_help, sub, min(level + 1, 4), root)
    return out


def cli_reference(*, parser: argparse.ArgumentParser, root: Path | None = None) -> str:
    """Every command of ``parser`` with its usage, arguments and defaults, as a markdown page."""
    commands = list(_subparsers(parser))
    out = ["# Command line reference", "",
           "<!-- Generated from checkers.cli.build_parser() by checkers/authoring/docs_build.py. -->", "",
           "Everything the kit does runs through one command, `day07`. "
           "Each section below is written from the command's own `--help`, so it always matches the code.", "",
           "Exit codes: `0` everything passed or ran, `1` a check or the job failed, "
           "`2` the command could not run (bad usage, a bad file, no Java, no Spark).", "",
           "| command | what it does |", "|---|---|"]
    out += [f"| [`{parser.prog} {name}`](#{_anchor(f'{parser.prog} {name}')}) | {_cell(summary)} |"
            for name, summary, _ in commands]
    out.append("")
    out += ["```text", _usage(parser), "```", ""]
    for name, summary, sub in commands:
        out += _command_section(name, summary, sub, 2, root)
    return "\n".join(out).rstrip() + "\n"


def _anchor(title: str) -> str:
    """The id mkdocs' toc extension gives a heading (default slugify)."""
    text = re.sub(r"[^\w\s-]", "", title).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


# ------------------------------------------------------------------------------------------------ job fields


@functools.cache
def _module_field_docs(path: str) -> dict[str, dict[str, str]]:
    """class name → attribute → docstring for every class in a source file (parsed once: the SDK's are big)."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    out: dict[str, dict[str, str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        docs = out.setdefault(node.name, {})
        for stmt, after in zip(node.body, node.body[1:], strict=False):
            if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                    and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)):
                docs[stmt.target.id] = after.value.value
    return out


def _field_docs(cls: type) -> dict[str, str]:
    """Attribute docstrings of an SDK dataclass, read from its source (they are not kept at run time)."""
    try:
        path = inspect.getsourcefile(cls)
    except TypeError:
        return {}
    return _module_field_docs(path).get(cls.__name__, {}) if path else {}


def _type_text(hint: Any) -> str:
    from checkers.jobs.sdk_fields import is_enum, is_sdk_dataclass, unwrap_optional

    hint = unwrap_optional(hint)
    origin = typing.get_origin(hint)
    if origin in (list, typing.List):  # noqa: UP006
        (item,) = typing.get_args(hint) or (Any,)
        return f"list of {_type_text(item)}"
    if origin in (dict, typing.Dict):  # noqa: UP006
        return "mapping"
    if is_sdk_dataclass(hint) or is_enum(hint):
        return hint.__name__
    return {str: "string", int: "integer", bool: "boolean", float: "number"}.get(hint, getattr(hint, "__name__",
                                                                                             str(hint)))


def _reachable_classes(root: type) -> list[type]:
    """Every SDK dataclass and enum the validator can reach from ``root``, depth first."""
    from checkers.jobs.sdk_fields import is_enum, is_sdk_dataclass, sdk_fields, unwrap_optional

    seen: list[type] = []

    def visit(hint: Any) -> None:
        hint = unwrap_optional(hint)
        for inner in (hint, *typing.get_args(hint)):
            inner = unwrap_optional(inner)
            if (is_sdk_dataclass(inner) or is_enum(inner)) and inner not in seen:
                seen.append(inner)
                if is_sdk_dataclass(inner):
                    for spec in sdk_fields(inner).values():
                        visit(spec.hint)

    visit(root)
    return seen


def _class_anchor(cls: type) -> str:
    return cls.__name__.lower()


def _type_cell(hint: Any, documented: set[str]) -> str:
    text = _type_text(hint)
    for name in sorted(documented, key=len, reverse=True):
        if re.search(rf"\b{name}\b", text):
            return re.sub(rf"\b{name}\b", f"[{name}](#{name.lower()})", text, count=1)
    return text


def _enum_doc(cls: type) -> str:
    return _first_sentence_block(cls.__doc__) if cls.__doc__ and not cls.__doc__.startswith("An enumeration") \
        else ""


def _codes_in(node: ast.AST, assigned: Mapping[str, ast.AST]) -> set[str]:
    """Finding codes a call's ``code`` argument can take: a literal, a local variable, or ``{...}.get(k, d)``."""
    if isinstance(node, ast.Name) and node.id in assigned:
        node = assigned[node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
            and isinstance(node.func.value, ast.Dict)):
        return {c.value for c in [*node.func.value.values, *node.args[1:]]
                if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return set()


def _finding_codes() -> list[tuple[str, str]]:
    """(code, levels) of every finding the validator can report, read from its source."""
    from checkers.jobs import ref_checks, schema, validate

    tree = ast.Module(body=[node for module in (schema, validate, ref_checks)
                            for node in ast.parse(inspect.getsource(module)).body], type_ignores=[])
    codes: dict[str, set[str]] = {}
    for func in ast.walk(tree):
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        assigned = {t.id: n.value for n in ast.walk(func) if isinstance(n, ast.Assign)
                    for t in n.targets if isinstance(t, ast.Name)}
        for node in ast.walk(func):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in ("add", "Finding"):
                continue
            levels = {c.value for c in ast.walk(node.args[0]) if isinstance(c, ast.Constant)
                      and c.value in ("error", "warning")}
            if not levels and isinstance(node.args[0], ast.Name):
                continue  # a pass-through helper (``add(self, level, code, ...)`` forwarding its arguments)
            for code in _codes_in(node.args[1], assigned):
                codes.setdefault(code, set()).update(levels)
    return sorted((code, " or ".join(sorted(levels))) for code, levels in codes.items())


def job_fields_reference() -> str:
    """The job settings the validator checks, from the SDK dataclasses it walks, plus its finding codes."""
    from databricks.sdk.service import jobs

    from checkers.jobs.sdk_fields import is_enum, sdk_fields

    classes = _reachable_classes(jobs.JobSettings)
    core = [getattr(jobs, name) for name in CORE_JOB_CLASSES]
    core_enums = [c for c in classes if is_enum(c) and c.__name__ in ("RunIf", "ConditionTaskOp", "PauseStatus",
                                                                      "Source")]
    documented = {c.__name__ for c in core + core_enums}
    import databricks.sdk.version as sdk_version

    out = ["# Job fields", "",
           "<!-- Generated from the databricks-sdk dataclasses by checkers/authoring/docs_build.py. -->", "",
           "`day07 job validate` checks a job file against the Jobs API's own types: the dataclasses of the "
           f"databricks-sdk (version {sdk_version.__version__} here). "
           "A key that is not listed for its place is an error, with a suggestion when it looks like a typo. "
           "The SDK itself would drop it without a word.", "",
           f"The validator knows {len(classes)} types with "
           f"{sum(len(sdk_fields(c)) for c in classes if not is_enum(c))} fields. "
           "The ones a Day 07 job uses come first, field by field; the rest are listed by name at the end.", ""]
    for cls in core:
        docs = _field_docs(cls)
        out += [f"## {cls.__name__}", ""]
        intro = _first_sentence_block(cls.__doc__) if cls.__doc__ and not cls.__doc__.startswith(cls.__name__) \
            else ""
        if intro:
            out += [intro, ""]
        out += ["| field | type | required | what it is |", "|---|---|---|---|"]
        for spec in sdk_fields(cls).values():
            out.append(f"| `{spec.name}` | {_type_cell(spec.hint, documented)} | {'yes' if spec.required else ''} | "
                       f"{_cell(_first_sentence_block(docs.get(spec.name)))} |")
        out.append("")
    for enum_cls in core_enums:
        out += [f"## {enum_cls.__name__}", ""]
        doc = _enum_doc(enum_cls)
        if doc:
            out += [doc, ""]
        out += ["Values: " + ", ".join(f"`{m.value}`" for m in typing.cast(Iterable[Enum], enum_cls)) + ".", ""]
    out += ["## Every other type", "",
            "The validator walks these too (clusters, other task types, triggers…). A Day 07 job rarely needs them.",
            ""]
    for cls in classes:
        if cls.__name__ in documented:
            continue
        if is_enum(cls):
            names = ", ".join(f"`{m.value}`" for m in typing.cast(Iterable[Enum], cls))
            out.append(f"- **{cls.__name__}** (values): {names}")
        else:
            names = ", ".join(f"`{name}`" for name in sdk_fields(cls))
            out.append(f"- **{cls.__name__}**: {names}")
    out += ["", "## What the validator reports", "",
            "Each finding has a stable code. Errors stop `day07 job validate` with exit code 2; warnings are "
            "legal but suspicious.", "", "| code | level |", "|---|---|"]
    out += [f"| `{code}` | {levels} |" for code, levels in _finding_codes()]
    return "\n".join(out).rstrip() + "\n"


# ------------------------------------------------------------------------------------------------ checks page


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


def _attr(obj: Any, *names: str, default: Any = "") -> Any:
    for name in names:
        value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
        if value is not None:
            return value
    return default


def grader_checks() -> list[CheckRow] | None:
    """The grader's check registry, or None while ``checkers.grading.checks`` does not exist.

    Looked up as ``all_checks()`` (preferred), ``CHECKS`` or ``REGISTRY`` in ``checkers.grading.checks``;
    each item has ``id``, ``group``, ``points`` (or ``max_score``), ``title`` (or ``description``), ``hint``,
    and optionally ``docs`` (the page that teaches it) and ``requires`` (checks that must pass first).
    """
    try:
        module = importlib.import_module("checkers.grading.checks")
    except ModuleNotFoundError as exc:
        if exc.name in ("checkers.grading.checks", "checkers.grading"):
            return None
        raise
    source: Any = getattr(module, "all_checks", None)
    specs = source() if callable(source) else getattr(module, "CHECKS", None) or getattr(module, "REGISTRY", None)
    if specs is None:
        return None
    if isinstance(specs, dict):
        specs = list(specs.values())
    rows = []
    for spec in specs:
        check_id = str(_attr(spec, "id", "check_id"))
        rows.append(CheckRow(id=check_id, group=str(_attr(spec, "group", default=check_id.split(".")[0])),
                             points=float(_attr(spec, "points", "max_score", default=0)),
                             title=str(_attr(spec, "title", "description", "name")),
                             hint=str(_attr(spec, "hint")),
                             docs=Path(str(_attr(spec, "docs"))).name if _attr(spec, "docs") else "",
                             requires=tuple(_attr(spec, "requires", "prerequisites", default=()))))
    return rows


def checks_reference(*, solutions: Path) -> str:
    """The grader's checks (when the grader is installed) and the exercises marked in ``solutions``."""
    from checkers.authoring.lessons import find_exercises

    rows = grader_checks()
    out = ["# Checks catalogue", "",
           "<!-- Generated from the grader's check registry and the solutions (checkers/authoring). -->", "",
           "`day07 check` runs your job on data you have not seen, then runs the checks below. "
           "Each check belongs to one group. A check whose prerequisite failed is *skipped*, not failed twice.", ""]
    if rows is None:
        out += ['!!! note "The grader is not part of this build yet"',
                "    The list of grader checks is generated from `checkers.grading.checks`. "
                "This version of the kit has no such module, so only the groups and the exercises are listed.",
                "", "| group | page that teaches it |", "|---|---|"]
        out += [f"| `{group}` | [{page}](../{page}) |" for group, page in GROUP_PAGES.items()]
        out.append("")
    else:
        groups = list(GROUP_PAGES) + sorted({r.group for r in rows} - set(GROUP_PAGES))
        required = sum(r.points for r in rows if r.group != "stretch")
        extra = sum(r.points for r in rows if r.group == "stretch")
        out += [f"{len(rows)} checks: {required:g} points for the required ones, "
                f"{extra:g} extra for the stretch goals.", ""]
        for group in groups:
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
                out.append(f"| `{r.id}`<br>{r.points:g} point{'s' if r.points != 1 else ''} | {_cell(r.title)}."
                           f"{needs} | {_cell(r.hint)}{page_link} |")
            out.append("")
    exercises = find_exercises(solutions=solutions)
    out += ["## Exercises in the lessons", "",
            "Each exercise is a `# TODO` cell in a lesson. The cell after it checks your work in the notebook; "
            "`day07 check` stays the judge.", "", "| exercise | file | what to do |", "|---|---|---|"]
    for ex in exercises:
        page = ex.docs.removeprefix("../docs/")
        out.append(f"| [`{ex.id}`](../{page}) | {_lesson_link(ex.file)} | {_cell(ex.prompt)} |")
    return "\n".join(out).rstrip() + "\n"


# ------------------------------------------------------------------------------------------------ rubric

CONTRACT_PAGE = "contract.md"
"""The learner contract's page in ``docs/``; it carries the rubric between the two markers below."""
RUBRIC_BEGIN = "<!-- rubric:begin -->"
RUBRIC_END = "<!-- rubric:end -->"


def rubric_markdown(rows: list[CheckRow] | None = None) -> str:
    """The rubric: every check of the grader's registry with its points, group by group.

    It is committed inside ``docs/contract.md`` (so GitHub shows it too); ``day07 docs rubric`` rewrites it there,
    a test fails when it drifts from the registry, and the site build always renders the registry's own.
    """
    rows = grader_checks() if rows is None else rows
    if rows is None:
        raise DocsError("The rubric cannot be generated: the grader's check registry (checkers.grading.checks) "
                        "is missing.", hint="Reinstall the kit: pip install -e .")
    groups = list(GROUP_PAGES) + sorted({r.group for r in rows} - set(GROUP_PAGES))
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
            out.append(f"| `{r.id}` | {r.points:g} | {_cell(r.title)} | {needs} |")
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


def _lesson_link(file: str) -> str:
    stem = Path(file).stem
    return f"[{file}](../lessons/{stem}.md)"


# ------------------------------------------------------------------------------------------------ lessons


_LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


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
    return _LINK.sub(lambda m: f"]({_rewrite_link(m.group('target'))})", markdown)


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
    from checkers.notebooks.formats import read_notebook

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
    from checkers.notebooks.formats import find_notebook

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


# ------------------------------------------------------------------------------------------------ all pages


@dataclass(frozen=True)
class GeneratedPage:
    """A page (or file) that exists only in the build."""

    uri: str
    """Path inside the site's docs, e.g. ``reference/cli.md``."""
    content: str | None = None
    """Markdown text, for a generated page."""
    source: Path | None = None
    """A file copied as is (a lesson notebook offered for download)."""


def generated_pages(*, root: Path) -> list[GeneratedPage]:
    """Every generated page of the site, for the repository at ``root``."""
    from checkers.cli import build_parser

    try:
        parser = build_parser()
    except ImportError as exc:
        raise DocsError(f"The CLI reference cannot be generated: `day07` fails to load ({exc}).",
                        hint="Fix the command module named above; `day07 --help` shows the same error.") from exc
    pages = [GeneratedPage("reference/cli.md", cli_reference(parser=parser, root=root)),
             GeneratedPage("reference/job-fields.md", job_fields_reference()),
             GeneratedPage("reference/checks.md", checks_reference(solutions=root / "solutions"))]
    for path in lesson_files(lessons=root / "lessons"):
        content = job_lesson_page(path=path) if path.name == LESSON_JOB else lesson_page(path=path)
        stem = "job" if path.name == LESSON_JOB else path.stem
        pages += [GeneratedPage(f"lessons/{stem}.md", content), GeneratedPage(f"lessons/{path.name}", source=path)]
    return pages


def missing_images(*, docs_dir: Path) -> list[str]:
    """Required screenshots absent from ``docs/images`` (or empty files)."""
    images = docs_dir / "images"
    return [name for name in REQUIRED_IMAGES if not (images / name).is_file() or (images / name).stat().st_size == 0]


# ------------------------------------------------------------------------------------------------ build


@dataclass(frozen=True)
class BuildResult:
    """A finished site build."""

    site_dir: Path
    """Where the HTML was written."""
    pages: int
    """Number of HTML pages in the site."""
    output: str
    """What mkdocs printed."""


def build_site(*, root: Path, site_dir: Path | None = None, strict: bool = True) -> BuildResult:
    """Run ``mkdocs build`` for the repository at ``root``; a failed build is a :class:`DocsError` with its log."""
    require_mkdocs()
    site_dir = Path(site_dir) if site_dir else root / "site"
    cmd = [sys.executable, "-m", "mkdocs", "build", "--clean", "--config-file", str(root / "mkdocs.yml"),
           "--site-dir", str(site_dir)]
    if strict:
        cmd.append("--strict")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # mkdocs-material's banner about its successor
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False, env=env)
    output = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0:
        tail = "\n".join(output.splitlines()[-25:])
        raise DocsError(f"mkdocs build failed (exit {proc.returncode}):\n{tail}",
                        hint="Fix the first WARNING or ERROR above; --strict turns warnings into failures.")
    pages = sum(1 for _ in site_dir.rglob("*.html"))
    return BuildResult(site_dir=site_dir, pages=pages, output=output)


def require_mkdocs() -> None:
    try:
        importlib.import_module("material")
    except ModuleNotFoundError:
        raise DocsError("mkdocs-material is not installed.",
                        hint="Install the docs extra: pip install -e '.[docs]'.") from None


# ------------------------------------------------------------------------------------------------ mkdocs hooks


def _root(config: Any) -> Path:
    return Path(config.config_file_path).resolve().parent


def on_pre_build(config: Any, **_: Any) -> None:
    """Stop the build when a screenshot is missing: the pages would show a broken image."""
    from mkdocs.exceptions import PluginError

    missing = missing_images(docs_dir=Path(config.docs_dir))
    if missing:
        raise PluginError(f"Screenshots missing from {Path(config.docs_dir) / 'images'}: {', '.join(missing)}. "
                          "Run `day07 docs screenshots` to generate them from a real run.")


def on_files(files: Any, config: Any, **_: Any) -> Any:
    """Add the generated pages (reference, lessons) to the build."""
    from mkdocs.exceptions import PluginError
    from mkdocs.structure.files import File

    try:
        pages = generated_pages(root=_root(config))
    except CheckersError as exc:
        raise PluginError(str(exc)) from exc
    for page in pages:
        existing = files.get_file_from_path(page.uri)
        if existing is not None:
            files.remove(existing)
        if page.content is not None:
            files.append(File.generated(config, page.uri, content=page.content))
        else:
            files.append(File.generated(config, page.uri, abs_src_path=str(page.source)))
    return files


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


def on_page_markdown(markdown: str, page: Any, config: Any, **_: Any) -> str:
    """Links to lesson files → the lessons' pages; the contract page gets the registry's own rubric."""
    src = page.file.src_uri
    if page.file.generated_by is None:  # hand-written pages only: the generated ones link inside the site already
        page_dir = posixpath.dirname(src)
        markdown = _LINK.sub(lambda m: f"]({site_link(m.group('target'), page_dir=page_dir)})", markdown)
    if src == CONTRACT_PAGE:
        from mkdocs.exceptions import PluginError

        try:
            markdown = with_rubric(markdown, rubric_markdown(), name=f"docs/{CONTRACT_PAGE}")
        except CheckersError as exc:
            raise PluginError(str(exc)) from exc
    return markdown


def on_serve(server: Any, config: Any, builder: Any, **_: Any) -> Any:
    """``mkdocs serve`` also rebuilds when a lesson or a solution changes.

    ``checkers/`` is not watched: test runs and editors write there constantly (bytecode caches, temp files),
    and each write would rebuild the site. Restart ``mkdocs serve`` after a code change.
    """
    root = _root(config)
    for folder in ("lessons", "solutions"):
        if (root / folder).is_dir():
            server.watch(str(root / folder))
    return server


__all__ = ["CONTRACT_PAGE", "REQUIRED_IMAGES", "RUBRIC_BEGIN", "RUBRIC_END", "BuildResult", "CheckRow", "DocsError",
           "GeneratedPage", "build_site", "checks_reference", "cli_reference", "generated_pages", "grader_checks",
           "job_fields_reference", "lesson_page", "missing_images", "rubric_markdown", "site_link", "update_rubric",
           "with_rubric"]
