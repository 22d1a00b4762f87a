"""History for the SQL statements that write tables (``CREATE``, ``INSERT``, ``TRUNCATE``), and logs kept in step
with ``DROP`` and ``RENAME``; ``CREATE OR REPLACE ... AS SELECT`` and ``INSERT OVERWRITE`` may read their own table."""

from __future__ import annotations

import json
from typing import Any

from checkers.runtime import catalog_names, sql_tokens
from checkers.runtime.delta import copy_into, history, insert_cast, log, partitioning, replace_where, state, storage
from checkers.runtime.delta.statement import QUERY_WORDS, Statement, split, syntax_error


def create(session: Any, st: Statement, args: Any, inner: Any) -> Any:
    w = st.word
    replace = (w(1) == "OR" and w(2) == "REPLACE") or w(0) == "REPLACE"
    created = st.created_table()
    if created is None or w(1) in ("TEMPORARY", "TEMP") or "VIEW" in st.words[:created[0]]:
        return inner(st.text, args)
    _, k, guard = created
    name, after = st.name_at(k)
    as_query = next((i for i in st.top_level(after) if w(i) == "AS" and w(i + 1) in QUERY_WORDS), None)
    using = st.find(after, "USING", stop=as_query)
    stored = st.find(after, "STORED", stop=as_query)
    if stored is not None or (using is not None and w(using + 1) not in ("DELTA", catalog_names.LOCAL_FORMAT.upper())):
        return inner(st.text, args)
    kind, target = storage.split_identifier(name)
    partition_cols: list[str] = []
    if kind == "table":  # a Delta table keeps them in its metadata, not in folders
        st, partition_cols = partitioning.strip_clause(st, after, as_query)
        w = st.word
        as_query = next((i for i in st.top_level(after) if w(i) == "AS" and w(i + 1) in QUERY_WORDS), None)
    if kind == "table" and copy_into.is_placeholder_create(st, after, as_query):  # a schemaless table for COPY INTO
        st = Statement(copy_into.placeholder_sql(st, after))
    suffix = " AS SELECT" if as_query is not None else ""
    if kind == "path":
        return _create_path(session, st, name, target, after, as_query)
    info = storage.info_from_name(session, target)
    reads_itself = as_query is not None and any(t.value.lower() == info.table for t in st.sig[as_query:])
    if replace and reads_itself and storage.table_exists(session, target):  # it reads what it replaces: stage
        current = storage.describe_table(session, target)
        assert current is not None
        stage = storage.stage_table(current)
        result = inner(f"CREATE TABLE {stage} {st.slice(after)}", args)
        storage.swap_in(session, current, stage)
    else:
        existed = guard and storage.table_exists(session, target)
        result = inner(st.text, args)
        if existed:
            return result
    replaced = replace and info.log().latest() is not None  # Delta keeps a replaced table's history
    operation = ("CREATE OR REPLACE TABLE" if replace else "CREATE TABLE") + suffix
    history.record(session, info, operation, {"isManaged": "true", "description": None,
                                              "partitionBy": json.dumps(partition_cols), "properties": "{}"},
                   new_table=not replaced, partition_columns=partition_cols)
    return result


def _create_path(session: Any, st: Statement, name: str, path: str, after: int, as_query: int | None) -> Any:
    """``CREATE TABLE delta.`/path` (...)`` (the builder with only a location): an empty table's files there."""
    if as_query is not None:
        with state.internal():
            frame = session.sql(st.slice(as_query + 1))
    elif st.word(after) == "(":
        frame = session.createDataFrame([], st.slice(after + 1, st.closing(after)).replace(" NOT NULL", ""))
    else:
        raise syntax_error(st.text, "columns or AS SELECT")
    partitioned = st.find(after, "PARTITIONED")
    cols = []
    if partitioned is not None and st.word(partitioned + 2) == "(":
        cols = [st.slice(i, j).strip("`") for i, j in split(st, partitioned + 3, st.closing(partitioned + 2))]
    info = storage.path_info(path, display=name)
    info.partition_columns = cols
    with state.internal():
        writer = frame.write.format(catalog_names.LOCAL_FORMAT).mode("error")
        (writer.partitionBy(*cols) if cols else writer).save(path)
    history.record(session, info, "CREATE TABLE" + (" AS SELECT" if as_query is not None else ""),
                   {"isManaged": "false", "description": None, "partitionBy": "[]", "properties": "{}"},
                   new_table=True)
    return session.range(0).select()


