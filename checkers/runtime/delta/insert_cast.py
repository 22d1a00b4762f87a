"""``INSERT INTO t VALUES (1, '2024-01-01')`` into a DATE or TIMESTAMP column, as Delta takes it.

Spark's own table insertion follows the ANSI store assignment rules, which refuse a STRING into a DATE, TIMESTAMP or
number (``INCOMPATIBLE_DATA_FOR_TABLE.CANNOT_SAFELY_CAST``). Delta's insert resolution instead casts each value to
its column's type with an ANSI ``CAST``: ``'2024-01-01'`` becomes a date, and a value that does not parse fails at
run time (``CAST_INVALID_INPUT``). When Spark refuses, the statement runs again with those casts written out.
"""

from __future__ import annotations

from typing import Any

from checkers.runtime import catalog_names
from checkers.runtime.delta import state
from checkers.runtime.delta.statement import Statement, split

REFUSED = "INCOMPATIBLE_DATA_FOR_TABLE.CANNOT_SAFELY_CAST"


def refused(exc: BaseException) -> bool:
    getter = getattr(exc, "getCondition", None)
    return bool(getter and (getter() or "") == REFUSED)


def with_casts(session: Any, st: Statement, args: Any, inner: Any, target: str, after: int) -> Any:
    """Run ``INSERT INTO|OVERWRITE t [(cols)] <query>`` as ``... SELECT CAST(c AS <column type>), ... FROM
    (<query>)``; None when the statement has another shape (the caller raises Spark's error)."""
    k, names = after, None
    if st.word(k) == "(" and st.word(k + 1) not in ("SELECT", "WITH", "VALUES", "FROM"):
        end = st.closing(k)
        names = [st.slice(a, b).strip("`").lower() for a, b in split(st, k + 1, end)]
        k = end + 1
    if st.word(k) in ("PARTITION", "BY", "REPLACE") or k >= len(st.words):
        return None
    with state.internal():
        fields = session.table(target).schema.fields
    by_name = {f.name.lower(): f for f in fields}
    targets = fields if names is None else [by_name.get(n) for n in names]
    query = st.slice(k).rstrip(";").strip()
    width = len(inner(query, args).columns)
    if any(f is None for f in targets) or width != len(targets):
        return None
    temp = [f"`__c{i}`" for i in range(width)]
    casts = ", ".join(f"CAST({c} AS {f.dataType.simpleString()}) AS {catalog_names.quote_ident(f.name)}"
                      for c, f in zip(temp, targets, strict=True))
    head = st.slice(0, k)
    return inner(f"{head} SELECT {casts} FROM ({query}) AS __day07_values({', '.join(temp)})", args)
