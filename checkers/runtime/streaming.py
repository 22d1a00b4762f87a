"""Structured Streaming on local Spark: Delta sinks and sources, ``/Volumes`` locations, and Auto Loader.

Auto Loader (``format("cloudFiles")``) is not available locally: the stream becomes a plain file stream of
``cloudFiles.format``, with the schema inferred once from the files there now. Table names go through
:mod:`.readers_writers`' rewriting like any read.
"""

from __future__ import annotations

import functools
from typing import Any

from checkers.runtime.catalog_names import LOCAL_FORMAT, NotEmulatedError, rewrite_name
from checkers.runtime.client_patches import STATE, delta_notice, is_delta, patch, translated_path
from checkers.runtime.sql_inline import RESCUED_COLUMN


def install() -> None:
    """Patch the streaming reader and writer (once: :func:`~checkers.runtime.client_patches.patch` skips a second)."""
    from pyspark.sql.connect.streaming.readwriter import DataStreamReader, DataStreamWriter

    patch(DataStreamReader, "load", _wrap_stream_load)
    patch(DataStreamWriter, "toTable", _wrap_stream_to_table)
    patch(DataStreamWriter, "format", _wrap_stream_format)
    patch(DataStreamWriter, "_start_internal", _wrap_stream_start)
    from pyspark.sql.streaming.listener import StreamingQueryProgress

    patch(StreamingQueryProgress, "__getitem__", _wrap_progress_item)


_TOTALS = ("numInputRows", "inputRowsPerSecond", "processedRowsPerSecond")
"""Progress totals that a newer Spark server leaves out of the JSON (Runtime 17's Spark 4.0 writes them)."""


def _wrap_progress_item(original: Any) -> Any:
    @functools.wraps(original)
    def getitem(self: Any, key: str) -> Any:
        """``q.lastProgress["numInputRows"]``: the sum over the sources when the server's JSON has no total (the
        attribute ``q.lastProgress.numInputRows`` already sums them)."""
        value = original(self, key)
        if value is None and key in _TOTALS:
            return sum(getattr(source, key) or 0 for source in self.sources or [])
        return value

    return getitem


AUTO_LOADER_NOTICE = ("Auto Loader (cloudFiles) is not available locally: the kit reads the folder as a plain "
                      "file stream of cloudFiles.format, with the schema inferred from the files there now. "
                      "See docs/emulation.md#auto-loader.")


def _auto_loader(source: Any, session: Any) -> str | None:
    """``format("cloudFiles")`` → a file stream of ``cloudFiles.format``, schema inferred once from the files there
    (Auto Loader's default: every column a string unless ``cloudFiles.inferColumnTypes`` is true).

    Returns the rescued-data column Auto Loader would add: ``_rescued_data`` when it infers the schema, the
    ``rescuedDataColumn`` option's name when given; None for a given schema without that option."""
    options = dict(source._options or {})
    rescued = next((str(v) for k, v in options.items() if k.lower() in ("rescueddatacolumn",
                                                                         "cloudfiles.rescueddatacolumn")), None)
    if rescued is None and not source._schema:
        rescued = RESCUED_COLUMN
    fmt = next((v for k, v in options.items() if k.lower() == "cloudfiles.format"), None)
    if not fmt:
        raise NotEmulatedError("Auto Loader needs the files' format: .option(\"cloudFiles.format\", \"csv\").",
                               hint="Add the cloudFiles.format option, as Databricks also requires.")
    infer = next((v for k, v in options.items() if k.lower() == "cloudfiles.infercolumntypes"), "false")
    hints = next((str(v) for k, v in options.items() if k.lower() == "cloudfiles.schemahints" and v), None)
    kept = {k: v for k, v in options.items()
            if not k.lower().startswith("cloudfiles.") and k.lower() != "rescueddatacolumn"}
    if str(infer).lower() == "true":
        kept.setdefault("inferSchema", "true")
    source._format, source._options = fmt, kept
    if not source._schema and source._paths:
        inferred = session.read.format(fmt).options(**kept).load(source._paths).schema
        source._schema = (with_hints(inferred, hints, session) if hints else inferred).json()
    if STATE.notice is not None:
        STATE.notice(AUTO_LOADER_NOTICE)
    return rescued or None


