"""Walk raw job settings against the SDK dataclasses: unknown keys, wrong types, bad enum values, missing keys.

The SDK's ``from_dict`` drops unknown keys and unknown enum values without a word, so this walk works on the
raw settings dict, led by the SDK's own type hints (no copied schema). It is apart from the structure checks
because the loader needs it too: when ``from_dict`` fails, these findings say why.
"""

from __future__ import annotations

import difflib
import json
import typing
from typing import Any

from databricks.sdk.service import jobs

from checkers.jobs.findings import Finding, Level, child_key, task_prefix, value_word
from checkers.jobs.sdk_fields import (
    BUNDLE_ONLY_JOB_KEYS,
    CREATE_ONLY_JOB_KEYS,
    JobShape,
    is_enum,
    is_sdk_dataclass,
    sdk_fields,
    unwrap_optional,
)

_TYPE_WORDS = {str: "text", int: "a whole number", bool: "true or false", float: "a number"}


def _type_word(hint: Any) -> str:
    hint = unwrap_optional(hint)
    origin = typing.get_origin(hint)
    if origin in (list, typing.List):  # noqa: UP006
        return "a list"
    if origin in (dict, typing.Dict) or is_sdk_dataclass(hint):  # noqa: UP006
        return "a mapping (key: value pairs)"
    if is_enum(hint):
        return "one of " + ", ".join(m.value for m in hint)
    return _TYPE_WORDS.get(hint, getattr(hint, "__name__", str(hint)))


def _owner_label(cls: type, key: str) -> str:
    if cls is jobs.JobSettings:
        return "a job setting"
    if cls is jobs.Task:
        return "a task field"
    last = key.rsplit(".", 1)[-1]
    if last.endswith("]"):
        return f"a field of a `{last.split('[')[0]}` entry"
    return f"a field of `{last}`"


class _SchemaWalker:
    """Walks raw settings against the SDK dataclasses and records unknown keys, wrong types, bad enums."""

    def __init__(self, shape: JobShape) -> None:
        self.shape = shape
        self.findings: list[Finding] = []

    def add(self, level: Level, code: str, message: str, task_key: str | None, key: str,
            hint: str | None = None) -> None:
        self.findings.append(Finding(level, code, task_prefix(task_key) + message, task_key, key or None, hint))

    def walk(self, value: Any, hint: Any, key: str, task_key: str | None) -> None:
        hint = unwrap_optional(hint)
        origin = typing.get_origin(hint)
        if value is None:
            return
        if is_sdk_dataclass(hint):
            self._walk_dataclass(value, hint, key, task_key)
        elif origin in (list, typing.List):  # noqa: UP006
            if not isinstance(value, list):
                self._wrong_type(value, hint, key, task_key)
                return
            (item,) = typing.get_args(hint) or (Any,)
            for i, v in enumerate(value):
                self.walk(v, item, child_key(key, i), task_key)
        elif origin in (dict, typing.Dict):  # noqa: UP006
            if not isinstance(value, dict):
                self._wrong_type(value, hint, key, task_key)
                return
            args = typing.get_args(hint)
            for k, v in value.items():
                self.walk(v, args[1] if len(args) == 2 else Any, child_key(key, str(k)), task_key)
        elif is_enum(hint):
            self._check_enum(value, hint, key, task_key)
        elif hint in _TYPE_WORDS:
            ok = isinstance(value, hint) and not (hint is not bool and isinstance(value, bool))
            if hint is float:
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not ok:
                self._wrong_type(value, hint, key, task_key)

    def _walk_dataclass(self, value: Any, cls: type, key: str, task_key: str | None) -> None:
        if not isinstance(value, dict):
            self._wrong_type(value, cls, key, task_key)
            return
        if cls is jobs.Task and isinstance(value.get("task_key"), str):
            task_key = value["task_key"]
        fields = sdk_fields(cls)
        extras: tuple[str, ...] = ()
        if cls is jobs.JobSettings and not key:
            extras = BUNDLE_ONLY_JOB_KEYS if self.shape == "bundle" else (
                CREATE_ONLY_JOB_KEYS if self.shape == "create" else ())
        for k, v in value.items():
            if k in fields:
                self.walk(v, fields[k].hint, child_key(key, k), task_key)
            elif k == "access_control_list" and k in extras:
                self.walk(v, list[jobs.JobAccessControlRequest], child_key(key, k), task_key)
            elif k not in extras:
                self._unknown_key(str(k), cls, key, task_key, list(fields) + list(extras))
        for name, spec in fields.items():
            if spec.required and value.get(name) is None:
                where = f"under `{key}`" if key else "at the top of the job settings"
                self.add("error", "missing_required", f"`{child_key(key, name)}` is required but missing.",
                         task_key, child_key(key, name), f"Add `{name}:` {where}.")

    def _unknown_key(self, name: str, cls: type, key: str, task_key: str | None, known: list[str]) -> None:
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        guess = f" — did you mean `{close[0]}`?" if close else ""
        hint = (f"Rename it to `{close[0]}`." if close else
                "Remove it, or check the spelling against the Jobs API reference; Databricks ignores or "
                "refuses keys it does not know.")
        self.add("error", "unknown_key", f"`{name}` is not {_owner_label(cls, key)}{guess}", task_key,
                 child_key(key, name), hint)

    def _wrong_type(self, value: Any, hint: Any, key: str, task_key: str | None) -> None:
        wanted = _type_word(hint)
        hint_text = None
        if wanted == "a list" and key.endswith("depends_on") and isinstance(value, str):
            hint_text = f"Write `depends_on:` with a `- task_key: {value}` line below it."
        elif wanted == "a list" and not isinstance(value, (list, dict)):
            shown = json.dumps(value)
            hint_text = (f"Write a list, even for one item: a `- {value}` line below the key in YAML, "
                         f"`[{shown}]` in JSON.")
        elif wanted == "text" and isinstance(value, (int, float, bool)) and self.shape != "bundle":
            hint_text = f"Quote it in JSON: \"{str(value).lower() if isinstance(value, bool) else value}\"."
        self.add("error", "wrong_type", f"`{key}` should be {wanted}, not {value_word(value)}.", task_key, key,
                 hint_text)

    def _check_enum(self, value: Any, enum_cls: Any, key: str, task_key: str | None) -> None:
        allowed = [m.value for m in enum_cls]
        if isinstance(value, str) and value in allowed:
            return
        name = key.rsplit(".", 1)[-1]
        code = {"run_if": "invalid_run_if", "op": "invalid_condition_op"}.get(name, "invalid_value")
        close = difflib.get_close_matches(str(value).upper(), allowed, n=1, cutoff=0.6)
        guess = f" — did you mean `{close[0]}`?" if close else ""
        self.add("error", code, f"`{name}` is {value_word(value)}, which is not one of "
                 f"{', '.join(allowed)}{guess}", task_key, key,
                 f"Use `{close[0]}` (upper case, exactly as listed)." if close else
                 f"Use one of {', '.join(allowed)}.")


def schema_findings(raw: dict[str, Any], *, shape: JobShape) -> list[Finding]:
    """Unknown keys (with a close match), wrong types, bad enum values and missing required keys."""
    walker = _SchemaWalker(shape)
    walker.walk(raw, jobs.JobSettings, "", None)
    return walker.findings

