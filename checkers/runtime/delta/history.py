"""The log as Delta shows it: commits after each write, ``history()``, ``detail()`` and reading an old version."""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timezone
from typing import Any

from checkers.runtime import catalog_names
from checkers.runtime.delta import errors, state, storage
from checkers.runtime.delta.log import Commit, DeltaLog, data_files, local_folder, parse_timestamp
from checkers.runtime.delta.storage import TableInfo, refresh

HISTORY_SCHEMA = (
    "version BIGINT, timestamp TIMESTAMP, userId STRING, userName STRING, operation STRING, "
    "operationParameters MAP<STRING, STRING>, "
    "job STRUCT<jobId: STRING, jobName: STRING, jobRunId: STRING, runId: STRING, jobOwnerId: STRING, "
    "triggerType: STRING>, notebook STRUCT<notebookId: STRING>, clusterId STRING, readVersion BIGINT, "
    "isolationLevel STRING, isBlindAppend BOOLEAN, operationMetrics MAP<STRING, STRING>, userMetadata STRING, "
    "engineInfo STRING")
DETAIL_SCHEMA = (
    "format STRING, id STRING, name STRING, description STRING, location STRING, createdAt TIMESTAMP, "
    "lastModified TIMESTAMP, partitionColumns ARRAY<STRING>, clusteringColumns ARRAY<STRING>, numFiles BIGINT, "
    "sizeInBytes BIGINT, properties MAP<STRING, STRING>, minReaderVersion INT, minWriterVersion INT, "
    "tableFeatures ARRAY<STRING>")
ENGINE = "Day 07 kit (local Delta stand-in)"


def entries(info: TableInfo) -> list[dict[str, Any]]:
    """The table's commits, oldest first."""
    return info.log().entries()


def partition_columns(info: TableInfo) -> list[str]:
    """The table's partition columns: its folders' (a table written before they were kept in the log), else its
    log's (see :mod:`checkers.runtime.delta.partitioning`)."""
    if info.partition_columns:
        return list(info.partition_columns)
    last = info.log().latest()
    return list((last or {}).get("partitionColumns") or [])


def record(session: Any, target: TableInfo | str, operation: str, parameters: dict[str, Any],
           metrics: dict[str, Any] | None = None, *, blind_append: bool = False, new_table: bool = False,
           schema: Any = None, partition_columns: list[str] | None = None) -> None:
    """Log one successful write as a new version, and keep its files. Never raises: the write already happened.

    Cheap on purpose (every ``saveAsTable`` pays it): the table's schema and file list, no ``DESCRIBE``."""
    try:
        info = target if isinstance(target, TableInfo) else storage.info_from_name(session, target)
        log = info.log()
        frame = info.read(session)
        if schema is None:
            schema = frame.schema
        if partition_columns is None:
            last = log.latest()
            partition_columns = info.partition_columns or list((last or {}).get("partitionColumns") or [])
        base, files = _files(info, frame)
        found = dict(metrics or {})
        if files is not None and not metrics:
            found.update(_new_files(log, files))
        location = info.location if info.kind == "table" else info.path
        log.commit(Commit(operation=operation, parameters=parameters, metrics=found, schema=schema.json(),
                          partition_columns=tuple(partition_columns),
                          location=location or (f"file:{base}" if base else None), blind_append=blind_append,
                          new_table=new_table), snapshot_from=base, files=files)
    except Exception as exc:  # noqa: BLE001 - history is a convenience; losing it must not fail the notebook
        state.show_notice(state.NOTICES["log_failed"].format(why=f"{type(exc).__name__}: {exc}"))


def _files(info: TableInfo, frame: Any) -> tuple[Any, list[Any] | None]:
    """The table's folder and data files on this disk (None when Spark does not share it)."""
    if not state.STATE.local_disk:
        state.show_notice(state.NOTICES["no_disk"])
        return None, None
    files = [f for f in (local_folder(u) for u in frame.inputFiles()) if f is not None]
    base = info.local_folder()
    if base is None and files:
        base = files[0].parent
        for path in files[1:]:
            while not path.is_relative_to(base):
                base = base.parent
        while "=" in base.name:  # a partition folder (event_date=...): the table's folder is above it
            base = base.parent
    return base, files


def _new_files(log: DeltaLog, files: list[Any]) -> dict[str, int]:
    """``numFiles`` / ``numOutputBytes`` / ``numOutputRows`` of the files this write added (not in the previous kept
    version). The rows are read from the parquet footers: no Spark job."""
    last = log.latest()
    previous = log.version_folder(last["version"]) if last else None
    seen = {os.stat(p).st_ino for p in data_files(previous)} if previous is not None else set()
    added = [(p, s) for p, s in ((p, os.stat(p)) for p in files) if s.st_ino not in seen]
    found = {"numFiles": len(added), "numOutputBytes": sum(s.st_size for _, s in added)}
    try:
        import pyarrow.parquet as pq

        found["numOutputRows"] = sum(pq.read_metadata(p).num_rows for p, _ in added)
    except Exception:  # noqa: BLE001, S110 - a file that is not parquet: the count is left out, as it was
        pass
    return found


