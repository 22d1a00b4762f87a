"""Read a job definition (bundle YAML, Jobs API create JSON, ``jobs get`` JSON) into the SDK's ``JobSettings``.

The loader keeps the raw settings next to the SDK object because ``from_dict`` silently drops keys it does
not know; :mod:`checkers.jobs.validate` walks the raw dict to report them. It also maps every notebook task
to the local notebook file it runs, the way the contract matches them (by stem).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import re
import typing
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import yaml
from databricks.sdk.service import jobs

from checkers.errors import JobDefinitionError
from checkers.notebooks.formats import NOTEBOOK_SUFFIXES, SQL_SOURCE_HEADER, find_notebooks_below

JobShape = Literal["bundle", "create", "get"]

#: First line of a Databricks source-format notebook.
SOURCE_HEADER = "# Databricks notebook source"

#: Keys a bundle's job resource may hold beyond ``JobSettings`` (checked loosely).
BUNDLE_ONLY_JOB_KEYS = ("permissions", "lifecycle")
#: Keys the Jobs API create payload takes beyond ``JobSettings``.
CREATE_ONLY_JOB_KEYS = ("access_control_list",)

_VAR_RE = re.compile(r"\$\{([A-Za-z][\w-]*(?:\.[A-Za-z][\w-]*)*)\}")


@dataclass(frozen=True)
class NotebookMatch:
    """How one task's ``notebook_path`` was matched to a local file."""

    notebook_path: str
    """The path as written in the job (after bundle substitutions)."""
    file: Path | None
    """The local notebook file, or None when none was found."""
    searched: tuple[Path, ...]
    """The files that were looked for, in order (for the 'not found' message)."""
    note: str | None = None
    """A remark worth a warning (both .ipynb and .py exist; a .py without the Databricks header)."""
    suggestion: Path | None = None
    """A file with the same stem elsewhere next to the job file, when the path itself found nothing."""


@dataclass(frozen=True)
class UnresolvedVariable:
    """A bundle ``${...}`` substitution the loader could not resolve."""

    name: str
    """What was inside ``${...}``, e.g. ``var.catalog``."""
    key: str
    """Key path inside the job settings, e.g. ``tasks[0].notebook_task.base_parameters.schema``."""
    reason: str
    """Why it stayed unresolved."""


@dataclass
class LoadedJob:
    """A job definition as read from a file: the SDK settings plus what a strict checker needs."""

    path: Path
    """The job file."""
    shape: JobShape
    """Which export shape the file has: bundle YAML, create payload or ``jobs get`` output."""
    job_key: str
    """The bundle's resource key; for JSON shapes a key derived from the job name (or the file stem)."""
    settings: jobs.JobSettings
    """The settings as the SDK reads them (unknown keys dropped, as on Databricks' client side)."""
    raw: dict[str, Any]
    """The settings dict as written, after bundle substitutions: what strict checks walk."""
    document: dict[str, Any]
    """The whole parsed file (the ``jobs get`` wrapper, the bundle with its ``variables``)."""
    notebook_matches: dict[str, NotebookMatch] = field(default_factory=dict)
    """task_key → how its notebook path was matched (notebook tasks only)."""
    job_id: int | None = None
    """``job_id`` from ``jobs get`` output."""
    variables: dict[str, Any] = field(default_factory=dict)
    """Bundle variable values used for ``${var.*}`` substitution."""
    unresolved: list[UnresolvedVariable] = field(default_factory=list)
    """Bundle substitutions that stayed unresolved (reported by the validator)."""

    @property
    def base_dir(self) -> Path:
        """Folder relative notebook paths are resolved against (the job file's folder)."""
        return self.path.parent

    @property
    def notebooks(self) -> dict[str, Path]:
        """task_key → local notebook file, for the tasks whose notebook was found."""
        return {key: m.file for key, m in self.notebook_matches.items() if m.file is not None}

    @property
    def tasks(self) -> dict[str, jobs.Task]:
        """task_key → SDK task (the first one when a key is duplicated)."""
        out: dict[str, jobs.Task] = {}
        for task in self.settings.tasks or []:
            out.setdefault(task.task_key, task)
        return out

    @property
    def name(self) -> str:
        """The job's display name (falls back to the key)."""
        return self.settings.name or self.job_key


# --------------------------------------------------------------------------------------------- SDK types


@dataclass(frozen=True)
class FieldSpec:
    """One field of an SDK dataclass."""

    name: str
    """Field name as it appears in JSON."""
    hint: Any
    """Type hint with ``Optional`` removed."""
    required: bool
    """True when the dataclass gives it no default (the API requires it)."""


