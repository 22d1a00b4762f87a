"""Where a Delta stand-in table lives, and how its contents are replaced without losing data.

Spark refuses to overwrite a table that the same query reads (``UNSUPPORTED_OVERWRITE``); Delta allows it (each
query reads the version it started from). Every rewrite here therefore *materializes first, then swaps*:

* a catalog table: the new rows go into a staging table ``CREATE TABLE ... LIKE`` the target (same columns,
  partitioning and format); then the target is renamed aside, the staging table renamed in, and the old one
  dropped. If anything fails before the swap, the target is untouched; during the swap, the old table is renamed
  back. Renaming moves a managed table's folder, so nothing is copied twice.
* a path: the new files go to a hidden sibling folder, then the folders are swapped (or, when this kernel cannot
  write there, Spark copies the staged files over the target and the message names the staging folder).
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checkers.runtime import catalog_names, client_patches, sql_tokens
from checkers.runtime.delta import errors, state
from checkers.runtime.delta.log import DeltaLog, data_files, local_folder


def raw_sql(session: Any, statement: str) -> Any:
    """Run SQL on Spark as is: no name rewriting and no Delta hooks (the statement is already local)."""
    return client_patches.original_sql(session)(statement)


def table_exists(session: Any, name: str) -> bool:
    """Whether the catalog has table ``name`` (asked as the emulation: no hook sees the call)."""
    with state.internal():
        return bool(session.catalog.tableExists(name))


def is_self_overwrite(exc: BaseException) -> bool:
    """Spark refused to overwrite a table or path that the written query reads (the emulation stages it)."""
    getter = getattr(exc, "getCondition", None)
    return bool(getter and (getter() or "").startswith("UNSUPPORTED_OVERWRITE"))


def quote(*parts: str) -> str:
    return ".".join(catalog_names.quote_ident(p) for p in parts)


@dataclass
class TableInfo:
    """One Delta stand-in table: a catalog table or a folder of parquet files."""

    kind: str
    """``table`` or ``path``."""
    display: str
    """How messages name it: ``workspace.<schema>.<table>``, or the path as the notebook wrote it."""
    database: str | None = None
    table: str | None = None
    path: str | None = None
    """The folder Spark reads, for ``path`` tables (a ``/Volumes`` path already mapped to the local one)."""
    location: str | None = None
    created: str | None = None
    provider: str | None = None
    table_type: str | None = None
    partition_columns: list[str] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)
    comment: str | None = None

    @property
    def spark_name(self) -> str:
        """The quoted ``spark_catalog`` name for SQL (catalog tables only)."""
        assert self.database is not None and self.table is not None
        return quote(catalog_names.SESSION_CATALOG, self.database, self.table)

    @property
    def key(self) -> str:
        if self.kind == "table":
            return f"table:{catalog_names.SESSION_CATALOG}.{self.database}.{self.table}"
        return f"path:{self.path}"

    def log(self) -> DeltaLog:
        return DeltaLog(self.key)

    def local_folder(self) -> Path | None:
        """The table's folder on this machine, when Spark shares the kernel's disk."""
        if not state.STATE.local_disk:
            return None
        return local_folder(self.location if self.kind == "table" else self.path)

    def read(self, session: Any) -> Any:
        with state.internal():
            if self.kind == "table":
                return session.table(self.spark_name)
            reader = session.read.format(catalog_names.LOCAL_FORMAT)
            schema = logged_schema(self)
            return (reader.schema(schema) if schema is not None else reader).load(self.path)


def logged_schema(info: TableInfo) -> Any:
    """A path table's schema as last written (parquet alone would guess partition column types from folder names:
    ``day=2019-10-01`` a DATE where Delta keeps the STRING that was written)."""
    import json

    from pyspark.sql.types import StructType

    last = info.log().latest()
    if not last or not last.get("schema"):
        return None
    return StructType.fromJson(json.loads(last["schema"]))


def info_from_name(session: Any, name: str) -> TableInfo:
    """A catalog table known only by its name (``spark_catalog.s.t``, ``s.t`` or ``t``): no ``DESCRIBE`` needed."""
    parts = [t.value for t in sql_tokens.tokenize(catalog_names.rewrite_name(name)) if t.kind in ("word", "qident")]
    if len(parts) == 1:
        with state.internal():
            parts = [session.catalog.currentDatabase(), *parts]
    database, table = parts[-2].lower(), parts[-1].lower()
    return TableInfo(kind="table", display=f"{catalog_names.CATALOG}.{database}.{table}", database=database,
                     table=table, provider=catalog_names.LOCAL_FORMAT)


def refresh(session: Any, info: TableInfo) -> TableInfo:
    """The table's facts now (a rewrite swaps tables, so a catalog table's creation time moves)."""
    if info.kind != "table":
        return info
    current = describe_table(session, info.spark_name, display=info.display)
    if current is None:
        raise errors.table_not_found(info.display)
    return current


def split_identifier(text: str) -> tuple[str, str]:
    """``delta.`/path``` → (``path``, local path); a table name → (``table``, its ``spark_catalog`` name)."""
    tokens = [t for t in sql_tokens.tokenize(text.strip()) if t.significant]
    if len(tokens) == 3 and tokens[0].kind == "word" and tokens[0].upper in ("DELTA", "PARQUET") \
            and tokens[1].text == "." and tokens[2].kind == "qident":
        return "path", client_patches.translated_path(tokens[2].value)
    return "table", catalog_names.rewrite_name(text.strip(), where="the Delta Lake API")


def describe_table(session: Any, name: str, *, display: str | None = None) -> TableInfo | None:
    """A catalog table's facts from ``DESCRIBE TABLE EXTENDED``; None when it does not exist."""
    from pyspark.errors import AnalysisException

    try:
        rows = raw_sql(session, f"DESCRIBE TABLE EXTENDED {name}").collect()
    except AnalysisException as exc:
        if (exc.getCondition() or "").startswith(("TABLE_OR_VIEW_NOT_FOUND", "SCHEMA_NOT_FOUND")):
            return None
        raise
    facts: dict[str, str] = {}
    partitions: list[str] = []
    section = "columns"
    for row in rows:
        key, value = (row[0] or "").strip(), (row[1] or "").strip()
        if key == "# Partition Information":
            section = "partitions"
        elif key == "# Detailed Table Information":
            section = "details"
        elif section == "partitions" and key and not key.startswith("#"):
            partitions.append(key)
        elif section == "details" and key:
            facts[key] = value
    database, table = facts.get("Database", ""), facts.get("Table", "")
    properties = _properties(facts.get("Table Properties", ""))
    return TableInfo(kind="table", display=display or f"{catalog_names.CATALOG}.{database}.{table}", database=database,
                     table=table, location=facts.get("Location"), created=facts.get("Created Time"),
                     provider=facts.get("Provider"), table_type=facts.get("Type"), partition_columns=partitions,
                     properties=properties, comment=facts.get("Comment"))


