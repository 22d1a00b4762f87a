"""``COPY INTO``: Databricks' idempotent file load into a Delta table, on the stand-in.

A classic bronze step: ``CREATE TABLE IF NOT EXISTS t`` (a schemaless placeholder), then
``COPY INTO t FROM '/Volumes/...' FILEFORMAT = CSV FORMAT_OPTIONS (...) COPY_OPTIONS ('mergeSchema' = 'true')``.
As on Databricks: a file already loaded into the table is skipped (unless ``'force' = 'true'``), source columns
go to the target's by name (``BY POSITION`` or a column list: by position) and are cast to its types, and new
columns need ``mergeSchema``. Which files were loaded is kept in the table's history (``COPY INTO`` entries since
the table was last created or overwritten), where Databricks keeps a copy-into log next to the table.
"""

from __future__ import annotations

import json
from typing import Any

from checkers.runtime import catalog_names, client_patches
from checkers.runtime.delta import errors, history, state, storage
from checkers.runtime.delta.statement import Statement, split, syntax_error

PLACEHOLDER = "__day07_no_columns"
"""The one column of a schemaless placeholder table (Spark's tables need a column); ``COPY INTO`` replaces it."""
RESULT_SCHEMA = "num_affected_rows BIGINT, num_inserted_rows BIGINT, num_skipped_corrupt_files BIGINT"
FORMATS = {"CSV": "csv", "JSON": "json", "PARQUET": "parquet", "ORC": "orc", "AVRO": "avro", "TEXT": "text",
           "BINARYFILE": "binaryFile", "XML": "xml"}
_RESETS = ("CREATE", "REPLACE", "RESTORE")
"""History operations after which a table holds none of the files loaded before (a new or replaced table)."""


def placeholder_sql(st: Statement, after: int) -> str:
    """``CREATE TABLE [IF NOT EXISTS] t [USING DELTA] [COMMENT ...]`` with no columns: the placeholder's DDL."""
    return f"{st.slice(0, after)} ({catalog_names.quote_ident(PLACEHOLDER)} STRING) {st.slice(after)}".strip()


def is_placeholder_create(st: Statement, after: int, as_query: int | None) -> bool:
    """A ``CREATE TABLE`` with neither columns nor a query, nor anything that supplies them (LIKE, CLONE, LOCATION)."""
    if as_query is not None or st.word(after) == "(":
        return False
    return not {"LIKE", "CLONE", "LOCATION", "AS", "OPTIONS"} & set(st.words[after:])


def copy_into(session: Any, st: Statement) -> Any:
    name, k = st.name_at(2)
    info = storage.resolve_in_statement(session, name)
    names: list[str] | None = None
    by_position = False
    if st.word(k) == "BY" and st.word(k + 1) == "POSITION":
        by_position, k = True, k + 2
    elif st.word(k) == "(":
        close = st.closing(k)
        names, k = [st.slice(a, b).strip("`") for a, b in split(st, k + 1, close)], close + 1
    if st.word(k) != "FROM":
        raise syntax_error(st.text, "FROM after the target table")
    source, expressions, k = _source(st, k + 1)
    clauses = _clauses(st, k)
    fmt = FORMATS.get(str(clauses.get("FILEFORMAT", "")).upper())
    if fmt is None:
        raise syntax_error(st.text, f"FILEFORMAT = one of {', '.join(FORMATS)}")
    if "VALIDATE" in clauses:
        raise errors.not_emulated("COPY INTO ... VALIDATE", anchor="copy-into",
                                  hint="Run it without VALIDATE, or read the files with spark.read first.")
    options = {str(key): value for key, value in clauses.get("FORMAT_OPTIONS", {}).items()}
    copy_options = {str(key).lower(): str(value).lower() for key, value in clauses.get("COPY_OPTIONS", {}).items()}
    paths = _paths(source, clauses)

    def reader(files: list[str]) -> Any:
        read = session.read.format(fmt)
        for key, value in options.items():
            if key.lower() != "mergeschema":
                read = read.option(key, value)
        return read.load(files if len(files) > 1 else files[0])

    with state.internal():
        found = list(dict.fromkeys(reader(paths).inputFiles()))
    loaded = set() if copy_options.get("force") == "true" else loaded_files(info)
    new = [f for f in found if f not in loaded]
    if not new:
        return session.createDataFrame([(0, 0, 0)], RESULT_SCHEMA)
    with state.internal():
        frame = reader(new)
        if expressions is not None:
            frame = frame.selectExpr(*expressions)
        count = _write(session, info, frame, names=names, by_position=by_position,
                       merge=copy_options.get("mergeschema") == "true")
    history.record(session, storage.refresh(session, info), "COPY INTO",
                   {"source": source, "files": json.dumps(new)}, blind_append=True)
    return session.createDataFrame([(count, count, 0)], RESULT_SCHEMA)


def loaded_files(info: Any) -> set[str]:
    """Files ``COPY INTO`` loaded into the table since it was last created, replaced or overwritten."""
    files: set[str] = set()
    for entry in info.log().entries():
        operation = str(entry.get("operation") or "")
        parameters = entry.get("operationParameters") or {}
        if operation.startswith(_RESETS) or (operation == "WRITE" and parameters.get("mode") == "Overwrite"):
            files.clear()
        elif operation == "COPY INTO":
            try:
                files.update(json.loads(parameters.get("files") or "[]"))
            except ValueError:
                continue
    return files