def _when(text: str | None) -> datetime | None:
    return datetime.fromtimestamp(parse_timestamp(text), tz=timezone.utc) if text else None


def history_frame(session: Any, info: TableInfo, limit: int | None = None) -> Any:
    """``DeltaTable.history()`` / ``DESCRIBE HISTORY``: newest first."""
    info = refresh(session, info)
    rows = []
    for entry in reversed(entries(info)):
        rows.append((entry["version"], _when(entry.get("timestamp")), None, entry.get("userName"),
                     entry.get("operation"), entry.get("operationParameters") or {}, None, None, None,
                     entry.get("readVersion"), "Serializable", bool(entry.get("isBlindAppend")),
                     entry.get("operationMetrics") or {}, None, ENGINE))
    if limit is not None:
        rows = rows[:max(0, int(limit))]
    return session.createDataFrame(rows, HISTORY_SCHEMA)


def detail_frame(session: Any, info: TableInfo) -> Any:
    """``DeltaTable.detail()`` / ``DESCRIBE DETAIL``: one row."""
    info = refresh(session, info)
    found = entries(info)
    folder = info.local_folder()
    if folder is not None and folder.is_dir():
        sizes = [p.stat().st_size for p in data_files(folder)]
        files, size = len(sizes), sum(sizes)
    else:
        files, size = _spark_file_stats(info.read(session))
    first = _when(found[0]["timestamp"]) if found else None
    last = _when(found[-1]["timestamp"]) if found else None
    ident = str(uuid.uuid5(uuid.NAMESPACE_URL, f"day07:{info.key}:{found[0]['timestamp'] if found else ''}"))
    name = info.display if info.kind == "table" else None
    location = info.location if info.kind == "table" else info.path
    row: tuple[object, ...] = ("delta", ident, name, None, location, first, last or first, partition_columns(info),
                               [], files, size, dict(info.properties), 1, 2, ["appendOnly", "invariants"])
    return session.createDataFrame([row], DETAIL_SCHEMA)


def _spark_file_stats(frame: Any) -> tuple[int, int]:
    from pyspark.sql import functions as F  # noqa: N812 - PySpark's convention

    files = frame.select(F.col("_metadata.file_path").alias("p"), F.col("_metadata.file_size").alias("s")) \
        .distinct().agg(F.count("p").alias("n"), F.coalesce(F.sum("s"), F.lit(0)).alias("b")).first()
    return int(files["n"]), int(files["b"])


# --- time travel ---------------------------------------------------------------------------------------------

def _parse_when(text: str) -> float:
    value = text.strip()
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            continue
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise errors.DeltaAnalysisException(
            "DELTA_TIMESTAMP_INVALID", f"The provided timestamp ({text}) cannot be converted to a valid timestamp.",
            sqlstate="42816") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def version_at(info: TableInfo, *, version: Any = None, timestamp: Any = None) -> int:
    """The version a ``versionAsOf`` / ``timestampAsOf`` names (the latest commit at or before the timestamp)."""
    found = entries(info)
    if timestamp is not None:
        moment = timestamp.timestamp() if isinstance(timestamp, datetime) else _parse_when(str(timestamp))
        if not found:
            raise errors.version_not_kept(0, [], info.display)
        times = [parse_timestamp(e["timestamp"]) for e in found]
        if moment < times[0]:
            raise errors.timestamp_out_of_range(str(timestamp), info.display, first=found[0]["timestamp"],
                                                last=found[-1]["timestamp"], after=False)
        if moment > times[-1] + 1e-3:
            raise errors.timestamp_out_of_range(str(timestamp), info.display, first=found[0]["timestamp"],
                                                last=found[-1]["timestamp"], after=True)
        return [e["version"] for e, t in zip(found, times, strict=True) if t <= moment + 1e-3][-1]
    try:
        return int(version)
    except (TypeError, ValueError):
        raise errors.DeltaAnalysisException(
            "DELTA_VERSION_INVALID", f"The provided version ({version}) is not a valid version.",
            sqlstate="42815") from None


def version_frame(session: Any, info: TableInfo, *, version: Any = None, timestamp: Any = None) -> Any:
    """The table as it was at a version: the current table for the latest one, else its kept files."""
    from pyspark.sql.types import StructType

    info = refresh(session, info)
    wanted = version_at(info, version=version, timestamp=timestamp)
    found = entries(info)
    log = info.log()
    latest = found[-1]["version"] if found else 0
    if wanted == latest:
        return info.read(session)
    entry = next((e for e in found if e["version"] == wanted), None)
    folder = log.version_folder(wanted) if entry is not None else None
    if entry is None or folder is None or not entry.get("schema"):
        kept = [e["version"] for e in found if log.version_folder(e["version"]) is not None]
        raise errors.version_not_kept(wanted, sorted({*kept, latest}) if found else [], info.display)
    schema = StructType.fromJson(json.loads(entry["schema"]))
    with state.internal():
        return session.read.schema(schema).format(catalog_names.LOCAL_FORMAT).load(str(folder))