def unwrap_optional(hint: Any) -> Any:
    """``Optional[X]`` → ``X``; anything else unchanged."""
    if typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return hint


@cache
def sdk_fields(cls: type) -> dict[str, FieldSpec]:
    """Fields of an SDK dataclass from its type hints, so checks follow the installed SDK, not a copy."""
    hints = typing.get_type_hints(cls)
    out: dict[str, FieldSpec] = {}
    for f in dataclasses.fields(cls):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        out[f.name] = FieldSpec(f.name, unwrap_optional(hints[f.name]), required)
    return out


def is_sdk_dataclass(hint: Any) -> bool:
    return isinstance(hint, type) and dataclasses.is_dataclass(hint)


def is_enum(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, Enum)


def task_type_fields() -> tuple[str, ...]:
    """The ``*_task`` fields of ``Task``: a task must set exactly one."""
    return tuple(name for name in sdk_fields(jobs.Task) if name.endswith("_task"))


# --------------------------------------------------------------------------------------------- parsing


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


def _parse(path: Path) -> dict[str, Any]:
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


# --------------------------------------------------------------------------------------------- bundle


def _bundle_variables(document: dict[str, Any]) -> dict[str, Any]:
    variables: dict[str, Any] = {}
    declared = document.get("variables") or {}
    if not isinstance(declared, dict):
        return variables
    for name, spec in declared.items():
        if isinstance(spec, dict) and "default" in spec:
            variables[f"var.{name}"] = spec["default"]
        elif not isinstance(spec, dict) and spec is not None:
            variables[f"var.{name}"] = spec  # shorthand `name: value`
    bundle = document.get("bundle")
    if isinstance(bundle, dict) and isinstance(bundle.get("name"), str):
        variables["bundle.name"] = bundle["name"]
    return variables


BUNDLE_ROOT_NAMES = ("databricks.yml", "databricks.yaml")
"""A bundle's root file; a job in an included file (``resources/x.yml``) takes its variables from it."""


def bundle_root(path: Path) -> Path | None:
    """The bundle root file (``databricks.yml``) in ``path``'s folder or up to two above it, if any."""
    for folder in list(path.resolve().parents)[:3]:
        for name in BUNDLE_ROOT_NAMES:
            if (folder / name).is_file():
                return folder / name
    return None


def _root_variables(path: Path) -> dict[str, Any]:
    """Variables of the bundle root above ``path``, the way ``include:`` shares them with included files."""
    root = bundle_root(path)
    if root is None or root == path.resolve():
        return {}
    try:
        document = _parse(root)
    except (JobDefinitionError, OSError):
        return {}
    return _bundle_variables(document) if isinstance(document, dict) else {}