def with_hints(schema: Any, hints: str, session: Any) -> Any:
    """``cloudFiles.schemaHints`` (``"product_id BIGINT, price DECIMAL(10,2)"``): those columns get those types; a
    hinted column the files do not have is added, as Auto Loader does."""
    from pyspark.sql.types import StructField, StructType

    hinted = {f.name.lower(): f for f in session.createDataFrame([], hints).schema.fields}
    fields = [StructField(f.name, hinted.pop(f.name.lower()).dataType, True) if f.name.lower() in hinted else f
              for f in schema.fields]
    return StructType(fields + list(hinted.values()))


def _wrap_stream_load(original: Any) -> Any:
    @functools.wraps(original)
    def load(self: Any, *args: Any, **kwargs: Any) -> Any:
        path = kwargs.get("path") or (args[0] if args else None)
        fmt = kwargs.get("format") or (args[1] if len(args) > 1 else None) or self._format
        if is_delta(fmt) and isinstance(path, str) and not self._schema and not kwargs.get("schema"):
            self.schema(self._client.read.format("delta").load(path).schema)  # a Delta stream knows its schema
        frame = original(self, *args, **kwargs)
        source = frame._plan
        if isinstance(source._format, str) and source._format.strip().lower() == "cloudfiles":
            rescued = _auto_loader(source, self._client)
            if rescued is not None:  # always null here: the kit's reader rescues nothing
                from pyspark.sql import functions as F

                frame = frame.withColumn(rescued, F.lit(None).cast("string"))
        return frame

    return load


def _wrap_stream_format(original: Any) -> Any:
    @functools.wraps(original)
    def format(self: Any, source: str) -> Any:  # noqa: A001 - PySpark's name
        if is_delta(source):
            delta_notice()
            self._day07_delta = True
            return original(self, LOCAL_FORMAT)
        return original(self, source)

    return format


def _wrap_stream_start(original: Any) -> Any:
    @functools.wraps(original)
    def start(self: Any, path: str | None = None, tableName: str | None = None,  # noqa: N803 - PySpark's name
              format: str | None = None, outputMode: str | None = None,  # noqa: A002, N803 - PySpark's names
              partitionBy: Any = None, queryName: str | None = None, **options: Any) -> Any:  # noqa: N803
        """A stream's sink path and checkpoint in ``/Volumes`` or ``dbfs:/`` land in the kit home, like a batch
        write's; before, Spark took ``/Volumes/...`` as a folder at the root of this machine."""
        self.options(**options)
        for key in list(self._write_proto.options):
            if key.lower() in ("path", "checkpointlocation"):
                self._write_proto.options[key] = translated_path(self._write_proto.options[key])
        if is_delta(format):
            format = LOCAL_FORMAT  # noqa: A001 - PySpark's name
            delta_notice()
            self._day07_delta = True
        local = translated_path(path) if path else path
        query = original(self, path=local, tableName=tableName, format=format, outputMode=outputMode,
                         partitionBy=partitionBy, queryName=queryName)
        if (tableName and self._write_proto.format in ("", LOCAL_FORMAT)) or (
                local and getattr(self, "_day07_delta", False)):  # a Delta sink: its batches go in its history
            from checkers.runtime.delta import stream_history

            stream_history.track(query, session=self._session, table=tableName, path=None if tableName else local,
                                 mode=outputMode or self._write_proto.output_mode)
        return query

    return start


def _complete_into_delta(writer: Any, name: str, query_name: str | None) -> Any:
    """``outputMode("complete")`` into a Delta table: each batch replaces the table's rows, as Delta's sink does
    (Spark's parquet sink takes only appends)."""
    def replace_rows(batch: Any, _batch_id: int) -> None:
        batch.write.format("delta").mode("overwrite").option("overwriteSchema", "true").saveAsTable(name)

    writer._write_proto.format = ""
    if query_name:
        writer.queryName(query_name)
    return writer.foreachBatch(replace_rows).start()


def _wrap_stream_to_table(original: Any) -> Any:
    @functools.wraps(original)
    def to_table(self: Any, tableName: str, *args: Any, **kwargs: Any) -> Any:  # noqa: N803 - PySpark's name
        mode = kwargs.get("outputMode") or (args[1] if len(args) > 1 else None) or self._write_proto.output_mode
        sink = kwargs.get("format") or (args[0] if args else None) or self._write_proto.format or None
        if str(mode or "").lower() == "complete" and str(sink or "delta").lower() in ("delta", LOCAL_FORMAT):
            return _complete_into_delta(self, rewrite_name(tableName), kwargs.get("queryName"))
        return original(self, rewrite_name(tableName), *args, **kwargs)  # a Delta format: see _wrap_stream_start

    return to_table
