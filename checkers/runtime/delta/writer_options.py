"""A DataFrameWriter's options as Delta reads them: names in any case (``replaceWhere``, ``replacewhere``)."""

from __future__ import annotations

import contextlib
from typing import Any


def option(writer: Any, name: str) -> str | None:
    """The writer's option ``name`` as text, or None when it is not set."""
    wanted = name.lower()
    return next((str(v) for k, v in (writer._write.options or {}).items() if str(k).lower() == wanted), None)


def flag(writer: Any, name: str) -> bool:
    """Whether the writer's option ``name`` is ``true``."""
    return str(option(writer, name)).lower() == "true"


def merge_schema(writer: Any, session: Any) -> bool:
    """Whether a write may add columns: its ``mergeSchema`` option, or Databricks' autoMerge setting."""
    if flag(writer, "mergeSchema"):
        return True
    with contextlib.suppress(Exception):
        return str(session.conf.get("spark.databricks.delta.schema.autoMerge.enabled", "false")).lower() == "true"
    return False
