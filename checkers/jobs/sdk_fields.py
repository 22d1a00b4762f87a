"""What the installed databricks-sdk says a job looks like: its dataclass fields, enums and task types.

The loader (bundle scalar coercion, shape detection) and the checks (schema walk, task types) both read the
SDK's own type hints instead of a copied schema; this module is that shared reflection, so neither has to
import the other for it.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any, Literal

from databricks.sdk.service import jobs

JobShape = Literal["bundle", "create", "get"]
"""Which export shape a job file has: bundle YAML, Jobs API create payload or ``jobs get`` output."""

#: Keys a bundle's job resource may hold beyond ``JobSettings`` (checked loosely).
BUNDLE_ONLY_JOB_KEYS = ("permissions", "lifecycle")
#: Keys the Jobs API create payload takes beyond ``JobSettings``.
CREATE_ONLY_JOB_KEYS = ("access_control_list",)


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