def _substitute(value: Any, variables: dict[str, Any], key: str, unresolved: list[UnresolvedVariable],
                depth: int = 0) -> Any:
    """Resolve ``${var.x}`` (and ``${bundle.name}``) the way ``databricks bundle`` does before deploying."""
    if isinstance(value, dict):
        return {k: _substitute(v, variables, f"{key}.{k}" if key else str(k), unresolved, depth)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, variables, f"{key}[{i}]", unresolved, depth) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value
    whole = _VAR_RE.fullmatch(value)
    if whole and whole.group(1) in variables and depth < 10:
        # a whole-value reference keeps the variable's type (a complex variable stays a mapping)
        return _substitute(variables[whole.group(1)], variables, key, unresolved, depth + 1)

    def replace(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in variables and depth < 10:
            resolved = _substitute(variables[name], variables, key, unresolved, depth + 1)
            if isinstance(resolved, (dict, list)):
                unresolved.append(UnresolvedVariable(name, key, "it is a complex variable used inside text"))
                return m.group(0)
            return resolved if isinstance(resolved, str) else json.dumps(resolved)
        if name.startswith("var."):
            reason = "no variable of that name with a default is declared under `variables:`"
        else:
            reason = "only `${var.*}` and `${bundle.name}` are resolved locally"
        unresolved.append(UnresolvedVariable(name, key, reason))
        return m.group(0)

    return _VAR_RE.sub(replace, value)


def _pick_bundle_job(path: Path, document: dict[str, Any], job_key: str | None) -> tuple[str, dict[str, Any]]:
    resources = document.get("resources")
    found = resources.get("jobs") if isinstance(resources, dict) else None
    if not isinstance(found, dict) or not found:
        raise JobDefinitionError("the bundle has no jobs under `resources: jobs:`.", path=path,
                                 hint="Put the job under `resources:` → `jobs:` → `<job_key>:`.")
    keys = list(found)
    if job_key is None:
        if len(keys) > 1:
            raise JobDefinitionError(f"the bundle holds {len(keys)} jobs: {', '.join(keys)}.", path=path,
                                     hint="Pick one by its key (--job KEY).")
        job_key = keys[0]
    if job_key not in found:
        close = difflib.get_close_matches(job_key, keys, n=1)
        hint = f"Did you mean `{close[0]}`?" if close else f"The bundle's jobs are: {', '.join(keys)}."
        raise JobDefinitionError(f"the bundle has no job `{job_key}`.", path=path, hint=hint)
    settings = found[job_key]
    if not isinstance(settings, dict):
        raise JobDefinitionError(f"`resources.jobs.{job_key}` is not a mapping of job settings.", path=path)
    return job_key, settings


def _coerce_bundle_scalars(value: Any, hint: Any) -> Any:
    """Scalars to the field's declared type, as the CLI normalises a bundle (``default: 10`` → ``"10"``)."""
    hint = unwrap_optional(hint)
    origin = typing.get_origin(hint)
    if is_sdk_dataclass(hint) and isinstance(value, dict):
        fields = sdk_fields(hint)
        return {k: _coerce_bundle_scalars(v, fields[k].hint) if k in fields else v for k, v in value.items()}
    if origin in (list, typing.List) and isinstance(value, list):  # noqa: UP006
        (item,) = typing.get_args(hint) or (Any,)
        return [_coerce_bundle_scalars(v, item) for v in value]
    if origin in (dict, typing.Dict) and isinstance(value, dict):  # noqa: UP006
        args = typing.get_args(hint)
        item = args[1] if len(args) == 2 else Any
        return {k: _coerce_bundle_scalars(v, item) for k, v in value.items()}
    if hint is str and isinstance(value, bool):
        return "true" if value else "false"
    if hint is str and isinstance(value, (int, float)):
        return str(value)
    if hint is int and isinstance(value, str) and re.fullmatch(r"[-+]?\d+", value.strip()):
        return int(value)
    if hint is bool and isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


# --------------------------------------------------------------------------------------------- notebooks


def _is_workspace_path(notebook_path: str) -> bool:
    return notebook_path.startswith("/") or notebook_path.startswith("${")


def stem_of(notebook_path: str) -> str:
    """The notebook name a task path runs: `/Users/me/day07/02_silver` or `../src/02_silver.ipynb` → `02_silver`."""
    name = PurePosixPath(notebook_path.replace("\\", "/")).name
    for suffix in NOTEBOOK_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _note_for(file: Path, others: list[Path]) -> str | None:
    if len(others) > 1:
        return f"both {others[0].name} and {others[1].name} exist; using {file.name}"
    if file.suffix in (".py", ".sql"):
        header = SOURCE_HEADER if file.suffix == ".py" else SQL_SOURCE_HEADER
        try:
            with file.open(encoding="utf-8") as fh:
                first = fh.readline().strip()
        except (OSError, UnicodeDecodeError):
            return None
        if first != header:
            return f"{file.name} does not start with `{header}`, so Databricks treats it as a plain file"
    return None


def match_notebook(*, notebook_path: str, job_path: Path) -> NotebookMatch:
    """Find the local file a ``notebook_path`` runs.

    Relative paths resolve against the job file's folder (bundle semantics); absolute workspace paths have no
    local meaning, so they match ``<stem>.ipynb`` / ``<stem>.py`` in the job file's folder (docs/contract.md).
    """
    base = job_path.parent
    stem = stem_of(notebook_path)
    if _is_workspace_path(notebook_path):
        folder = base
    else:
        folder = (base / notebook_path.replace("\\", "/")).parent
    exact = folder / PurePosixPath(notebook_path.replace("\\", "/")).name
    candidates: list[Path] = []
    if exact.suffix.lower() in NOTEBOOK_SUFFIXES and not _is_workspace_path(notebook_path):
        candidates.append(exact)
    candidates += [folder / f"{stem}{suffix}" for suffix in NOTEBOOK_SUFFIXES if folder / f"{stem}{suffix}"
                   not in candidates]
    existing = [c for c in candidates if c.is_file()]
    if existing:
        file = existing[0]
        same_stem = [c for c in existing if c.stem == stem]
        return NotebookMatch(notebook_path, file, tuple(candidates), _note_for(file, same_stem))
    if _is_workspace_path(notebook_path):
        # A workspace path has no local folder: the notebook of that name below the job file's folder (or below
        # its bundle's root, as a bundle's resources/ sits beside src/) is the one it runs.
        root_file = bundle_root(job_path)
        for root in dict.fromkeys([base, *([root_file.parent] if root_file else [])]):
            nearby = find_notebooks_below(root, stem)
            if nearby:
                where = os.path.relpath(nearby[0], base)
                return NotebookMatch(notebook_path, nearby[0], tuple(candidates),
                                     f"{notebook_path} matched {where} by its name")
    suggestion = next((base / f"{stem}{s}" for s in NOTEBOOK_SUFFIXES if (base / f"{stem}{s}").is_file()), None)
    return NotebookMatch(notebook_path, None, tuple(candidates), None, suggestion)


def _match_notebooks(raw: dict[str, Any], path: Path) -> dict[str, NotebookMatch]:
    out: dict[str, NotebookMatch] = {}
    for task in raw.get("tasks") or []:
        if not isinstance(task, dict) or not isinstance(task.get("task_key"), str):
            continue
        nb = task.get("notebook_task")
        if isinstance(nb, dict) and isinstance(nb.get("notebook_path"), str) and nb["notebook_path"]:
            out.setdefault(task["task_key"], match_notebook(notebook_path=nb["notebook_path"], job_path=path))
    return out


# --------------------------------------------------------------------------------------------- public API


def _slug(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z_]+", "_", text).strip("_").lower()


def _shape_of(path: Path, document: dict[str, Any]) -> JobShape:
    if "resources" in document:
        return "bundle"
    if isinstance(document.get("settings"), dict):
        return "get"
    if any(key in sdk_fields(jobs.JobSettings) for key in document):
        return "create"
    raise JobDefinitionError(
        "does not look like a job definition.", path=path,
        hint="Expected `resources: jobs: <key>:` (bundle YAML), `{\"job_id\": …, \"settings\": {…}}` (jobs get "
             "JSON) or job settings such as `name` and `tasks` at the top (Jobs API create JSON).")


def _settings_from_dict(path: Path, raw: dict[str, Any], shape: JobShape) -> jobs.JobSettings:
    try:
        return jobs.JobSettings.from_dict(raw)
    except (AttributeError, TypeError, ValueError, KeyError) as exc:
        # from_dict assumes the right JSON types; report the type problems the validator sees instead
        from checkers.jobs.validate import schema_findings

        problems = [f for f in schema_findings(raw, shape=shape) if f.level == "error"]
        lines = [f.describe() for f in problems] or [f"{type(exc).__name__}: {exc}"]
        hint = problems[0].hint if len(problems) == 1 and problems[0].hint else (
            "Compare with the Jobs API reference: lists, mappings and text in the places shown.")
        raise JobDefinitionError("the settings do not have the Jobs API shape:\n  " + "\n  ".join(lines),
                                 path=path, findings=problems, hint=hint) from None


def load_job(*, path: Path, job_key: str | None = None) -> LoadedJob:
    """Load a job definition file; raise :class:`JobDefinitionError` when it cannot be read at all.

    A file that parses but breaks rules (typo keys, cycles, missing notebooks) loads fine: call
    :func:`checkers.jobs.validate.validate_job` for those.
    """
    path = Path(path)
    document = _parse(path)
    shape = _shape_of(path, document)
    job_id: int | None = None
    variables: dict[str, Any] = {}
    unresolved: list[UnresolvedVariable] = []
    if shape == "bundle":
        key, written = _pick_bundle_job(path, document, job_key)
        variables = {**_root_variables(path), **_bundle_variables(document)}
        substituted = _substitute(written, variables, "", unresolved)
        raw = {k: _coerce_bundle_scalars(v, sdk_fields(jobs.JobSettings)[k].hint)
               if k in sdk_fields(jobs.JobSettings) else v for k, v in substituted.items()}
    else:
        if job_key is not None:
            raise JobDefinitionError(f"--job {job_key} only applies to bundles; this is Jobs API JSON.",
                                     path=path, hint="Drop the job key for a JSON job file.")
        if shape == "get":
            raw = document["settings"]
            raw_id = document.get("job_id")
            if isinstance(raw_id, int) and not isinstance(raw_id, bool):
                job_id = raw_id
            elif isinstance(raw_id, str) and raw_id.isdigit():
                job_id = int(raw_id)
        else:
            raw = document
        name = raw.get("name")
        key = _slug(name) if isinstance(name, str) and _slug(name) else (
            f"job_{job_id}" if job_id is not None else _slug(path.stem) or "job")
    settings = _settings_from_dict(path, raw, shape)
    return LoadedJob(path=path, shape=shape, job_key=key, settings=settings, raw=raw, document=document,
                     notebook_matches=_match_notebooks(raw, path), job_id=job_id, variables=variables,
                     unresolved=unresolved)


# --------------------------------------------------------------------------------------------- export

_JOB_ORDER = ("name", "description", "tags", "max_concurrent_runs", "timeout_seconds", "parameters",
              "schedule", "trigger", "email_notifications", "webhook_notifications", "notification_settings",
              "tasks")
_TASK_ORDER = ("task_key", "description", "depends_on", "run_if", "condition_task", "notebook_task",
               "max_retries", "min_retry_interval_millis", "retry_on_timeout", "timeout_seconds",
               "email_notifications", "disabled")


#: Keys that read best first wherever they appear (the SDK's ``as_dict`` sorts alphabetically).
_LEADING_KEYS = ("task_key", "name", "quartz_cron_expression", "left", "op", "right", "notebook_path")


def _ordered(d: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    first = {k: d[k] for k in order if k in d}
    return {**first, **{k: v for k, v in d.items() if k not in first}}


def _tidy(value: Any) -> Any:
    """Readable key order at every level, for people who diff or edit the export."""
    if isinstance(value, dict):
        return {k: _tidy(v) for k, v in _ordered(value, _LEADING_KEYS).items()}
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    return value


def export_job(job: LoadedJob, *, to: Literal["yaml", "json"], relative_to: Path | None = None,
               workspace_dir: str | None = None) -> str:
    """Write the job out as bundle YAML (notebook paths relative to ``relative_to``) or create JSON.

    ``relative_to`` is the folder the YAML will live in (default: the job file's folder). JSON carries
    absolute workspace paths ``<workspace_dir>/<stem>`` (default ``/Workspace/Shared/<job_key>``); both
    load back to the same settings and notebook files.
    """
    settings = job.settings.as_dict()
    local_files = job.notebooks
    for task in settings.get("tasks", []):
        file = local_files.get(task.get("task_key", ""))
        nb = task.get("notebook_task")
        if nb is None or file is None:
            continue
        if to == "yaml":
            rel = os.path.relpath(file.resolve(), Path(relative_to or job.base_dir).resolve())
            rel_posix = PurePosixPath(*Path(rel).parts).as_posix()
            nb["notebook_path"] = rel_posix if rel_posix.startswith("..") else f"./{rel_posix}"
            if nb.get("source") == "WORKSPACE":
                del nb["source"]  # the path now points into the bundle, not at a workspace object
        else:
            folder = (workspace_dir or f"/Workspace/Shared/{job.job_key}").rstrip("/")
            nb["notebook_path"] = f"{folder}/{file.stem}"
    settings["tasks"] = [_ordered(_tidy(t), _TASK_ORDER) for t in settings.get("tasks", [])]
    settings = _ordered({k: _tidy(v) for k, v in settings.items()}, _JOB_ORDER)
    if not settings["tasks"]:
        del settings["tasks"]
    if to == "yaml":
        if job.shape == "bundle":
            settings.update({k: job.raw[k] for k in BUNDLE_ONLY_JOB_KEYS if k in job.raw})
        elif isinstance(job.raw.get("access_control_list"), list):
            settings["permissions"] = [
                {("level" if k == "permission_level" else k): v for k, v in entry.items()}
                for entry in job.raw["access_control_list"] if isinstance(entry, dict)]
        bundle = {"bundle": {"name": job.job_key}, "resources": {"jobs": {job.job_key: settings}}}
        return yaml.safe_dump(bundle, sort_keys=False, allow_unicode=True, width=100)
    if to == "json":
        if job.shape == "create" and isinstance(job.raw.get("access_control_list"), list):
            settings["access_control_list"] = job.raw["access_control_list"]
        elif isinstance(job.raw.get("permissions"), list):
            settings["access_control_list"] = [
                {("permission_level" if k == "level" else k): v for k, v in entry.items()}
                for entry in job.raw["permissions"] if isinstance(entry, dict)]
        return json.dumps(settings, indent=2, ensure_ascii=False) + "\n"
    raise JobDefinitionError(f"cannot export to {to!r}.", path=job.path, hint="Use yaml or json.")
