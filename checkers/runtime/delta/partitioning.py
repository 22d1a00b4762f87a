"""Partition columns the way Delta keeps them: in the table's metadata, not in its column order.

Plain Spark moves a file table's partition columns to the end of its schema. A Delta table keeps the order it was
created with, so ``INSERT INTO t VALUES (...)``, ``insertInto`` and ``SELECT *`` see ``(id, country, amount)``
where Spark would see ``(id, amount, country)``, and a positional insert then fails or mixes columns up. So a
managed table's partition columns are kept in the stand-in's log only (``DESCRIBE DETAIL`` shows them) and its
files are not split into folders. What depends on them is done here:

- ``partitionOverwriteMode=dynamic`` (the writer option or the session conf) replaces only the partitions that
  the new rows hold; an overwrite without ``partitionBy`` keeps the table's partition columns, as Delta does;
- ``INSERT INTO|OVERWRITE t PARTITION (c = 'x') <query>`` (a static value, or a column the query gives);
- ``SHOW PARTITIONS t``: the distinct values of the partition columns.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from checkers.runtime import catalog_names
from checkers.runtime.delta import errors, history, replace_where, state, storage, writer_options
from checkers.runtime.delta.statement import Statement, literal, split, syntax_error

DYNAMIC_CONF = "spark.sql.sources.partitionOverwriteMode"
MAX_DYNAMIC_PARTITIONS = 10_000
"""A dynamic overwrite names each partition it replaces in one condition; more than this is refused."""


def strip_clause(st: Statement, after: int, stop: int | None) -> tuple[Statement, list[str]]:
    """``CREATE TABLE ... PARTITIONED BY (a, b)``: the statement without the clause, and ``[a, b]``.

    A Hive-style clause with types (``PARTITIONED BY (c STRING)``) is left for Spark to judge."""
    k = st.find(after, "PARTITIONED", stop=stop)
    if k is None or st.word(k + 1) != "BY" or st.word(k + 2) != "(":
        return st, []
    end = st.closing(k + 2)
    cols = [st.slice(i, j).strip() for i, j in split(st, k + 3, end)]
    if not cols or any(len(c.split()) != 1 for c in cols):
        return st, []
    return Statement(f"{st.slice(0, k)} {st.slice(end + 1)}".rstrip()), [c.strip("`") for c in cols]


def writer_columns(writer: Any) -> list[str]:
    """The columns of ``partitionBy``; the writer then writes one folder, as the table's files are kept."""
    cols = [str(c) for c in (writer._write.partitioning_cols or [])]
    writer._write.partitioning_cols = []
    return cols


def v2_columns(writer: Any) -> list[str]:
    """``writeTo(t).partitionedBy(c)``: the column names, kept in the log like ``partitionBy``'s, so the table is
    not partitioned in Spark's catalog (a later ``append()``/``saveAsTable`` append then follows it, as Delta's
    does). A transform (``years(d)``) is left to Spark."""
    from pyspark.sql.connect.expressions import ColumnReference

    cols = list(getattr(writer._write, "partitioning_columns", None) or [])
    exprs = [e for e in (getattr(c, "_expr", None) for c in cols) if isinstance(e, ColumnReference)]
    if not cols or len(exprs) != len(cols):
        return []
    writer._write.partitioning_columns = []
    return [e._unparsed_identifier.strip("`") for e in exprs]


def existing_columns(session: Any, local: str) -> list[str]:
    """A catalog table's partition columns in Spark's catalog (a table partitioned outside the stand-in)."""
    with state.internal():
        return [c.name for c in session.catalog.listColumns(local) if c.isPartition]


def dynamic_mode(session: Any) -> bool:
    """The session's ``partitionOverwriteMode`` is ``dynamic``."""
    try:
        return str(session.conf.get(DYNAMIC_CONF, "static")).lower() == "dynamic"
    except Exception:  # noqa: BLE001 - a conf that cannot be read is the default
        return False


def _dynamic(writer: Any, session: Any) -> bool:
    mode = writer_options.option(writer, "partitionOverwriteMode")
    return dynamic_mode(session) if mode is None else mode.lower() == "dynamic"


