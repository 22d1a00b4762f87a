"""Patches on the Spark Connect client: every Delta write is logged, self-overwrites work, old versions read.

They sit on top of :mod:`checkers.runtime.readers_writers`' patches (names, paths, Delta → parquet) and call through to
them. A write the emulation makes itself (inside :func:`state.internal`) passes straight through.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from checkers.runtime import catalog_names, client_patches
from checkers.runtime.delta import (
    errors,
    history,
    partitioning,
    path_append,
    replace_where,
    state,
    storage,
    writer_options,
)

_DELTA_SOURCES = (None, "", "delta", catalog_names.LOCAL_FORMAT)
"""Writer formats that make a Delta table: none named (Databricks' default is Delta), Delta, or the stand-in."""
_ORIGINALS: dict[tuple[Any, str], Any] = {}


def _is_delta(source: Any) -> bool:
    return source is None or (isinstance(source, str) and source.strip().lower() in _DELTA_SOURCES)


def _patch(owner: Any, name: str, make: Any) -> None:
    if (owner, name) in _ORIGINALS:
        return
    original = getattr(owner, name)
    _ORIGINALS[(owner, name)] = original
    setattr(owner, name, make(original))


def install(*, notice: Any = None, local_disk: bool = False) -> None:
    """Patch the client (once; a second call only updates the settings)."""
    state.STATE.notice = notice
    state.STATE.local_disk = local_disk
    if _ORIGINALS:
        return
    from pyspark.sql.connect.readwriter import DataFrameReader, DataFrameWriter, DataFrameWriterV2
    from pyspark.sql.connect.session import SparkSession

    from checkers.runtime.delta import sql, stream_history

    stream_history.install()
    _patch(DataFrameWriter, "saveAsTable", _wrap_save_as_table)
    _patch(DataFrameWriter, "insertInto", _wrap_insert_into)
    _patch(DataFrameWriter, "save", _wrap_save)
    _patch(DataFrameWriterV2, "create", _wrap_v2_create)
    _patch(DataFrameWriterV2, "createOrReplace", _wrap_v2_replace)
    _patch(DataFrameWriterV2, "replace", _wrap_v2_replace)
    _patch(DataFrameReader, "table", _wrap_reader_table)
    _patch(DataFrameReader, "load", _wrap_reader_load)
    _patch(SparkSession, "sql", sql.wrap_sql)


def _frame(writer: Any) -> Any:
    from pyspark.sql.connect.dataframe import DataFrame

    return DataFrame(writer._df, writer._spark)


def _written(session: Any, name: str) -> bool:
    """After ``mode("ignore")``: did the write create the table (no log yet) or leave an existing one alone?"""
    return storage.info_from_name(session, name).log().latest() is None and storage.table_exists(session, name)


def _partition_json(cols: Any) -> str:
    return json.dumps([str(c) for c in (cols or [])])


def _wrap_save_as_table(original: Any) -> Any:
    @functools.wraps(original)
    def saveAsTable(self: Any, name: str, format: str | None = None, mode: str | None = None,  # noqa: A002,N802
                    partitionBy: Any = None, **options: Any) -> None:  # noqa: N803
        self.mode(mode).options(**options)
        if partitionBy is not None:
            self.partitionBy(partitionBy)
        if format is not None:
            self.format(format)
        if state.is_internal() or not _is_delta(self._write.source):
            return original(self, name)
        session = self._spark
        local = catalog_names.rewrite_name(name)
        how = (self._write.mode or "errorifexists").lower()
        partitions = partitioning.writer_columns(self)  # Delta keeps them in its metadata, not in folders
        if how == "append" and _evolve(self, session, local):
            return None
        cond = replace_where.condition(self) if how == "overwrite" else None
        existing = storage.describe_table(session, local) if cond is not None else None
        if cond is not None and existing is not None:
            return replace_where.overwrite(self, session, existing, cond)
        if how == "overwrite" and not writer_options.flag(self, "overwriteSchema"):
            partitions = partitions or history.partition_columns(storage.info_from_name(session, local))
            if partitions and partitioning.dynamic_overwrite(self, session, local, partitions):
                return None
        try:
            original(self, name)
        except Exception as exc:
            if how == "append" and not partitions and "Specified partitioning does not match" in str(exc):
                # a table partitioned in Spark's catalog: an append without partitionBy follows it, as on Delta
                self._write.partitioning_cols = partitioning.existing_columns(session, local)
                original(self, name)
            elif not (how == "overwrite" and storage.is_self_overwrite(exc)):
                raise
            else:
                _overwrite_through_stage(self, session, local, original)
        if how == "ignore" and not _written(session, local):
            return
        info = storage.info_from_name(session, local)
        known = info.log().latest() is not None  # a table the log knows: this write continues its history
        if how == "append" and known:
            history.record(session, info, "WRITE", {"mode": "Append", "partitionBy": _partition_json(partitions)},
                           blind_append=True)
            return
        replaced = how == "overwrite" and known  # Delta keeps a replaced table's history
        history.record(session, info, "CREATE OR REPLACE TABLE AS SELECT" if replaced else "CREATE TABLE AS SELECT",
                       {"isManaged": "true", "description": None, "partitionBy": _partition_json(partitions),
                        "properties": "{}"}, new_table=not replaced, partition_columns=partitions)

    return saveAsTable


def _evolve(writer: Any, session: Any, local: str) -> bool:
    """An append whose columns differ from the table's, as Delta takes it: columns the rows lack are null; new
    columns are added to the table first with ``mergeSchema`` (else Delta's schema-mismatch error). Returns True
    when it wrote the rows itself (through a plain append of the aligned frame)."""
    from pyspark.errors import AnalysisException

    try:
        with state.internal():
            table = session.table(local).schema  # one round trip: the table's columns, or that it does not exist
    except AnalysisException:
        return False
    frame = _frame(writer)
    have = {f.name.lower() for f in table.fields}
    extra = [f for f in frame.schema.fields if f.name.lower() not in have]
    missing = [f for f in table.fields if f.name.lower() not in {c.lower() for c in frame.columns}]
    if not extra and not missing:
        return False
    if extra and not writer_options.merge_schema(writer, session):
        raise errors.DeltaAnalysisException(
            "DELTA_METADATA_MISMATCH", f"A schema mismatch detected when writing to the Delta table {local}: the "
            f"data has columns the table does not ({', '.join(f.name for f in extra)}). To enable schema migration, "
            "set the option mergeSchema to true: .option(\"mergeSchema\", \"true\").", sqlstate="42KDG")
    if extra:
        added = ", ".join(f"{catalog_names.quote_ident(f.name)} {f.dataType.simpleString()}" for f in extra)
        storage.raw_sql(session, f"ALTER TABLE {local} ADD COLUMNS ({added})").collect()
    from pyspark.sql import functions as F

    for field in missing:
        frame = frame.withColumn(field.name, F.lit(None).cast(field.dataType))
    aligned = frame.write.mode("append").options(**{k: v for k, v in (writer._write.options or {}).items()
                                                    if k.lower() != "mergeschema"})
    aligned.format(writer._write.source or catalog_names.LOCAL_FORMAT).saveAsTable(local)
    return True


def _overwrite_through_stage(writer: Any, session: Any, local: str, original: Any) -> None:
    """``saveAsTable(t, mode="overwrite")`` of rows read from ``t``: write a staging table, then swap it in."""
    info = storage.describe_table(session, local)
    if info is None:
        raise RuntimeError(f"table {local} vanished during the write")
    stage = storage.stage_table(info)
    writer.mode("error")
    with state.internal():
        try:
            original(writer, stage)
        finally:
            writer.mode("overwrite")
    storage.swap_in(session, info, stage)


def _wrap_insert_into(original: Any) -> Any:
    @functools.wraps(original)
    def insertInto(self: Any, tableName: str, overwrite: bool | None = None) -> None:  # noqa: N802,N803
        if overwrite is not None:
            self.mode("overwrite" if overwrite else "append")
        if state.is_internal():
            return original(self, tableName)
        session = self._spark
        local = catalog_names.rewrite_name(tableName)
        how = "Overwrite" if (self._write.mode or "").lower() == "overwrite" else "Append"
        if how == "Overwrite" and partitioning.insert_dynamic(self, session, local):
            return None
        try:
            original(self, tableName)
        except Exception as exc:
            if how != "Overwrite" or not storage.is_self_overwrite(exc):
                raise
            info = storage.describe_table(session, local)
            if info is None:
                raise
            storage.replace_contents(session, info, _frame(self))
        history.record(session, local, "WRITE", {"mode": how, "partitionBy": "[]"}, blind_append=how == "Append")

    return insertInto


def _wrap_save(original: Any) -> Any:
    @functools.wraps(original)
    def save(self: Any, path: str | None = None, format: str | None = None, mode: str | None = None,  # noqa: A002
             partitionBy: Any = None, **options: Any) -> None:  # noqa: N803
        self.mode(mode).options(**options)
        if partitionBy is not None:
            self.partitionBy(partitionBy)
        if format is not None:
            self.format(format)
        if state.is_internal() or path is None or not _is_delta(self._write.source):
            return original(self, path)
        session = self._spark
        local = str(client_patches.translated_path(path)).rstrip("/") or "/"
        info = storage.path_info(local, display=path)
        info.partition_columns = [str(c) for c in (self._write.partitioning_cols or [])]
        how = (self._write.mode or "errorifexists").lower()
        cond = replace_where.condition(self) if how == "overwrite" else None
        if cond is not None and info.log().latest() is not None:
            return replace_where.overwrite(self, session, info, cond)
        merged = path_append.check(self, session, info) if how == "append" else None
        try:
            original(self, path)
        except Exception as exc:
            if how != "overwrite" or not storage.is_self_overwrite(exc):
                raise
            storage.replace_path(session, info, _frame(self), partition_columns=info.partition_columns)
        mode = {"append": "Append", "overwrite": "Overwrite", "ignore": "Ignore"}.get(how, "ErrorIfExists")
        schema = (merged or storage.logged_schema(info)) if how == "append" else None
        history.record(session, info, "WRITE", {"mode": mode, "partitionBy": _partition_json(info.partition_columns)},
                       blind_append=how == "append", schema=schema or _frame(self).schema)

    return save


def _wrap_v2_create(original: Any) -> Any:
    @functools.wraps(original)
    def create(self: Any) -> None:
        if state.is_internal() or not _is_delta(self._write.provider):
            return original(self)
        partitions = partitioning.v2_columns(self)
        original(self)
        history.record(self._spark, catalog_names.rewrite_name(self._table_name), "CREATE TABLE AS SELECT",
                       {"isManaged": "true", "description": None, "partitionBy": _partition_json(partitions),
                        "properties": "{}"}, new_table=True, partition_columns=partitions)

    return create


def _wrap_v2_replace(original: Any) -> Any:
    @functools.wraps(original)
    def replace(self: Any) -> None:
        """``writeTo(t).createOrReplace()``: when ``t`` exists, stage then swap (the rows may come from ``t``)."""
        if state.is_internal() or not _is_delta(self._write.provider):
            return original(self)
        session = self._spark
        local = catalog_names.rewrite_name(self._table_name)
        partitions = partitioning.v2_columns(self)
        info = storage.describe_table(session, local)
        if info is None:
            original(self)
        else:
            stage = storage.stage_table(info)
            self._write.table_name = stage
            try:
                with state.internal():
                    type(self).create(self)
            finally:
                self._write.table_name = self._table_name
            storage.swap_in(session, info, stage)
        history.record(session, local, "CREATE OR REPLACE TABLE AS SELECT",
                       {"isManaged": "true", "description": None, "partitionBy": _partition_json(partitions),
                        "properties": "{}"}, new_table=storage.info_from_name(session, local).log().latest() is None,
                       partition_columns=partitions)

    return replace


def _time_travel(options: dict[str, Any]) -> tuple[Any, Any] | None:
    lowered = {str(k).lower(): v for k, v in (options or {}).items()}
    if str(lowered.get("readchangefeed", "")).lower() == "true":  # else Spark reads the table and ignores it
        raise errors.DeltaAnalysisException(
            "DELTA_CHANGE_DATA_FEED_NOT_EMULATED", "readChangeFeed: the change data feed runs only on Databricks; the "
            "local Delta stand-in keeps no change data. Compare two versions with time travel instead. See "
            "docs/emulation.md#databricks-only-sql.", sqlstate="0A000")
    version, timestamp = lowered.get("versionasof"), lowered.get("timestampasof")
    return None if version is None and timestamp is None else (version, timestamp)


def _wrap_reader_table(original: Any) -> Any:
    @functools.wraps(original)
    def table(self: Any, tableName: str) -> Any:  # noqa: N803
        travel = None if state.is_internal() else _time_travel(self._options)
        if travel is None:
            return original(self, tableName)
        info = storage.resolve(self._client, tableName)
        return history.version_frame(self._client, info, version=travel[0], timestamp=travel[1])

    return table


def _wrap_reader_load(original: Any) -> Any:
    @functools.wraps(original)
    def load(self: Any, path: Any = None, format: str | None = None, schema: Any = None,  # noqa: A002
             **options: Any) -> Any:
        if format is not None:
            self.format(format)
        self.options(**options)
        travel = None if state.is_internal() else _time_travel(self._options)
        named_delta = isinstance(self._format, str) and self._format.strip().lower() == "delta"
        if travel is None and named_delta and schema is None and self._schema is None and isinstance(path, str) \
                and not state.is_internal():
            local = str(client_patches.translated_path(path)).rstrip("/")
            schema = storage.logged_schema(storage.path_info(local, display=path))
        if travel is None or not isinstance(path, str) or not _is_delta(self._format):
            return original(self, path, schema=schema)
        info = storage.resolve(self._client, path, kind="path")
        return history.version_frame(self._client, info, version=travel[0], timestamp=travel[1])

    return load