def _source(st: Statement, k: int) -> tuple[str, list[str] | None, int]:
    """The source location, the SELECT's expressions (None for all columns) and the index after the source."""
    if st.word(k) == "(":
        close = st.closing(k)
        if st.word(k + 1) != "SELECT":
            raise syntax_error(st.text, "(SELECT ... FROM '<location>') as the source")
        at = st.find(k + 2, "FROM", stop=close)
        if at is None or at + 1 >= close or st.sig[at + 1].kind != "string":
            raise syntax_error(st.text, "FROM '<location>' inside the source's SELECT")
        expressions = [st.slice(a, b) for a, b in split(st, k + 2, at)]
        return st.sig[at + 1].value, (None if expressions == ["*"] else expressions), close + 1
    if k >= len(st.sig) or st.sig[k].kind != "string":
        raise syntax_error(st.text, "the source location as a string after FROM")
    location, k = st.sig[k].value, k + 1
    if st.word(k) == "WITH" and st.word(k + 1) == "(":  # credentials and encryption: nothing to do locally
        k = st.closing(k + 1) + 1
    return location, None, k


def _clauses(st: Statement, k: int) -> dict[str, Any]:
    """``FILEFORMAT = x``, ``FILES = (...)``, ``PATTERN = '...'``, ``FORMAT_OPTIONS (...)``, ``COPY_OPTIONS (...)``."""
    found: dict[str, Any] = {}
    while k < len(st.sig):
        word = st.word(k)
        if word in ("FILEFORMAT", "PATTERN") and st.word(k + 1) == "=":
            found[word] = st.sig[k + 2].value if k + 2 < len(st.sig) else ""
            k += 3
        elif word == "FILES" and st.word(k + 1) == "=" and st.word(k + 2) == "(":
            close = st.closing(k + 2)
            found[word] = [st.sig[a].value for a, _ in split(st, k + 3, close)]
            k = close + 1
        elif word in ("FORMAT_OPTIONS", "COPY_OPTIONS") and st.word(k + 1) == "(":
            close = st.closing(k + 1)
            pairs = {}
            for a, b in split(st, k + 2, close):
                if b - a < 3 or st.word(a + 1) != "=":
                    raise syntax_error(st.text, f"'option' = 'value' in {word}")
                pairs[st.sig[a].value] = st.sig[a + 2].value
            found[word] = pairs
            k = close + 1
        elif word == "VALIDATE":
            found[word] = True
            k += 1
        else:
            k += 1
    return found


def _paths(source: str, clauses: dict[str, Any]) -> list[str]:
    """The paths to read: the location itself, its ``FILES``, or its files that match ``PATTERN`` (a glob)."""
    base = client_patches.translated_path(source)
    if "FILES" in clauses:
        return [f"{base.rstrip('/')}/{name}" for name in clauses["FILES"]]
    if "PATTERN" in clauses:
        return [f"{base.rstrip('/')}/{clauses['PATTERN']}"]
    return [base]


def _write(session: Any, info: Any, frame: Any, *, names: list[str] | None, by_position: bool,
           merge: bool) -> int:
    """Append ``frame`` to the table, its columns matched and cast as ``COPY INTO`` does; the rows added."""
    from pyspark.sql import functions as F  # noqa: N812 - PySpark's convention

    current = info.read(session)
    fields = [f for f in current.schema.fields if f.name != PLACEHOLDER]
    before = current.count() if fields else 0
    columns = list(frame.columns)
    if by_position or names:
        wanted = names or [f.name for f in fields]
        if len(wanted) != len(columns):
            raise errors.DeltaAnalysisException(
                "COPY_INTO_COLUMN_ARITY_MISMATCH", f"Cannot write to {info.display}: the source has "
                f"{len(columns)} columns and the target {len(wanted)}.", sqlstate="21S01")
        frame = frame.toDF(*wanted)
        columns = wanted
    if not fields:  # the placeholder: the files' columns become the table's
        _replace(session, info, frame)
        return int(info.read(session).count())
    by_name = {c.lower(): c for c in columns}
    extra = [c for c in columns if c.lower() not in {f.name.lower() for f in fields}]
    if extra and not merge:
        raise errors.DeltaAnalysisException(
            "DELTA_METADATA_MISMATCH", f"A schema mismatch detected when writing to the Delta table "
            f"{info.display}: the files have columns the table does not ({', '.join(extra)}). To enable schema "
            "migration, set COPY_OPTIONS ('mergeSchema' = 'true').", sqlstate="42KDG")
    selected = [(F.col(f"`{by_name[f.name.lower()]}`") if f.name.lower() in by_name else F.lit(None))
                .cast(f.dataType).alias(f.name) for f in fields]
    out = frame.select(*selected, *(F.col(f"`{c}`") for c in extra))
    if extra:
        _replace(session, info, current.unionByName(out, allowMissingColumns=True))
    elif info.kind == "table":
        out.write.insertInto(info.spark_name)
    else:
        out.write.format(catalog_names.LOCAL_FORMAT).mode("append").save(info.path)
    return info.read(session).count() - before


def _replace(session: Any, info: Any, frame: Any) -> None:
    """The table's rows and columns become ``frame``'s (staged first: ``frame`` may read the table)."""
    if info.kind != "table":
        storage.replace_path(session, info, frame, partition_columns=info.partition_columns)
        return
    stage = storage.stage_table(info)
    frame.write.format(catalog_names.LOCAL_FORMAT).saveAsTable(stage)
    storage.swap_in(session, storage.refresh(session, info), stage)
