"""``MERGE`` on the Delta stand-in: Delta's documented semantics, as one Spark query that is then swapped in.

* ``whenMatched`` clauses apply to (target, source) pairs that meet the merge condition; ``whenNotMatched`` to
  source rows with no match; ``whenNotMatchedBySource`` to target rows with no match. Within each kind the
  clauses are tried in order and the first whose condition is true wins; a row no clause takes is kept (target)
  or dropped (source). Only the last clause of a kind may omit its condition.
* Unspecified columns keep their value (update) or become NULL (insert); every value is cast to the column type.
* More than one source row that would change the same target row is an error
  (``DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE``), unless every matched clause is an unconditional
  delete.

A full outer join of target and source carries a clause number per row; a window over a target row id keeps one
row per target row. An insert-only merge appends its new rows instead of rewriting the table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from checkers.runtime.delta import errors, history, state, storage

KINDS = ("matched", "not_matched", "not_matched_by_source")
ACTIONS = {"matched": ("update", "update_all", "delete"), "not_matched": ("insert", "insert_all"),
           "not_matched_by_source": ("update", "delete")}
_DROP, _KEEP_MATCHED, _KEEP_TARGET = -2, -1, -3
_T, _S, _RID = "__day07_target", "__day07_source", "__day07_row"
METRICS_SCHEMA = "num_affected_rows BIGINT, num_updated_rows BIGINT, num_deleted_rows BIGINT, " \
                 "num_inserted_rows BIGINT"


@dataclass(frozen=True)
class Clause:
    kind: str
    action: str
    condition: Any = None
    assignments: tuple[tuple[str, Any], ...] = ()


def column(value: Any) -> Any:
    """A condition or value as a Column: SQL text, a Column, or a Python literal."""
    from pyspark.sql import Column
    from pyspark.sql import functions as F  # noqa: N812 - PySpark's convention

    if isinstance(value, Column):
        return value
    if isinstance(value, str):
        return F.expr(value)
    return F.lit(value)


def describe(value: Any) -> str:
    """How history shows a condition: its SQL text."""
    text = str(value)
    if text.startswith("Column<'") and text.endswith("'>"):
        return text[len("Column<'"):-2]
    return text


def target_column(name: str, columns: list[str]) -> str:
    """``target.lastSeen`` or ``lastSeen`` → the table's column (case-insensitive, like Spark)."""
    from checkers.runtime.sql_tokens import tokenize

    parts = [t.value for t in tokenize(name) if t.kind in ("word", "qident")]
    wanted = (parts[-1] if parts else name).lower()
    for col in columns:
        if col.lower() == wanted:
            return col
    raise errors.DeltaAnalysisException(
        "DELTA_MERGE_UNRESOLVED_EXPRESSION", f"Cannot resolve {name} in UPDATE/INSERT clause given columns "
        f"{', '.join(columns)}.", sqlstate="42601")


class DeltaMergeBuilder:
    """What ``DeltaTable.merge`` returns: add ``when...`` clauses, then ``execute()``."""

    def __init__(self, table: Any, source: Any, condition: Any, clauses: tuple[Clause, ...] = (),
                 evolve: bool = False) -> None:
        if source is None:
            raise ValueError("'source' in merge cannot be None")
        if condition is None:
            raise ValueError("'condition' in merge cannot be None")
        self._table = table
        self._source = source
        self._condition = condition
        self._clauses = clauses
        self._evolve = evolve

    def _add(self, kind: str, action: str, condition: Any = None, assignments: dict[str, Any] | None = None,
             what: str = "'set'") -> DeltaMergeBuilder:
        if action in ("update", "insert") and not isinstance(assignments, dict):
            raise ValueError(f"Wrong type for {what}: expected a dict of column names to expressions.")
        clause = Clause(kind, action, condition, tuple((assignments or {}).items()))
        return DeltaMergeBuilder(self._table, self._source, self._condition, (*self._clauses, clause), self._evolve)

    def whenMatchedUpdate(self, condition: Any = None, set: dict[str, Any] | None = None) -> DeltaMergeBuilder:  # noqa: A002,N802
        return self._add("matched", "update", condition, set)

    def whenMatchedUpdateAll(self, condition: Any = None) -> DeltaMergeBuilder:  # noqa: N802
        return self._add("matched", "update_all", condition)

    def whenMatchedDelete(self, condition: Any = None) -> DeltaMergeBuilder:  # noqa: N802
        return self._add("matched", "delete", condition)

    def whenNotMatchedInsert(self, condition: Any = None, values: dict[str, Any] | None = None) -> DeltaMergeBuilder:  # noqa: N802
        return self._add("not_matched", "insert", condition, values, what="'values'")

    def whenNotMatchedInsertAll(self, condition: Any = None) -> DeltaMergeBuilder:  # noqa: N802
        return self._add("not_matched", "insert_all", condition)

    def whenNotMatchedBySourceUpdate(self, condition: Any = None, set: dict[str, Any] | None = None) -> DeltaMergeBuilder:  # noqa: A002,N802,E501
        return self._add("not_matched_by_source", "update", condition, set)

    def whenNotMatchedBySourceDelete(self, condition: Any = None) -> DeltaMergeBuilder:  # noqa: N802
        return self._add("not_matched_by_source", "delete", condition)

    def withSchemaEvolution(self) -> DeltaMergeBuilder:  # noqa: N802
        return DeltaMergeBuilder(self._table, self._source, self._condition, self._clauses, evolve=True)

    def execute(self) -> Any:
        """Run the merge; returns Databricks' one-row result (affected, updated, deleted, inserted rows)."""
        if self._evolve:
            raise errors.not_emulated("MERGE with schema evolution", anchor="merge",
                                      hint="Add the new columns to the table first (ALTER TABLE ... ADD COLUMNS).")
        return run_merge(self._table, self._source, self._condition, list(self._clauses))


