"""Delta's errors, shaped like Databricks' (error class, message, SQLSTATE), as PySpark exceptions.

They subclass PySpark's ``AnalysisException`` / ``UnsupportedOperationException`` so that a notebook's
``except AnalysisException:`` catches them as it would on Databricks.
"""

from __future__ import annotations

from pyspark.errors import AnalysisException, UnsupportedOperationException

DOCS = "docs/emulation.md"
"""The page that lists every emulated Delta feature and every difference (error messages link its sections)."""


def docs_link(anchor: str) -> str:
    return f"See {DOCS}#{anchor}."


class _Shaped:
    """``[CLASS] message SQLSTATE: xxxxx``, like the errors Spark and Databricks raise."""

    _sqlstate: str

    def getSqlState(self) -> str:  # noqa: N802 - PySpark's name
        return self._sqlstate


class DeltaAnalysisException(_Shaped, AnalysisException):
    """A Delta error Databricks raises as an ``AnalysisException`` (bad table, version, clause)."""

    def __init__(self, condition: str, message: str, *, sqlstate: str, parameters: dict[str, str] | None = None,
                 kit_note: str | None = None) -> None:
        text = f"{message} SQLSTATE: {sqlstate}" + (f"\n{kit_note}" if kit_note else "")
        super().__init__(message=text, errorClass=condition, messageParameters=parameters or {})
        self._sqlstate = sqlstate


class DeltaUnsupportedOperationException(_Shaped, UnsupportedOperationException):
    """A Delta error Databricks raises as an ``UnsupportedOperationException`` (e.g. an ambiguous MERGE)."""

    def __init__(self, condition: str, message: str, *, sqlstate: str, parameters: dict[str, str] | None = None,
                 kit_note: str | None = None) -> None:
        text = f"{message} SQLSTATE: {sqlstate}" + (f"\n{kit_note}" if kit_note else "")
        super().__init__(message=text, errorClass=condition, messageParameters=parameters or {})
        self._sqlstate = sqlstate


def not_a_delta_table(name: str, *, why: str = "") -> DeltaAnalysisException:
    return DeltaAnalysisException(
        "DELTA_MISSING_DELTA_TABLE", f"{name} is not a Delta table.", sqlstate="42P01",
        parameters={"tableName": name},
        kit_note=(f"Locally: {why} " if why else "Locally: ") + docs_link("which-tables-are-delta-tables"))


def table_not_found(name: str) -> DeltaAnalysisException:
    return DeltaAnalysisException("DELTA_TABLE_NOT_FOUND", f"Delta table {name} doesn't exist.", sqlstate="42P01",
                                  parameters={"tableName": name})


def multiple_source_rows() -> DeltaUnsupportedOperationException:
    return DeltaUnsupportedOperationException(
        "DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE",
        "Cannot perform Merge as multiple source rows matched and attempted to modify the same target row in the "
        "Delta table in possibly conflicting ways. By SQL semantics of Merge, when multiple source rows match on "
        "the same target row, the result may be ambiguous as it is unclear which source row should be used to "
        "update or delete the matching target row. You can preprocess the source table to eliminate the "
        "possibility of multiple matches.", sqlstate="21506")


def clause_without_condition(kind: str) -> DeltaAnalysisException:
    label = {"matched": "MATCHED", "not_matched": "NOT MATCHED", "not_matched_by_source": "NOT MATCHED BY SOURCE"}
    condition = {"matched": "DELTA_NON_LAST_MATCHED_CLAUSE_OMIT_CONDITION",
                 "not_matched": "DELTA_NON_LAST_NOT_MATCHED_CLAUSE_OMIT_CONDITION",
                 "not_matched_by_source": "DELTA_NON_LAST_NOT_MATCHED_BY_SOURCE_CLAUSE_OMIT_CONDITION"}[kind]
    return DeltaAnalysisException(
        condition, f"When there are more than one {label[kind]} clauses in a MERGE statement, only the last "
        f"{label[kind]} clause can omit the condition.", sqlstate="42601")


def no_when_clause() -> DeltaAnalysisException:
    return DeltaAnalysisException("DELTA_MERGE_MISSING_WHEN",
                                  "There must be at least one WHEN clause in a MERGE statement.", sqlstate="42601")


def version_not_kept(version: int, available: list[int], name: str) -> DeltaAnalysisException:
    shown = f"[{available[0]}, {available[-1]}]" if available else "[]"
    return DeltaAnalysisException(
        "DELTA_VERSION_NOT_FOUND", f"Cannot time travel Delta table to version {version}. Available versions: "
        f"{shown}.", sqlstate="22003", parameters={"userVersion": str(version), "tableName": name},
        kit_note="Locally, only the versions whose files the kit kept can be read (DAY07_DELTA_VERSIONS). "
        + docs_link("time-travel"))


def timestamp_out_of_range(when: str, name: str, *, first: str, last: str, after: bool) -> DeltaAnalysisException:
    if after:
        return DeltaAnalysisException(
            "DELTA_TIMESTAMP_GREATER_THAN_COMMIT", f"The provided timestamp ({when}) is after the latest version "
            f"available to this table ({name}). Please use a timestamp before or at {last}.", sqlstate="42816")
    return DeltaAnalysisException(
        "DELTA_TIMESTAMP_EARLIER_THAN_COMMIT_RETENTION", f"The provided timestamp ({when}) is before the earliest "
        f"version available to this table ({name}). Please use a timestamp after {first}.", sqlstate="42816")


def not_emulated(what: str, *, anchor: str = "delta-lake", hint: str = "") -> DeltaAnalysisException:
    return DeltaAnalysisException(
        "DAY07_DELTA_NOT_EMULATED", f"{what} is not emulated by the local Day 07 kit.", sqlstate="0A000",
        kit_note=(hint + " " if hint else "") + docs_link(anchor))