def _properties(text: str) -> dict[str, str]:
    """``[a=1, b=2]`` as ``DESCRIBE TABLE EXTENDED`` prints table properties."""
    inner = text.strip()[1:-1] if text.strip().startswith("[") else ""
    pairs = [p.split("=", 1) for p in inner.split(", ") if "=" in p]
    return {k.strip(): v.strip() for k, v in pairs}


def path_info(path: str, *, display: str) -> TableInfo:
    """A path table; its partition columns come from the log, or from ``name=value`` folders on disk."""
    info = TableInfo(kind="path", display=display, path=path, location=path, provider=catalog_names.LOCAL_FORMAT)
    last = info.log().latest()
    if last is not None:
        info.partition_columns = list(last.get("partitionColumns") or [])
    else:
        folder = info.local_folder()
        while folder is not None and folder.is_dir():
            sub = next((d for d in sorted(folder.iterdir()) if d.is_dir() and "=" in d.name
                        and not d.name.startswith(("_", "."))), None)
            if sub is None:
                break
            info.partition_columns.append(sub.name.split("=", 1)[0])
            folder = sub
    return info


def path_exists(session: Any, info: TableInfo) -> bool:
    """A folder is a Delta stand-in table when the kit wrote it as one, or it holds parquet files (or, on a server
    that does not share this disk, when Spark can read it as parquet)."""
    folder = info.local_folder()
    if folder is not None:
        if not folder.is_dir():
            return False
        return info.log().latest() is not None or any(f.suffix == ".parquet" for f in data_files(folder))
    from pyspark.errors import PySparkException

    try:
        with state.internal():
            session.read.format(catalog_names.LOCAL_FORMAT).load(info.path).schema  # noqa: B018 - a probe
        return True
    except PySparkException:
        return False