def validate(clauses: list[Clause]) -> None:
    if not clauses:
        raise errors.no_when_clause()
    for kind in KINDS:
        of_kind = [c for c in clauses if c.kind == kind]
        if any(c.condition is None for c in of_kind[:-1]):
            raise errors.clause_without_condition(kind)


def run_merge(table: Any, source: Any, condition: Any, clauses: list[Clause]) -> Any:
    from pyspark.sql import functions as F  # noqa: N812 - PySpark's convention
    from pyspark.sql.window import Window

    validate(clauses)
    spark = table._spark
    info = table._info = storage.refresh(spark, table._info)
    target = table.toDF()
    fields = target.schema.fields
    names = [f.name for f in fields]
    clauses = [_resolve(c, names, source) for c in clauses]
    insert_only = all(c.kind == "not_matched" for c in clauses)
    t = target.withColumn(_T, F.lit(True))
    if not insert_only:
        t = t.withColumn(_RID, F.monotonically_increasing_id())
    s = source.withColumn(_S, F.lit(True))
    joined = t.join(s, column(condition), "full_outer")
    matched, source_only, target_only = t[_T].isNotNull() & s[_S].isNotNull(), t[_T].isNull(), s[_S].isNull()
    base = {"matched": matched, "not_matched": source_only, "not_matched_by_source": target_only}
    action = None
    for i, clause in enumerate(clauses):
        test = base[clause.kind] if clause.condition is None else base[clause.kind] & column(clause.condition)
        action = F.when(test, F.lit(i)) if action is None else action.when(test, F.lit(i))
    assert action is not None
    action = action.when(source_only, F.lit(_DROP)).when(matched, F.lit(_KEEP_MATCHED)).otherwise(F.lit(_KEEP_TARGET))
    act = F.col("__day07_action")
    out = []
    for field in fields:
        value = None
        for i, clause in enumerate(clauses):
            assigned = dict(clause.assignments).get(field.name)
            if assigned is not None:
                value = F.when(act == i, assigned) if value is None else value.when(act == i, assigned)
        final = t[field.name] if value is None else value.otherwise(t[field.name])
        out.append(final.cast(field.dataType).alias(field.name))
    removed = [i for i, c in enumerate(clauses) if c.action == "delete"] + [_DROP]
    flagged = joined.withColumn("__day07_action", action)
    if insert_only:
        counts = {r[0]: r[1] for r in flagged.groupBy(act).count().collect()}
        inserted = sum(counts.get(i, 0) for i in range(len(clauses)))
        if inserted:
            new_rows = flagged.where(act >= 0).select(*out)
            with state.internal():
                _append(spark, info, new_rows)
        result = _result(spark, clauses, counts, source_rows=sum(v for k, v in counts.items() if k != _KEEP_TARGET))
    else:
        applied = F.when(matched & (act >= 0), 1).otherwise(0)
        per_row = Window.partitionBy(F.col(_RID))
        flagged = flagged.withColumn("__day07_applied", F.sum(applied).over(per_row)) \
            .withColumn("__day07_rank", F.row_number().over(per_row.orderBy(applied.desc())))
        kept = flagged.where(F.col(_RID).isNull() | (F.col("__day07_rank") == 1))
        stats = kept.groupBy(act).agg(F.count(F.lit(1)).alias("n"), F.max("__day07_applied").alias("m")).collect()
        counts = {r[0]: r[1] for r in stats}
        only_deletes = all(c.action == "delete" and c.condition is None for c in clauses if c.kind == "matched")
        if not only_deletes and any((r[2] or 0) > 1 for r in stats):
            raise errors.multiple_source_rows()
        source_rows = sum(r[1] for r in stats if r[0] != _KEEP_TARGET)
        result = _result(spark, clauses, counts, source_rows=source_rows)
        if _changed(clauses, counts):
            frame = kept.where(~act.isin(removed)).select(*out)
            info = storage.replace_contents(spark, info, frame)
    if _changed(clauses, counts):
        history.record(spark, info, "MERGE", _parameters(condition, clauses), result[1])
    return spark.createDataFrame([result[0]], METRICS_SCHEMA)


