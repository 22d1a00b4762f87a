"""Bundle-only steps of loading a job: pick the job resource, resolve ``${var.*}``, normalise scalars.

A bundle job is not yet Jobs API settings: ``databricks bundle`` substitutes variables (also those of the
bundle root an included file belongs to) and coerces scalars to the declared types before deploying. Doing
the same here keeps the loader itself about file shapes only.
"""

from __future__ import annotations

import difflib
import json
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from databricks.sdk.service import jobs

from checkers.errors import JobDefinitionError
from checkers.jobs.parse import parse_job_file
from checkers.jobs.sdk_fields import is_sdk_dataclass, sdk_fields, unwrap_optional

_VAR_RE = re.compile(r"\$\{([A-Za-z][\w-]*(?:\.[A-Za-z][\w-]*)*)\}")


@dataclass(frozen=True)
class UnresolvedVariable:
    """A bundle ``${...}`` substitution the loader could not resolve."""

    name: str
    """What was inside ``${...}``, e.g. ``var.catalog``."""
    key: str
    """Key path inside the job settings, e.g. ``tasks[0].notebook_task.base_parameters.schema``."""
    reason: str
    """Why it stayed unresolved."""



@dataclass(frozen=True)
class BundleJob:
    """One job of a bundle, ready to be read as Jobs API settings."""

    job_key: str
    """The job's key under ``resources: jobs:``."""
    raw: dict[str, Any]
    """The job's settings after substitutions and scalar coercion."""
    variables: dict[str, Any]
    """Variable values used for ``${var.*}`` (and ``${bundle.name}``) substitution."""
    unresolved: list[UnresolvedVariable]
    """Substitutions that stayed unresolved (reported by the validator)."""


def bundle_job(*, path: Path, document: dict[str, Any], job_key: str | None) -> BundleJob:
    """The job ``job_key`` of the parsed bundle ``document`` (the only one when None) as ``databricks bundle``
    would deploy it; raise :class:`JobDefinitionError` when there is no such job."""
    key, written = _pick_bundle_job(path, document, job_key)
    root = _root_document(path)
    variables = {**(_bundle_variables(root) if root else {}), **_bundle_variables(document)}
    for source in (root, document):  # the default target's job overrides, as `databricks bundle deploy` merges them
        override = ((_default_target(source or {})[1].get("resources") or {}).get("jobs") or {}).get(key)
        if isinstance(override, dict):
            written = _merged(written, override)
    unresolved: list[UnresolvedVariable] = []
    substituted = _substitute(written, variables, "", unresolved)
    fields = sdk_fields(jobs.JobSettings)
    raw = {k: _coerce_bundle_scalars(v, fields[k].hint) if k in fields else v for k, v in substituted.items()}
    return BundleJob(job_key=key, raw=raw, variables=variables, unresolved=unresolved)



def _default_target(document: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The target ``databricks bundle deploy`` picks without ``-t``: the one marked ``default: true`` (else the only
    one); (None, {}) when the bundle has none."""
    targets = document.get("targets")
    if not isinstance(targets, dict) or not targets:
        return None, {}
    chosen = [name for name, spec in targets.items() if isinstance(spec, dict) and spec.get("default") is True]
    if not chosen and len(targets) == 1:
        chosen = list(targets)
    if not chosen:
        return None, {}
    spec = targets[chosen[0]]
    return str(chosen[0]), spec if isinstance(spec, dict) else {}


def _values(declared: Any) -> dict[str, Any]:
    variables: dict[str, Any] = {}
    if not isinstance(declared, dict):
        return variables
    for name, spec in declared.items():
        if isinstance(spec, dict) and "default" in spec:
            variables[f"var.{name}"] = spec["default"]
        elif not isinstance(spec, dict) and spec is not None:
            variables[f"var.{name}"] = spec  # shorthand `name: value`
    return variables


def _bundle_variables(document: dict[str, Any]) -> dict[str, Any]:
    """``${var.*}`` from the declared defaults, overridden by the default target's values; ``${bundle.name}``,
    ``${bundle.target}``."""
    target, spec = _default_target(document)
    variables = {**_values(document.get("variables")), **_values(spec.get("variables"))}
    bundle = document.get("bundle")
    if isinstance(bundle, dict) and isinstance(bundle.get("name"), str):
        variables["bundle.name"] = bundle["name"]
    if target is not None:
        variables["bundle.target"] = target
    return variables


def _merged(base: Any, override: Any) -> Any:
    """A target's override merged into the job: mappings key by key, ``tasks`` by ``task_key``, the rest replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for k, v in override.items():
            out[k] = _merged(base.get(k), v) if k in base else v
        return out
    if isinstance(base, list) and isinstance(override, list) and all(
            isinstance(t, dict) and "task_key" in t for t in [*base, *override]):
        by_key = {t["task_key"]: t for t in base}
        for t in override:
            by_key[t["task_key"]] = _merged(by_key.get(t["task_key"], {}), t)
        return list(by_key.values())
    return override


BUNDLE_ROOT_NAMES = ("databricks.yml", "databricks.yaml")
"""A bundle's root file; a job in an included file (``resources/x.yml``) takes its variables from it."""


def bundle_root(path: Path) -> Path | None:
    """The bundle root file (``databricks.yml``) in ``path``'s folder or up to two above it, if any."""
    for folder in list(path.resolve().parents)[:3]:
        for name in BUNDLE_ROOT_NAMES:
            if (folder / name).is_file():
                return folder / name
    return None


def _root_document(path: Path) -> dict[str, Any] | None:
    """The bundle root above ``path`` (its variables and targets reach the files it includes); None without one."""
    root = bundle_root(path)
    if root is None or root == path.resolve():
        return None
    try:
        document = parse_job_file(path=root)
    except (JobDefinitionError, OSError):
        return None
    return document if isinstance(document, dict) else None


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
            reason = ("no variable of that name has a value: a `default:` under `variables:`, or one set by the "
                      "default target (`targets:` → the one with `default: true`)")
        else:
            reason = "only `${var.*}`, `${bundle.name}` and `${bundle.target}` are resolved locally"
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