def resolve(session: Any, identifier: str, *, kind: str | None = None) -> TableInfo:
    """The Delta table a notebook names (``workspace.s.t``, ``s.t``, ``delta.`/path```, or a path with
    ``kind="path"``); raises Delta's 'not a Delta table' error when there is none."""
    state.show_notice(catalog_names.DELTA_NOTICE)
    if kind == "path":
        where, value = "path", client_patches.translated_path(identifier)
    else:
        where, value = split_identifier(identifier)
    if where == "path":
        info = path_info(value, display=identifier)
        if not path_exists(session, info):
            raise errors.not_a_delta_table(f"`{identifier}`", why="no table files were found at that path.")
        return info
    described = describe_table(session, value)
    if described is None:
        raise errors.not_a_delta_table(f"`{identifier}`", why="no such table exists.")
    info = described
    if info.table_type == "VIEW" or (info.provider or "").lower() not in (catalog_names.LOCAL_FORMAT, "delta"):
        raise errors.not_a_delta_table(
            f"`{identifier}`", why=f"it is a {(info.provider or 'view').lower()} table, and only tables in the "
            f"Delta stand-in format ({catalog_names.LOCAL_FORMAT}) are Delta tables here.")
    return info


def resolve_in_statement(session: Any, name: str) -> TableInfo:
    """A SQL statement's table: a quoted string is a path, anything else a table name."""
    if name[:1] in ("'", '"'):
        return resolve(session, name[1:-1], kind="path")
    return resolve(session, name)


# --- replacing a table's contents --------------------------------------------------------------------------

def _fresh(name: str, role: str) -> str:
    return f"__day07_{role}_{name}_{uuid.uuid4().hex[:8]}"[:120]


def stage_table(info: TableInfo, role: str = "stage") -> str:
    """A fresh hidden table's quoted name in ``info``'s schema, to write new rows to before they take its place."""
    return quote(catalog_names.SESSION_CATALOG, info.database or "default", _fresh(info.table or "t", role))


def replace_contents(session: Any, info: TableInfo, frame: Any) -> TableInfo:
    """Make ``frame`` (in the table's column order) the table's contents, even when ``frame`` reads the table.

    Returns the table's facts after the swap (its creation time changed)."""
    if info.kind == "path":
        replace_path(session, info, frame, partition_columns=info.partition_columns)
        return info
    before = describe_table(session, info.spark_name, display=info.display) or info
    stage = stage_table(info)
    raw_sql(session, f"CREATE TABLE {stage} LIKE {info.spark_name}")
    try:
        with state.internal():
            frame.write.insertInto(stage)
    except BaseException:
        raw_sql(session, f"DROP TABLE IF EXISTS {stage}")
        raise
    swap_in(session, info, stage)
    keep_metadata(session, before)
    return describe_table(session, info.spark_name, display=info.display) or info


_SPARK_OWN_PROPERTIES = ("transient_lastDdlTime", "spark.sql.", "option.")