def _resolve(clause: Clause, names: list[str], source: Any) -> Clause:
    """``UpdateAll``/``InsertAll`` become explicit assignments; keys name the table's columns; values are Columns."""
    if clause.action in ("update_all", "insert_all"):
        by_lower = {c.lower(): c for c in source.columns}
        missing = [n for n in names if n.lower() not in by_lower]
        if missing:
            raise errors.DeltaAnalysisException(
                "DELTA_MERGE_UNRESOLVED_EXPRESSION", f"Cannot resolve {missing[0]} in "
                f"{'UPDATE' if clause.action == 'update_all' else 'INSERT'} clause given columns "
                f"{', '.join(source.columns)}.", sqlstate="42601",
                kit_note="UPDATE SET * and INSERT * need every column of the table in the source.")
        pairs = tuple((n, source[by_lower[n.lower()]]) for n in names)
        return replace(clause, action=clause.action.removesuffix("_all"), assignments=pairs)
    pairs = tuple((target_column(k, names), column(v)) for k, v in clause.assignments)
    return replace(clause, assignments=pairs)


def _append(spark: Any, info: Any, frame: Any) -> None:
    if info.kind == "table":
        frame.write.insertInto(info.spark_name)
    else:
        writer = frame.write.format("parquet").mode("append")
        if info.partition_columns:
            writer = writer.partitionBy(*info.partition_columns)
        writer.save(info.path)


def _changed(clauses: list[Clause], counts: dict[int, int]) -> bool:
    return any(counts.get(i, 0) for i in range(len(clauses)))


def _result(spark: Any, clauses: list[Clause], counts: dict[int, int], *, source_rows: int) -> tuple[tuple, dict]:
    def total(kind: str, action: str) -> int:
        return sum(counts.get(i, 0) for i, c in enumerate(clauses) if c.kind == kind and c.action == action)

    m_upd, m_del = total("matched", "update"), total("matched", "delete")
    s_upd, s_del = total("not_matched_by_source", "update"), total("not_matched_by_source", "delete")
    inserted = total("not_matched", "insert")
    updated, deleted = m_upd + s_upd, m_del + s_del
    copied = counts.get(_KEEP_MATCHED, 0) + counts.get(_KEEP_TARGET, 0)
    metrics = {"numSourceRows": source_rows, "numTargetRowsInserted": inserted, "numTargetRowsUpdated": updated,
               "numTargetRowsDeleted": deleted, "numTargetRowsMatchedUpdated": m_upd,
               "numTargetRowsMatchedDeleted": m_del, "numTargetRowsNotMatchedBySourceUpdated": s_upd,
               "numTargetRowsNotMatchedBySourceDeleted": s_del, "numTargetRowsCopied": copied,
               "numOutputRows": updated + inserted + copied}
    return (updated + deleted + inserted, updated, deleted, inserted), metrics


def _parameters(condition: Any, clauses: list[Clause]) -> dict[str, str]:
    def predicates(kind: str) -> str:
        return json.dumps([{"actionType": c.action, **({"predicate": describe(c.condition)} if c.condition is not None
                                                        else {})} for c in clauses if c.kind == kind])

    return {"predicate": json.dumps([describe(condition)]), "matchedPredicates": predicates("matched"),
            "notMatchedPredicates": predicates("not_matched"),
            "notMatchedBySourcePredicates": predicates("not_matched_by_source")}
