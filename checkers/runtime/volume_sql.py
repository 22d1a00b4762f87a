"""Unity Catalog's volume statements on local Spark: ``SHOW VOLUMES``, ``DESCRIBE VOLUME`` and ``LIST '<path>'``.

Spark's parser knows none of them. Volumes are folders here (:mod:`checkers.runtime.volumes`), so the answers come
from the disk, in the columns Databricks returns. :func:`plan` reads the statement (pure); :func:`run` answers it.
"""

from __future__ import annotations

import posixpath
from datetime import datetime, timezone
from typing import Any

from checkers.errors import CheckersError
from checkers.runtime.catalogs import CATALOG, CATALOG_ALIASES, SESSION_CATALOG
from checkers.runtime.sql_tokens import Token, chain_text, tokenize
from checkers.runtime.volumes import VOLUMES_PREFIX, is_volume_path, local_path


class VolumeStatementError(CheckersError):
    """A volume statement that names no volume, or one that does not exist."""


def plan(words: list[str], tokens: list[Token], sig: list[int]) -> tuple[str, ...] | None:
    """``("show_volumes", schema)``, ``("describe_volume", name)``, ``("list", path, limit)``; None otherwise."""
    if words[:2] == ["SHOW", "VOLUMES"]:
        schema = chain_text(tokens, sig[3])[0] if len(sig) > 3 and words[2:3] in (["IN"], ["FROM"]) else ""
        return ("show_volumes", schema)
    if words[:2] in (["DESCRIBE", "VOLUME"], ["DESC", "VOLUME"]) and len(sig) > 2:
        return ("describe_volume", chain_text(tokens, sig[2])[0])
    if words[:1] == ["LIST"] and len(sig) > 1 and tokens[sig[1]].kind == "string":
        limit = tokens[sig[3]].text if words[2:3] == ["LIMIT"] and len(sig) > 3 else ""
        return ("list", tokens[sig[1]].value, limit)
    return None


def qualified(session: Any, name: str, size: int = 3) -> list[str]:
    """``[catalog, schema, volume]`` (``size`` 3) or ``[catalog, schema]`` (2) for a name as written, the missing
    parts from the current schema: the folder under ``/Volumes`` that CREATE VOLUME makes and the other volume
    statements read. The workspace catalog's names (``main``, ``spark_catalog``, ...) are ``workspace``; a learner's
    own catalog keeps its folder (``/Volumes/dev/...``)."""
    parts = [t.value for t in tokenize(name) if t.kind in ("word", "qident")]
    if not parts or len(parts) > size:
        raise VolumeStatementError(f"'{name}' is not a {'volume' if size == 3 else 'schema'} name.",
                                   hint="Write <catalog>.<schema>.<volume>." if size == 3 else
                                   "Write <catalog>.<schema>.")
    parts = [*([CATALOG, session.catalog.currentDatabase()][:size - len(parts)]), *parts]
    if parts[0].lower() in (*CATALOG_ALIASES, SESSION_CATALOG):
        parts[0] = CATALOG
    return parts


def run(session: Any, action: tuple[str, ...]) -> Any:
    kind = action[0]
    if kind == "show_volumes":
        return _show(session, action[1])
    if kind == "describe_volume":
        return _describe(session, action[1])
    return _list(session, action[1], action[2])


def _show(session: Any, schema: str) -> Any:
    catalog, db = qualified(session, schema, 2) if schema else (CATALOG, session.catalog.currentDatabase())
    folder = local_path(f"{VOLUMES_PREFIX}/{catalog}/{db}/x").parent
    names = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    return session.createDataFrame([(db, name) for name in names], "database_name STRING, volume_name STRING")


def _describe(session: Any, name: str) -> Any:
    catalog, schema, volume = qualified(session, name)
    path = f"{VOLUMES_PREFIX}/{catalog}/{schema}/{volume}"
    if not local_path(path).is_dir():
        raise VolumeStatementError(f"Volume {catalog}.{schema}.{volume} does not exist.",
                                   hint=f"Create it: CREATE VOLUME IF NOT EXISTS {catalog}.{schema}.{volume}")
    return session.createDataFrame(
        [(volume, catalog, schema, None, path, "MANAGED", None)],
        "name STRING, catalog STRING, database STRING, owner STRING, storage_location STRING, volume_type STRING, "
        "comment STRING")


def _list(session: Any, path: str, limit: str) -> Any:
    if not is_volume_path(path):
        raise VolumeStatementError(f"LIST '{path}': only volume paths (/Volumes/...) can be listed locally.",
                                   hint="Use dbutils.fs.ls for other paths.")
    folder = local_path(path)
    if not folder.exists():
        raise VolumeStatementError(f"LIST '{path}': no such file or folder.", hint="Check the path.")
    entries = sorted(folder.iterdir()) if folder.is_dir() else [folder]
    if limit.isdigit():
        entries = entries[:int(limit)]
    base = path.rstrip("/") if folder.is_dir() else posixpath.dirname(path.rstrip("/"))
    rows = []
    for entry in entries:
        stat = entry.stat()
        name = entry.name + ("/" if entry.is_dir() else "")
        rows.append((f"{base}/{name}", name, 0 if entry.is_dir() else stat.st_size,
                     datetime.fromtimestamp(stat.st_mtime, tz=timezone.utc).replace(tzinfo=None)))
    return session.createDataFrame(rows, "path STRING, name STRING, size BIGINT, modification_time TIMESTAMP")