def keep_metadata(session: Any, before: TableInfo) -> None:
    """Give a rewritten table back what ``CREATE TABLE LIKE`` left out: its properties (CHECK constraints among
    them) and comment. Delta's DML changes rows only, never the table's metadata."""
    kept = {k: v for k, v in before.properties.items() if not k.startswith(_SPARK_OWN_PROPERTIES)}
    if kept:
        quote = catalog_names.quote_string
        pairs = ", ".join(f"{quote(k)} = {quote(v)}" for k, v in kept.items())
        raw_sql(session, f"ALTER TABLE {before.spark_name} SET TBLPROPERTIES ({pairs})")
    if before.comment:
        raw_sql(session, f"COMMENT ON TABLE {before.spark_name} IS {catalog_names.quote_string(before.comment)}")


def swap_in(session: Any, info: TableInfo, stage: str) -> None:
    """Put the staging table ``stage`` in the place of ``info``'s table, keeping the old one until it is in."""
    if (info.table_type or "").upper() == "EXTERNAL":  # its files stay at their location: copy into it
        try:
            raw_sql(session, f"INSERT OVERWRITE TABLE {info.spark_name} SELECT * FROM {stage}")
        except BaseException as exc:
            exc.add_note(f"The new rows are kept in the table {stage}.")
            raise
        raw_sql(session, f"DROP TABLE IF EXISTS {stage}")
        return
    database = info.database or "default"
    backup_name = _fresh(info.table or "t", "old")
    backup = quote(catalog_names.SESSION_CATALOG, database, backup_name)
    here = quote(database, info.table or "")  # RENAME TO takes at most two name parts
    try:
        raw_sql(session, f"ALTER TABLE {info.spark_name} RENAME TO {quote(database, backup_name)}")
    except BaseException:
        raw_sql(session, f"DROP TABLE IF EXISTS {stage}")
        raise
    try:
        raw_sql(session, f"ALTER TABLE {stage} RENAME TO {here}")
    except BaseException as exc:
        try:
            raw_sql(session, f"ALTER TABLE {backup} RENAME TO {here}")
            raw_sql(session, f"DROP TABLE IF EXISTS {stage}")
        except Exception:  # noqa: BLE001 - say where both versions are instead
            exc.add_note(f"The table's previous rows are in {backup}, the new rows in {stage}.")
        raise
    try:
        raw_sql(session, f"DROP TABLE IF EXISTS {backup}")
    except Exception:  # noqa: BLE001 - the new table is in place; the old copy is only clutter
        state.show_notice(f"The previous version of {info.display} could not be dropped: it remains as {backup}.")


def replace_path(session: Any, info: TableInfo, frame: Any, *, partition_columns: list[str],
                 fmt: str = catalog_names.LOCAL_FORMAT) -> None:
    """Make ``frame`` the files of the path table ``info`` (staged in a hidden sibling folder first)."""
    assert info.path is not None
    parent, _, name = info.path.rstrip("/").rpartition("/")
    stage = f"{parent}/.{name}.{_fresh('', 'stage').strip('_')}"
    with state.internal():
        writer = frame.write.format(fmt).mode("error")
        if partition_columns:
            writer = writer.partitionBy(*partition_columns)
        writer.save(stage)
    here, staged = local_folder(info.path), local_folder(stage)
    if state.STATE.local_disk and here is not None and staged is not None and staged.is_dir() \
            and os.access(here.parent, os.W_OK):
        old = here.with_name(f".{here.name}.{_fresh('', 'old').strip('_')}")
        if here.exists():
            os.replace(here, old)
        try:
            os.replace(staged, here)
        except OSError:
            if old.exists():
                os.replace(old, here)
            raise
        shutil.rmtree(old, ignore_errors=True)
        return
    try:
        with state.internal():
            staged_frame = session.read.schema(frame.schema).format(fmt).load(stage)
            writer = staged_frame.write.format(fmt).mode("overwrite")
            if partition_columns:
                writer = writer.partitionBy(*partition_columns)
            writer.save(info.path)
    except BaseException as exc:
        exc.add_note(f"The new rows are kept in the folder {stage}.")
        raise
    if staged is not None:
        shutil.rmtree(staged, ignore_errors=True)