def dynamic_overwrite(writer: Any, session: Any, name: str, cols: list[str]) -> bool:
    """An overwrite in dynamic partition mode of a table with partition columns: replace the partitions the new
    rows hold and keep the others. Returns False when it does not apply (the caller overwrites the table)."""
    if not cols or not _dynamic(writer, session):
        return False
    info = storage.describe_table(session, name)
    if info is None:
        return False  # a new table: the rows are all it holds
    from pyspark.sql.connect.dataframe import DataFrame

    new = DataFrame(writer._df, writer._spark)
    missing = [c for c in cols if c.lower() not in {n.lower() for n in new.columns}]
    if missing:
        raise errors.DeltaAnalysisException(
            "DELTA_MISSING_PARTITION_COLUMN", f"Partition column {missing[0]} not found in schema "
            f"[{', '.join(new.columns)}]", sqlstate="42000")
    values = new.select(*cols).distinct().limit(MAX_DYNAMIC_PARTITIONS + 1).collect()
    if len(values) > MAX_DYNAMIC_PARTITIONS:
        raise errors.DeltaAnalysisException(
            "DELTA_DYNAMIC_PARTITIONS_LIMIT", f"the rows hold more than {MAX_DYNAMIC_PARTITIONS} partitions of "
            f"{', '.join(cols)}; the local stand-in replaces at most that many at once.", sqlstate="54000")
    if not values:
        return True  # no rows: no partition is replaced
    ors = []
    for row in values:
        ands = [f"{catalog_names.quote_ident(c)} <=> {_literal(row[i])}" for i, c in enumerate(cols)]
        ors.append("(" + " AND ".join(ands) + ")")
    replace_where.overwrite(writer, session, info, " OR ".join(ors))
    return True


def insert_dynamic(writer: Any, session: Any, name: str) -> bool:
    """``insertInto(t, overwrite=True)`` in dynamic partition mode on a table with partition columns: the rows go to
    the table's columns by position, then replace only their partitions. False when it does not apply."""
    cols = history.partition_columns(storage.info_from_name(session, name))
    if not cols or not _dynamic(writer, session):
        return False
    from pyspark.sql.connect.dataframe import DataFrame

    with state.internal():
        table = session.table(name).columns
    rows = DataFrame(writer._df, writer._spark)
    if len(rows.columns) != len(table):
        return False  # Spark's own arity error says it best
    rows.toDF(*table).write.format("delta").mode("overwrite").options(**dict(writer._write.options or {})) \
        .option("partitionOverwriteMode", "dynamic").saveAsTable(name)
    return True


def _literal(value: Any) -> str:
    """A partition value as SQL: ``statement.literal``, and a date or time as a typed literal (not a string)."""
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return literal(value)


def insert(session: Any, st: Statement, k: int, args: Any, *, overwrite: bool, name: str) -> Any:
    """``INSERT INTO|OVERWRITE [TABLE] t [PARTITION (spec)] <query>``; ``k`` is the index after the name.

    Without a ``PARTITION`` clause it is a dynamic overwrite (the caller checked the session's mode)."""
    from pyspark.sql import functions as F  # noqa: N812 - PySpark's convention

    static: dict[str, str] = {}
    end = k - 1
    if st.word(k) == "PARTITION":
        if st.word(k + 1) != "(":
            raise syntax_error(st.text, "( after PARTITION")
        end = st.closing(k + 1)
        for a, b in split(st, k + 2, end):
            col, eq, value = st.slice(a, b).partition("=")
            if eq:
                static[col.strip().strip("`").lower()] = value.strip()
    query = st.slice(end + 1)
    rows = session.sql(query, args) if args else session.sql(query)
    with state.internal():
        table = session.table(name).schema
    given = [f for f in table.fields if f.name.lower() not in static]
    if len(rows.columns) != len(given):
        raise errors.DeltaAnalysisException(
            "INSERT_COLUMN_ARITY_MISMATCH", f"Cannot write to {name}: the query gives {len(rows.columns)} columns, "
            f"the table has {len(given)} besides the static partition values ({', '.join(static)}).",
            sqlstate="21S01")
    by_name = dict(zip([f.name for f in given], rows.columns, strict=True))
    frame = rows.select(*[
        (F.expr(static[f.name.lower()]) if f.name.lower() in static else F.col(f"`{by_name[f.name]}`"))
        .cast(f.dataType).alias(f.name) for f in table.fields])
    writer = frame.write.format("delta")
    if not overwrite:
        writer.mode("append").saveAsTable(name)
    elif static:
        cond = " AND ".join(f"{catalog_names.quote_ident(c)} <=> ({v})" for c, v in static.items())
        writer.mode("overwrite").option("replaceWhere", cond).saveAsTable(name)
    else:
        writer.mode("overwrite").option("partitionOverwriteMode", "dynamic").saveAsTable(name)
    return session.range(0).select()


def show(session: Any, st: Statement, inner: Any) -> Any:
    """``SHOW PARTITIONS t``: one row per partition, a column per partition column (as Delta shows them)."""
    name, _ = st.name_at(2)
    cols = history.partition_columns(storage.info_from_name(session, catalog_names.rewrite_name(name)))
    if not cols:
        return inner(st.text, None)
    quoted = ", ".join(catalog_names.quote_ident(c) for c in cols)
    return inner(f"SELECT DISTINCT {quoted} FROM {catalog_names.rewrite_name(name)} ORDER BY {quoted}", None)
