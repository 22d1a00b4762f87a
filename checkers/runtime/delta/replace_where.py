"""Delta's partial overwrite: ``.option("replaceWhere", cond)`` on an overwrite, and SQL's
``INSERT INTO t REPLACE WHERE cond <query>``.

Only the rows that match ``cond`` are replaced; the rest of the table stays. Plain Spark ignores the option and
overwrites the whole table, which would lose data silently. As Delta does, every new row must match ``cond``
(``DELTA_REPLACE_WHERE_MISMATCH``), and the write is one new version (a ``WRITE`` with its predicate).
"""

from __future__ import annotations

import json
from typing import Any

from checkers.runtime.delta import errors, history, state, storage, writer_options
from checkers.runtime.delta.statement import Statement, syntax_error

_QUERY_WORDS = ("SELECT", "WITH", "VALUES", "TABLE", "FROM")
"""Where the query after ``REPLACE WHERE <condition>`` starts (a parenthesised condition is not a query)."""


def condition(writer: Any) -> str | None:
    """The writer's ``replaceWhere`` option, if any."""
    return writer_options.option(writer, "replaceWhere")


def overwrite(writer: Any, session: Any, info: storage.TableInfo, cond: str) -> None:
    """Replace the rows of the table (or Delta folder) ``info`` that match ``cond`` with the writer's rows."""
    from pyspark.sql import functions as F
    from pyspark.sql.connect.dataframe import DataFrame

    matches = F.coalesce(F.expr(cond), F.lit(False))
    new = DataFrame(writer._df, writer._spark)
    if new.where(~matches).limit(1).count():
        raise errors.DeltaAnalysisException(
            "DELTA_REPLACE_WHERE_MISMATCH", f"Written data does not conform to partial table overwrite condition or "
            f"constraint '{cond}'.", sqlstate="44000")
    with state.internal():
        kept = info.read(session).where(~matches)
        combined = kept.unionByName(new.select(*kept.columns))
    info = storage.replace_contents(session, info, combined)
    history.record(session, info, "WRITE", {"mode": "Overwrite", "partitionBy": "[]",
                                            "predicate": json.dumps([cond])})


def insert(session: Any, st: Statement, k: int, args: Any) -> Any:
    """``INSERT INTO t REPLACE WHERE cond <query>``; ``k`` is the index of ``REPLACE``."""
    name, _ = st.name_at(3 if st.word(2) == "TABLE" else 2)
    start = next((i for i in st.top_level(k + 2) if st.word(i) in _QUERY_WORDS), None)
    if start is None:
        raise syntax_error(st.text, "a query after REPLACE WHERE <condition>")
    cond, query = st.slice(k + 2, start), st.slice(start)
    rows = session.sql(query, args) if args else session.sql(query)
    rows.write.format("delta").mode("overwrite").option("replaceWhere", cond).saveAsTable(name)
    return session.range(0).select()
