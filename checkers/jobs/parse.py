"""Read a job file (YAML or JSON) into a plain dict, with errors that point at the line to fix.

Parsing is apart from loading because the bundle code reads a second file (the bundle root's variables)
the same way; YAML follows the Databricks CLI's 1.2 rules so learners' values stay text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from checkers.errors import JobDefinitionError


class _JobYamlLoader(yaml.SafeLoader):
    """YAML the way the Databricks CLI reads bundles (YAML 1.2 core scalars), refusing duplicate keys.

    PyYAML's default YAML 1.1 rules turn ``no``/``on`` into booleans, ``2024-01-01`` into a date and
    ``1:30`` into 90; the CLI keeps those as text, so a parameter default must stay what the learner wrote.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node.start_mark.line)
            except TypeError:
                continue  # unhashable key: let the base class report it
            if first != key_node.start_mark.line:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first given on line {first + 1})", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def _yaml12_resolvers() -> None:
    dropped = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
               "tag:yaml.org,2002:timestamp"}
    _JobYamlLoader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in dropped]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _JobYamlLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
    _JobYamlLoader.add_implicit_resolver(
        "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
        list("-+0123456789"))
    _JobYamlLoader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
                   r"|\.(?:nan|NaN|NAN))$"),
        list("-+0123456789."))

    def construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
        text = str(loader.construct_scalar(node))
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text, 10)

    _JobYamlLoader.add_constructor("tag:yaml.org,2002:int", construct_int)


_yaml12_resolvers()


def _yaml_error(path: Path, text: str, exc: yaml.YAMLError) -> JobDefinitionError:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    where = at = ""
    if mark is not None:
        lines = text.splitlines()
        shown = lines[mark.line].strip() if 0 <= mark.line < len(lines) else ""
        where = f"line {mark.line + 1}, column {mark.column + 1}: "
        at = f" (at `{shown}`)" if shown else ""
    hint = "Check the indentation and the `key: value` form on that line and the line before it."
    if "\\t" in problem or "'\\t'" in problem:
        hint = "YAML indents with spaces only: replace the tab characters with spaces."
    elif "duplicate key" in problem:
        hint = "Each key may appear once per mapping: merge the two entries or rename one."
    return JobDefinitionError(f"{where}YAML syntax error: {problem}{at}", path=path, hint=hint)


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r} in one JSON object")
        out[key] = value
    return out


def parse_job_file(*, path: Path) -> dict[str, Any]:
    """The file's top-level mapping; raise :class:`JobDefinitionError` when it is missing, not text or not a mapping."""
    if not path.exists():
        raise JobDefinitionError("job file not found.", path=path,
                                 hint="Pass the path of a bundle .yml or a Jobs API .json file.")
    if path.is_dir():
        raise JobDefinitionError("is a folder, not a job file.", path=path,
                                 hint="Pass the job definition file inside it (a .yml or .json).")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise JobDefinitionError(f"is not UTF-8 text ({exc.reason} at byte {exc.start}).", path=path,
                                 hint="Save the job file as UTF-8.") from None
    if not text.strip():
        raise JobDefinitionError("the job file is empty.", path=path)
    try:
        data = _parse_text(path, text)
    except RecursionError:
        raise JobDefinitionError("is nested too deeply to be a job definition.", path=path,
                                 hint="A job file is a few levels of mappings and lists; check for runaway brackets."
                                 ) from None
    if not isinstance(data, dict):
        raise JobDefinitionError(f"the top level is a {type(data).__name__}, not a mapping of settings.",
                                 path=path, hint="A job file starts with `resources:` (bundle), `name:`/"
                                 "`tasks:` (create JSON) or `job_id`/`settings` (jobs get JSON).")
    return data


def _parse_text(path: Path, text: str) -> Any:
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text, object_pairs_hook=_reject_duplicates)
        except json.JSONDecodeError as exc:
            raise JobDefinitionError(f"line {exc.lineno}, column {exc.colno}: JSON syntax error: {exc.msg}",
                                     path=path, hint="Check for a missing comma, quote or bracket near there."
                                     ) from None
        except ValueError as exc:
            raise JobDefinitionError(f"JSON error: {exc}", path=path,
                                     hint="Each key may appear once per object.") from None
    else:
        try:
            data = yaml.load(text, Loader=_JobYamlLoader)  # a SafeLoader subclass
        except yaml.YAMLError as exc:
            raise _yaml_error(path, text, exc) from None
    return data

