"""The job-fields reference page: the SDK dataclasses the job validator walks, and the finding codes it reports.

Read from the databricks-sdk and from the validator's own source on every build, so the page follows an SDK
upgrade or a new check without anyone editing it.
"""

from __future__ import annotations

import ast
import inspect
import re
import typing
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

from checkers.authoring.markdown_text import attribute_docs, table_cell

#: The SDK dataclasses a Day 07 job uses, documented field by field (the rest is listed by name).
CORE_JOB_CLASSES = ("JobSettings", "Task", "TaskDependency", "NotebookTask", "ConditionTask", "CronSchedule",
                    "JobParameterDefinition", "JobEmailNotifications", "TaskEmailNotifications")


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
           "<!-- Generated from the databricks-sdk dataclasses by checkers/authoring/job_fields_page.py. -->", "",
           "`day07 job validate` checks a job file against the Jobs API's own types: the dataclasses of the "
           f"databricks-sdk (version {sdk_version.__version__} here). "
           "A key that is not listed for its place is an error, with a suggestion when it looks like a typo. "
           "The SDK itself would drop it without a word.", "",
           f"The validator knows {len(classes)} types with "
           f"{sum(len(sdk_fields(c)) for c in classes if not is_enum(c))} fields. "
           "The ones a Day 07 job uses come first, field by field; the rest are listed by name at the end.", ""]
    for cls in core:
        docs = attribute_docs(cls)
        out += [f"## {cls.__name__}", ""]
        intro = _first_sentence_block(cls.__doc__) if cls.__doc__ and not cls.__doc__.startswith(cls.__name__) \
            else ""
        if intro:
            out += [intro, ""]
        out += ["| field | type | required | what it is |", "|---|---|---|---|"]
        for spec in sdk_fields(cls).values():
            out.append(f"| `{spec.name}` | {_type_cell(spec.hint, documented)} | {'yes' if spec.required else ''} | "
                       f"{table_cell(_first_sentence_block(docs.get(spec.name)))} |")
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