def insert(session: Any, st: Statement, args: Any, inner: Any) -> Any:
    k = 3 if st.word(2) == "TABLE" else 2
    name, after = st.name_at(k)
    kind, target = storage.split_identifier(name)
    overwrite = st.word(1) == "OVERWRITE"
    if not overwrite and st.word(after) == "REPLACE" and st.word(after + 1) == "WHERE":
        return replace_where.insert(session, st, after, args)
    if kind == "table" and st.word(after) == "PARTITION":
        info = storage.describe_table(session, target)
        if info is not None and not info.partition_columns:  # partitioned in the log only (or not at all)
            return partitioning.insert(session, st, after, args, overwrite=overwrite, name=target)
    column_list = st.word(after) == "(" and st.word(after + 1) not in ("SELECT", "WITH")
    if kind == "table" and overwrite and st.word(after) in QUERY_WORDS and not column_list \
            and history.partition_columns(storage.info_from_name(session, target)) \
            and partitioning.dynamic_mode(session):
        return partitioning.insert(session, st, after, args, overwrite=True, name=target)
    try:
        result = inner(st.text, args)
    except Exception as exc:
        if kind == "table" and insert_cast.refused(exc):  # Delta casts a '2024-01-01' into a DATE column
            result = insert_cast.with_casts(session, st, args, inner, target, after)
            if result is None:
                raise
        elif not (overwrite and kind == "table" and storage.is_self_overwrite(exc)):
            raise
        else:
            result = _insert_through_stage(session, st, args, inner, target, after)
    mode = {"mode": "Overwrite" if overwrite else "Append", "partitionBy": "[]"}
    if kind == "path":
        history.record(session, storage.path_info(target, display=name), "WRITE", mode, blind_append=not overwrite)
    else:
        history.record(session, target, "WRITE", mode, blind_append=not overwrite)
    return result


def _insert_through_stage(session: Any, st: Statement, args: Any, inner: Any, target: str, k: int) -> Any:
    """``INSERT OVERWRITE t SELECT ... FROM t``: the query's rows go to a staging table first."""
    if st.word(k) == "PARTITION" and st.word(k + 1) == "(":
        k = st.closing(k + 1) + 1
    if st.word(k) == "(" and st.word(k + 1) not in ("SELECT", "WITH"):
        k = st.closing(k) + 1
    info = storage.describe_table(session, target)
    assert info is not None
    stage = storage.stage_table(info, "q")
    inner(f"CREATE TABLE {stage} AS {st.slice(k)}", args)
    try:
        result = inner(f"{st.slice(0, k)} SELECT * FROM {stage}")
    except BaseException as exc:
        exc.add_note(f"The new rows are kept in the table {stage}.")
        raise
    storage.raw_sql(session, f"DROP TABLE IF EXISTS {stage}")
    return result


def after_ddl(session: Any, st: Statement) -> None:
    """Keep the logs in step: ``DROP TABLE`` forgets one, ``DROP SCHEMA`` its tables', a rename moves one."""
    try:
        w = st.word
        if w(0) == "DROP" and w(1) in ("SCHEMA", "DATABASE", "NAMESPACE"):
            name, _ = st.name_at(4 if w(2) == "IF" else 2)
            schema = catalog_names.rewrite_name(name, kind="schema")
            parts = [t.value for t in sql_tokens.tokenize(schema) if t.kind != "op"]
            log.drop_schema_logs(f"{catalog_names.SESSION_CATALOG}.{parts[-1]}")
        elif w(0) == "DROP" and w(1) == "TABLE":
            name, _ = st.name_at(4 if w(2) == "IF" else 2)
            storage.info_from_name(session, name).log().drop()
        elif w(0) == "TRUNCATE":
            name, _ = st.name_at(2)
            history.record(session, catalog_names.rewrite_name(name), "TRUNCATE", {})
        elif w(0) == "ALTER":
            old, k = st.name_at(2)
            if w(k) == "RENAME" and w(k + 1) == "TO":
                new, _ = st.name_at(k + 2)
                storage.info_from_name(session, old).log().move_to(storage.info_from_name(session, new).log())
    except Exception:  # noqa: BLE001 - the statement itself succeeded; the log only falls behind
        pass
