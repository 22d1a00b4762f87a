"""Delta's SQL on the stand-in: ``MERGE INTO``, ``UPDATE``, ``DELETE``, ``DESCRIBE HISTORY|DETAIL``, ``OPTIMIZE``,
``VACUUM``, ``RESTORE`` and ``VERSION|TIMESTAMP AS OF``; and a history entry for every ``CREATE``/``INSERT``.

Statements are read with the quote-aware tokenizer (:mod:`checkers.runtime.sql_tokens`); conditions and
expressions are handed to Spark as written (``F.expr``), so only the statement's frame is parsed here. Everything
else goes on to the name rewriting (:mod:`checkers.runtime.readers_writers`).
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from checkers.runtime import client_patches, sql_tokens
from checkers.runtime.catalog_names import quote_ident
from checkers.runtime.delta import copy_into, ddl, errors, history, partitioning, state, storage
from checkers.runtime.delta.merge import Clause, run_merge
from checkers.runtime.delta.statement import (
    Statement,
    assignments,
    inline_parameters,
    literal,
    split,
    syntax_error,
)
from checkers.runtime.delta.tables import DeltaTable, delete_rows, optimize_result, restore, update_rows

_TRAVEL = {"VERSION", "TIMESTAMP", "SYSTEM_VERSION", "SYSTEM_TIME"}
_AFFECTED = "num_affected_rows BIGINT"


def wrap_sql(original: Any) -> Any:
    @functools.wraps(original)
    def sql(self: Any, sqlQuery: str, args: Any = None, **kwargs: Any) -> Any:  # noqa: N803 - PySpark's name
        if state.is_internal() or not isinstance(sqlQuery, str) or kwargs:
            return original(self, sqlQuery, args, **kwargs)
        text = client_patches.inlined(self, sqlQuery, args)
        return run_statement(self, text, args, functools.partial(original, self))

    return sql


def run_statement(session: Any, text: str, args: Any, inner: Any) -> Any:
    """Run one statement: the Delta ones here, the rest through ``inner`` (the name rewriting's ``spark.sql``)."""
    st = Statement(text)
    w = st.word
    if not st.words:
        return inner(text, args)
    if w(0) == "RESTORE":
        return _restore(session, Statement(inline_parameters(text, args)))
    if "@" in text:
        at_syntax = _at_version(text)
        if at_syntax != text:
            return run_statement(session, at_syntax, args, inner)
    if any(word in _TRAVEL for word in st.words) and "OF" in st.words:
        rewritten = _time_travel(session, st)
        if rewritten != text:
            return run_statement(session, rewritten, args, inner)
    handlers = {"MERGE": _merge, "UPDATE": _update, "OPTIMIZE": _optimize, "VACUUM": _vacuum}
    if w(0) in handlers and (w(0) != "MERGE" or w(1) == "INTO"):
        return handlers[w(0)](session, Statement(inline_parameters(text, args)))
    if w(0) == "DELETE" and w(1) == "FROM":
        return _delete(session, Statement(inline_parameters(text, args)))
    if w(0) in ("DESCRIBE", "DESC") and w(1) in ("HISTORY", "DETAIL"):
        return _describe(session, Statement(inline_parameters(text, args)))
    if w(0) == "COPY" and w(1) == "INTO":
        return copy_into.copy_into(session, Statement(inline_parameters(text, args)))
    if (w(0) == "CREATE" or (w(0) == "REPLACE" and w(1) == "TABLE")) and _clone_at(st) is not None:
        return run_statement(session, _clone_as_copy(st), args, inner)
    if w(0) == "CREATE" or (w(0) == "REPLACE" and w(1) == "TABLE"):
        return ddl.create(session, st, args, inner)
    if w(0) == "INSERT" and w(1) in ("INTO", "OVERWRITE"):
        return ddl.insert(session, st, args, inner)
    if w(0) == "SHOW" and w(1) == "PARTITIONS":
        return partitioning.show(session, st, inner)
    if w(0) == "ALTER" and w(1) == "TABLE" and "CONSTRAINT" in st.words:
        return _constraint(session, Statement(inline_parameters(text, args)))
    if w(0) == "ALTER" and w(1) == "TABLE" and st.words[-3:-2] in (["SET"], ["DROP"]) \
            and st.words[-2:] == ["NOT", "NULL"]:
        return _not_null(session, Statement(inline_parameters(text, args)))
    result = inner(text, args)
    if w(0) == "DROP" or (w(0) == "TRUNCATE" and w(1) == "TABLE") or (w(0) == "ALTER" and w(1) == "TABLE"):
        ddl.after_ddl(session, st)
    return result


def _table(session: Any, st: Statement, k: int, *, stop: set[str] | None = None) -> tuple[DeltaTable, int]:
    """The Delta table named at ``k`` (with its alias, or its own last name part as alias); the end index."""
    name, k = st.name_at(k)
    alias, k = st.alias_at(k)
    info = storage.resolve_in_statement(session, name)
    if alias is None and info.kind == "table":
        alias = info.table
    return DeltaTable(session, info, alias), k


def _merge(session: Any, st: Statement) -> Any:
    table, k = _table(session, st, 2)
    if st.word(k) != "USING":
        raise syntax_error(st.text, "USING after the target table")
    if st.word(k + 1) == "(":
        close = st.closing(k + 1)
        source_sql, k = f"SELECT * FROM ({st.slice(k + 2, close)}) AS __day07_source", close + 1
        default_alias = "__day07_source"
    else:
        name, k = st.name_at(k + 1)
        source_sql, default_alias = f"SELECT * FROM {name}", st.sig[k - 1].value
    alias, k = st.alias_at(k)
    if alias is not None and st.word(k) == "(":  # `AS s(sku, price)`: the alias names the source's columns too
        close = st.closing(k)
        source_sql, k = f"SELECT * FROM ({source_sql}) AS __day07_named({st.slice(k + 1, close)})", close + 1
    if st.word(k) != "ON":
        raise syntax_error(st.text, "ON after the source")
    with state.internal():
        source = session.sql(source_sql)
    source = source.alias(alias or default_alias)
    whens = [i for i in st.top_level(k) if st.words[i] == "WHEN"]
    if not whens:
        raise errors.no_when_clause()
    clauses = [_clause(st, a, b) for a, b in zip(whens, [*whens[1:], None], strict=True)]
    return run_merge(table, source, st.slice(k + 1, whens[0]), clauses)


def _clause(st: Statement, a: int, b: int | None) -> Clause:
    k = a + 1
    kind = "matched"
    if st.word(k) == "NOT":
        kind, k = "not_matched", k + 1
    k += 1  # MATCHED
    if st.word(k) == "BY":
        kind = "not_matched_by_source" if st.word(k + 1) == "SOURCE" else "not_matched"
        k += 2
    then = st.find(k, "THEN", stop=b)
    if then is None:
        raise syntax_error(st.text, "THEN in a WHEN clause")
    condition = st.slice(k + 1, then) if st.word(k) == "AND" else None
    k = then + 1
    verb = st.word(k)
    if verb == "DELETE":
        return Clause(kind, "delete", condition)
    if verb == "UPDATE" and st.word(k + 1) == "SET":
        if st.word(k + 2) == "*":
            return Clause(kind, "update_all", condition)
        return Clause(kind, "update", condition, tuple(assignments(st, k + 2, b)))
    if verb == "INSERT":
        if st.word(k + 1) == "*":
            return Clause(kind, "insert_all", condition)
        if st.word(k + 1) == "(":
            close = st.closing(k + 1)
            cols = [st.slice(i, j) for i, j in split(st, k + 2, close)]
            if st.word(close + 1) != "VALUES" or st.word(close + 2) != "(":
                raise syntax_error(st.text, "VALUES (...) after INSERT (...)")
            end = st.closing(close + 2)
            values = [st.slice(i, j) for i, j in split(st, close + 3, end)]
            if len(cols) != len(values):
                raise syntax_error(st.text, f"{len(cols)} values for {len(cols)} columns")
            return Clause(kind, "insert", condition, tuple(zip(cols, values, strict=True)))
    raise syntax_error(st.text, "UPDATE SET, DELETE or INSERT after THEN")


def _update(session: Any, st: Statement) -> Any:
    table, k = _table(session, st, 1)
    if st.word(k) != "SET":
        raise syntax_error(st.text, "SET after the table name")
    where = st.find(k + 1, "WHERE")
    condition = st.slice(where + 1) if where is not None else None
    count = update_rows(table, condition, dict(assignments(st, k + 1, where)))
    return session.createDataFrame([(count,)], _AFFECTED)


def _delete(session: Any, st: Statement) -> Any:
    table, k = _table(session, st, 2)
    condition = st.slice(k + 1) if st.word(k) == "WHERE" else None
    count = delete_rows(table, condition)
    return session.createDataFrame([(count,)], _AFFECTED)


def _describe(session: Any, st: Statement) -> Any:
    table, k = _table(session, st, 2)
    if st.word(1) == "DETAIL":
        return table.detail()
    limit = int(st.sig[k + 1].text) if st.word(k) == "LIMIT" and k + 1 < len(st.sig) else None
    return table.history(limit)


def _constraint(session: Any, st: Statement) -> Any:
    """``ALTER TABLE t ADD CONSTRAINT c CHECK (condition)`` and ``... DROP CONSTRAINT [IF EXISTS] c``.

    As Delta does: adding checks every row first (a false or null condition is a violation) and keeps the condition
    as the table property ``delta.constraints.<c>``; both are history entries. Later writes are not checked."""
    name, k = st.name_at(2)  # no alias here: ADD / DROP follows the name
    info = storage.resolve_in_statement(session, name)
    table = DeltaTable(session, info, None)
    current = {key.lower(): value for key, value in _properties(session, info).items()}
    if st.word(k) == "ADD" and st.word(k + 1) == "CONSTRAINT" and st.word(k + 3) == "CHECK" and st.word(k + 4) == "(":
        name = st.sig[k + 2].value.lower()
        condition = st.slice(k + 5, st.closing(k + 4))
        if f"delta.constraints.{name}" in current:
            raise errors.DeltaAnalysisException(
                "DELTA_CONSTRAINT_ALREADY_EXISTS", f"Constraint '{name}' already exists. Please delete the old "
                f"constraint first. Old constraint: {current[f'delta.constraints.{name}']}", sqlstate="42710",
                parameters={"constraintName": name})
        with state.internal():
            bad = table.toDF().where(f"NOT ({condition}) OR ({condition}) IS NULL").count()
        if bad:
            raise errors.DeltaAnalysisException(
                "DELTA_NEW_CHECK_CONSTRAINT_VIOLATION", f"{bad} rows in {info.display} violate the new CHECK "
                f"constraint ({condition})", sqlstate="23512", parameters={"numRows": str(bad)})
        _set_property(session, info, f"delta.constraints.{name}", condition)
        history.record(session, info, "ADD CONSTRAINT", {"name": name, "expr": condition})
    elif st.word(k) == "DROP" and st.word(k + 1) == "CONSTRAINT":
        guard = st.word(k + 2) == "IF" and st.word(k + 3) == "EXISTS"
        name = st.sig[k + (4 if guard else 2)].value.lower() if len(st.sig) > k + (4 if guard else 2) else ""
        if not name:
            raise syntax_error(st.text, "the constraint's name")
        key = f"delta.constraints.{name}"
        if key not in current and not guard:
            raise errors.DeltaAnalysisException(
                "DELTA_CONSTRAINT_DOES_NOT_EXIST", f"Cannot drop nonexistent constraint {name} from table "
                f"{info.display}. To avoid throwing an error, provide the parameter IF EXISTS.",
                sqlstate="42704", parameters={"constraintName": name, "tableName": info.display})
        if key in current:
            _set_property(session, info, key, None)
            history.record(session, info, "DROP CONSTRAINT", {"name": name, "expr": current[key]})
    elif not (st.word(k) == "ADD" and st.word(k + 1) == "CONSTRAINT" and st.word(k + 3) in ("PRIMARY", "FOREIGN")):
        raise errors.not_emulated("This constraint clause", anchor="delta-lake",
                                  hint="Locally: ADD CONSTRAINT <name> CHECK (<condition>) and DROP CONSTRAINT.")
    # A PRIMARY KEY or FOREIGN KEY constraint is informational on Databricks too: nothing to check or keep.
    from pyspark.sql.types import StructType

    return session.createDataFrame([], StructType([]))  # what a DDL statement returns: no columns, no rows


def _not_null(session: Any, st: Statement) -> Any:
    """``ALTER TABLE t {ALTER|CHANGE} [COLUMN] c {SET|DROP} NOT NULL``: setting checks that no row has a null there.

    As with CHECK constraints, later writes are not checked; the change is a ``CHANGE COLUMN`` history entry."""
    import json

    from pyspark.sql.types import StructType

    name, k = st.name_at(2)
    info = storage.resolve_in_statement(session, name)
    k += 2 if st.word(k + 1) == "COLUMN" else 1
    column, k = st.name_at(k)
    column = column.strip("`")
    if st.word(k) not in ("SET", "DROP"):
        raise syntax_error(st.text, "SET NOT NULL or DROP NOT NULL after the column")
    frame = info.read(session)
    if column.lower() not in {c.lower() for c in frame.columns}:
        raise errors.DeltaAnalysisException(
            "DELTA_COLUMN_NOT_FOUND_IN_SCHEMA", f"Unable to find the column `{column}` of the table "
            f"{info.display}.", sqlstate="42703", parameters={"columnName": column, "tableName": info.display})
    if st.word(k) == "SET":
        with state.internal():
            nulls = frame.where(f"{quote_ident(column)} IS NULL").count()
        if nulls:
            raise errors.DeltaAnalysisException(
                "DELTA_NOT_NULL_CONSTRAINT_VIOLATED", f"NOT NULL constraint violated for column: {column}.",
                sqlstate="23502", parameters={"columnName": column})
    history.record(session, info, "CHANGE COLUMN",
                   {"column": json.dumps({"name": column, "nullable": st.word(k) == "DROP"})})
    return session.createDataFrame([], StructType([]))


def _clone_at(st: Statement) -> int | None:
    """Where ``[SHALLOW|DEEP] CLONE`` follows the new table's name, if it does (a table may be named ``clone``)."""
    created = st.created_table()
    if created is None or "CLONE" not in st.words:
        return None
    _, after = st.name_at(created[1])
    if st.word(after) in ("SHALLOW", "DEEP"):
        after += 1
    return after if st.word(after) == "CLONE" else None


def _clone_as_copy(st: Statement) -> str:
    """``CREATE [OR REPLACE] TABLE t [SHALLOW|DEEP] CLONE s [VERSION AS OF n]`` as a copy of ``s``'s rows.

    A shallow clone on Databricks references the source's files; a copy reads the same."""
    clone = _clone_at(st)
    assert clone is not None
    start = clone - 1 if st.word(clone - 1) in ("SHALLOW", "DEEP") else clone
    source, k = st.name_at(clone + 1)
    travel = st.slice(k, k + 4) if st.word(k) in _TRAVEL and st.word(k + 1) == "AS" else ""
    return f"{st.slice(0, start)} AS SELECT * FROM {source} {travel}".strip()


def _properties(session: Any, info: Any) -> dict[str, str]:
    if info.kind != "table":
        return dict(info.properties)
    with state.internal():
        return {row[0]: row[1] for row in session.sql(f"SHOW TBLPROPERTIES {info.spark_name}").collect()}


def _set_property(session: Any, info: Any, key: str, value: str | None) -> None:
    """A table property set (or removed); a path table has no catalog entry to keep it in."""
    if info.kind != "table":
        return
    with state.internal():
        if value is None:
            session.sql(f"ALTER TABLE {info.spark_name} UNSET TBLPROPERTIES IF EXISTS ({literal(key)})")
        else:
            session.sql(f"ALTER TABLE {info.spark_name} SET TBLPROPERTIES ({literal(key)} = {literal(value)})")


def _optimize(session: Any, st: Statement) -> Any:
    table, _ = _table(session, st, 1)
    return optimize_result(session, table._info)


def _vacuum(session: Any, st: Statement) -> Any:
    table, _ = _table(session, st, 1)
    table.vacuum()
    info = table._info
    return session.createDataFrame([(info.location if info.kind == "table" else info.path,)], "path STRING")


def _restore(session: Any, st: Statement) -> Any:
    k = 2 if st.word(1) == "TABLE" else 1
    table, k = _table(session, st, k)
    if st.word(k) != "TO" or st.word(k + 1) not in ("VERSION", "TIMESTAMP") or st.word(k + 2) != "AS":
        raise syntax_error(st.text, "TO VERSION AS OF <n> or TO TIMESTAMP AS OF '<time>'")
    value = st.sig[k + 4].value if k + 4 < len(st.sig) else ""
    if st.word(k + 1) == "VERSION":
        return restore(table, version=value)
    return restore(table, timestamp=value)


def _at_version(text: str) -> str:
    """Delta's short form: ``t@v2`` → ``t VERSION AS OF 2``; ``t@20240101000000000`` (yyyyMMddHHmmssSSS) →
    ``t TIMESTAMP AS OF '2024-01-01 00:00:00.000'``."""
    tokens = sql_tokens.tokenize(text)
    out = list(tokens)
    for k in range(1, len(tokens) - 1):
        before, token, after = tokens[k - 1], tokens[k], tokens[k + 1]
        if token.text != "@" or before.kind not in ("word", "qident") or after.kind != "word":
            continue
        value = after.text
        if value[:1] in ("v", "V") and value[1:].isdigit():
            out[k], out[k + 1] = sql_tokens.Token("ws", " "), sql_tokens.Token("word", f"VERSION AS OF {value[1:]}")
        elif value.isdigit() and len(value) == 17:
            stamp = (f"{value[:4]}-{value[4:6]}-{value[6:8]} {value[8:10]}:{value[10:12]}:{value[12:14]}."
                     f"{value[14:]}")
            out[k], out[k + 1] = sql_tokens.Token("ws", " "), sql_tokens.Token("word", f"TIMESTAMP AS OF '{stamp}'")
    return sql_tokens.join_tokens(out)


def _time_travel(session: Any, st: Statement) -> str:
    """``t VERSION AS OF 1`` / ``t TIMESTAMP AS OF '...'`` → a temporary view of that version."""
    pieces, last = [], 0
    for k, word in enumerate(st.words):
        if word not in _TRAVEL or st.word(k + 1) != "AS" or st.word(k + 2) != "OF" or k + 3 >= len(st.sig):
            continue
        end = k - 2 if st.word(k - 1) == "FOR" else k - 1
        start = end
        while start >= 2 and st.word(start - 1) == "." and st.sig[start - 2].kind in ("word", "qident"):
            start -= 2
        if start < 0 or st.sig[start].kind not in ("word", "qident"):
            continue
        value = st.sig[k + 3]
        if value.kind not in ("string", "word") or (value.kind == "word" and not value.text.isdigit()):
            raise errors.not_emulated("Time travel to a computed version or time", anchor="time-travel",
                                      hint="Write the version number or the timestamp as a literal.")
        name = "".join(t.text for t in st.sig[start:end + 1])
        info = storage.resolve(session, name)
        travel = {"version": value.value} if word in ("VERSION", "SYSTEM_VERSION") else {"timestamp": value.value}
        frame = history.version_frame(session, info, **travel)
        view = f"__day07_{hashlib.sha1(f'{info.key}|{value.value}'.encode()).hexdigest()[:12]}"
        with state.internal():
            frame.createOrReplaceTempView(view)
        pieces.append(st.text[last:st.start[start]] + f"`{view}`")
        last = st.end_of(k + 3)
    return "".join(pieces) + st.text[last:] if pieces else st.text
