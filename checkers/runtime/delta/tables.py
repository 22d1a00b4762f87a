"""``delta.tables`` for the kit's kernel: :class:`DeltaTable` and its builders, on the Delta stand-in.

The names and signatures are delta-spark's (``DeltaTable.forName(spark, "workspace.s.t")``,
``dt.alias("t").merge(src.alias("s"), "t.id = s.id").whenMatchedUpdateAll().execute()``, ...), so a
notebook written on Databricks runs unchanged. docs/emulation.md lists what differs.
"""

from __future__ import annotations

import json
from typing import Any

from checkers.runtime.catalog_names import quote_string
from checkers.runtime.delta import errors, history, state, storage
from checkers.runtime.delta.merge import DeltaMergeBuilder, column, describe

__all__ = ["DeltaColumnBuilder", "DeltaMergeBuilder", "DeltaOptimizeBuilder", "DeltaTable", "DeltaTableBuilder"]


def _session(spark: Any) -> Any:
    """The session to use: the one given (the notebook's ``spark`` before its first use is a stand-in that
    connects on demand: connect it now), else the active one."""
    if spark is not None:
        real = getattr(spark, "day07_session", None)
        return real() if callable(real) else spark
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is None:
        raise ValueError("No active SparkSession: pass `spark` as the first argument.")
    return active


class DeltaTable:
    """A Delta table: a catalog table or a folder, in the local stand-in format."""

    def __init__(self, spark: Any, info: storage.TableInfo, alias: str | None = None) -> None:
        self._spark = spark
        self._info = info
        self._alias = alias
        self._df: Any = None

    def __repr__(self) -> str:
        return f"<DeltaTable {self._info.display} (local Delta stand-in)>"

    # --- finding tables ---------------------------------------------------------------------------------------
    @classmethod
    def forName(cls, sparkSession: Any, tableOrViewName: str) -> DeltaTable:  # noqa: N802,N803 - delta's names
        """The table ``workspace.<schema>.<table>`` (or ``<schema>.<table>``, or ``delta.`/path```)."""
        sparkSession = _session(sparkSession)
        return cls(sparkSession, storage.resolve(sparkSession, tableOrViewName))

    @classmethod
    def forPath(cls, sparkSession: Any, path: str, hadoopConf: dict[str, str] | None = None) -> DeltaTable:  # noqa: N802,N803
        """The table stored at ``path`` (a ``/Volumes/...`` path works)."""
        sparkSession = _session(sparkSession)
        return cls(sparkSession, storage.resolve(sparkSession, path, kind="path"))

    @classmethod
    def isDeltaTable(cls, sparkSession: Any, identifier: str) -> bool:  # noqa: N802,N803
        """True when ``identifier`` (a path) holds a table in the Delta stand-in format."""
        try:
            storage.resolve(_session(sparkSession), identifier, kind="path")
        except errors.DeltaAnalysisException:
            return False
        return True

    @classmethod
    def convertToDelta(cls, sparkSession: Any, identifier: str, partitionSchema: Any = None,  # noqa: N802,N803
                       collectStats: bool = False) -> DeltaTable:  # noqa: N803
        """A parquet table already is the local stand-in: it is only registered in the history log."""
        table = cls.forName(sparkSession, identifier)
        history.record(table._spark, table._info, "CONVERT", {"numFiles": None})
        return table

    # --- reading --------------------------------------------------------------------------------------------
    def toDF(self) -> Any:  # noqa: N802
        if self._df is None:
            frame = self._info.read(self._spark)
            self._df = frame.alias(self._alias) if self._alias else frame
        return self._df

    def alias(self, aliasName: str) -> DeltaTable:  # noqa: N803
        return DeltaTable(self._spark, self._info, aliasName)

    def history(self, limit: int | None = None) -> Any:
        return history.history_frame(self._spark, self._info, limit)

    def detail(self) -> Any:
        return history.detail_frame(self._spark, self._info)

    # --- changing rows ----------------------------------------------------------------------------------------
    def delete(self, condition: Any = None) -> None:
        delete_rows(self, condition)

    def update(self, condition: Any = None, set: dict[str, Any] | None = None) -> None:  # noqa: A002
        if not isinstance(set, dict):
            raise ValueError("Wrong type for 'set': expected a dict of column names to expressions.")
        update_rows(self, condition, set)

    def merge(self, source: Any, condition: Any) -> DeltaMergeBuilder:
        return DeltaMergeBuilder(self, source, condition)

    def restoreToVersion(self, version: int) -> Any:  # noqa: N802
        return restore(self, version=version)

    def restoreToTimestamp(self, timestamp: Any) -> Any:  # noqa: N802
        return restore(self, timestamp=timestamp)

    # --- maintenance: nothing to do locally -------------------------------------------------------------------
    def optimize(self) -> DeltaOptimizeBuilder:
        return DeltaOptimizeBuilder(self)

    def vacuum(self, retentionHours: float | None = None) -> Any:  # noqa: N803
        state.show_notice(state.NOTICES["maintenance"])
        return self._spark.createDataFrame([], "path STRING")

    def upgradeTableProtocol(self, readerVersion: int, writerVersion: int) -> None:  # noqa: N802,N803
        """Table protocols do not exist locally: nothing to upgrade."""

    def generate(self, mode: str) -> None:
        raise errors.not_emulated(f"DeltaTable.generate({mode!r})", hint="Manifests are for other query engines.")

    # --- builders -------------------------------------------------------------------------------------------
    @classmethod
    def create(cls, sparkSession: Any = None) -> DeltaTableBuilder:  # noqa: N803
        return DeltaTableBuilder(_session(sparkSession), "CREATE")

    @classmethod
    def createIfNotExists(cls, sparkSession: Any = None) -> DeltaTableBuilder:  # noqa: N802,N803
        return DeltaTableBuilder(_session(sparkSession), "CREATE_IF_NOT_EXISTS")

    @classmethod
    def replace(cls, sparkSession: Any = None) -> DeltaTableBuilder:  # noqa: N803
        return DeltaTableBuilder(_session(sparkSession), "REPLACE")

    @classmethod
    def createOrReplace(cls, sparkSession: Any = None) -> DeltaTableBuilder:  # noqa: N802,N803
        return DeltaTableBuilder(_session(sparkSession), "CREATE_OR_REPLACE")

    @classmethod
    def columnBuilder(cls, sparkSession: Any, colName: str) -> DeltaColumnBuilder:  # noqa: N802,N803
        return DeltaColumnBuilder(colName)


def _count(frame: Any, condition: Any) -> int:
    return frame.where(condition).count() if condition is not None else frame.count()


def delete_rows(table: DeltaTable, condition: Any = None) -> int:
    """``DELETE``: keep the rows whose condition is not true (NULL keeps a row, as in SQL)."""
    from pyspark.sql import functions as F  # noqa: N812

    table._info = storage.refresh(table._spark, table._info)
    frame = table.toDF()
    cond = column(condition) if condition is not None else None
    deleted = _count(frame, cond)
    if deleted:
        kept = frame.where(~F.coalesce(cond, F.lit(False))) if cond is not None else frame.where(F.lit(False))
        info = storage.replace_contents(table._spark, table._info, kept.select(*[frame[c] for c in frame.columns]))
        predicate = [describe(condition)] if condition is not None else []
        history.record(table._spark, info, "DELETE", {"predicate": json.dumps(predicate)},
                       {"numDeletedRows": deleted})
    return deleted


def update_rows(table: DeltaTable, condition: Any, assignments: dict[str, Any]) -> int:
    """``UPDATE``: set the assigned columns (cast to their types) where the condition is true."""
    from pyspark.sql import functions as F  # noqa: N812

    from checkers.runtime.delta.merge import target_column

    table._info = storage.refresh(table._spark, table._info)
    frame = table.toDF()
    fields = frame.schema.fields
    names = [f.name for f in fields]
    values = {target_column(k, names): column(v) for k, v in assignments.items()}
    cond = column(condition) if condition is not None else None
    updated = _count(frame, cond)
    if updated:
        out = []
        for field in fields:
            current = frame[field.name]
            if field.name in values:
                new = values[field.name] if cond is None else F.when(cond, values[field.name]).otherwise(current)
                current = new.cast(field.dataType)
            out.append(current.alias(field.name))
        info = storage.replace_contents(table._spark, table._info, frame.select(*out))
        predicate = [describe(condition)] if condition is not None else []
        history.record(table._spark, info, "UPDATE", {"predicate": json.dumps(predicate)},
                       {"numUpdatedRows": updated})
    return updated


def restore(table: DeltaTable, *, version: Any = None, timestamp: Any = None) -> Any:
    """``RESTORE``: the table's rows become those of an earlier version (a new version, like Delta)."""
    table._info = storage.refresh(table._spark, table._info)
    wanted = history.version_at(table._info, version=version, timestamp=timestamp)
    old = history.version_frame(table._spark, table._info, version=wanted)
    current = [c for c in table.toDF().columns]
    if [c.lower() for c in old.columns] != [c.lower() for c in current]:
        raise errors.not_emulated("RESTORE to a version with other columns", anchor="time-travel")
    info = storage.replace_contents(table._spark, table._info, old)
    history.record(table._spark, info, "RESTORE", {"version": wanted, "timestamp": timestamp})
    return table._spark.createDataFrame(
        [(0, 0, 0, 0, 0, 0)], "table_size_after_restore BIGINT, num_of_files_after_restore BIGINT, "
        "num_removed_files BIGINT, num_restored_files BIGINT, removed_files_size BIGINT, restored_files_size BIGINT")


class DeltaOptimizeBuilder:
    """``DeltaTable.optimize()``: compaction and Z-ordering have nothing to do on small local tables."""

    def __init__(self, table: DeltaTable) -> None:
        self._table = table

    def where(self, partitionFilter: str) -> DeltaOptimizeBuilder:  # noqa: N803
        return self

    def executeCompaction(self) -> Any:  # noqa: N802
        return optimize_result(self._table._spark, self._table._info)

    def executeZOrderBy(self, *cols: str) -> Any:  # noqa: N802
        return optimize_result(self._table._spark, self._table._info)


def optimize_result(spark: Any, info: storage.TableInfo) -> Any:
    state.show_notice(state.NOTICES["maintenance"])
    location = info.location if info.kind == "table" else info.path
    return spark.createDataFrame([(location, (0, 0))], "path STRING, metrics STRUCT<numFilesAdded: BIGINT, "
                                                       "numFilesRemoved: BIGINT>")


class DeltaColumnBuilder:
    """``DeltaTable.columnBuilder(spark, name).dataType("INT").nullable(False).build()``."""

    def __init__(self, name: str) -> None:
        self._spec: dict[str, Any] = {"colName": name, "dataType": None, "nullable": True, "comment": None,
                                      "generatedAlwaysAs": None}

    def dataType(self, dataType: Any) -> DeltaColumnBuilder:  # noqa: N802,N803
        self._spec["dataType"] = dataType
        return self

    def nullable(self, nullable: bool) -> DeltaColumnBuilder:
        self._spec["nullable"] = nullable
        return self

    def comment(self, comment: str) -> DeltaColumnBuilder:
        self._spec["comment"] = comment
        return self

    def generatedAlwaysAs(self, expression: str) -> DeltaColumnBuilder:  # noqa: N802
        self._spec["generatedAlwaysAs"] = expression
        return self

    def build(self) -> dict[str, Any]:
        if self._spec["dataType"] is None:
            raise ValueError(f"Column {self._spec['colName']}: give its type with .dataType(...).")
        return dict(self._spec)


def _type_text(data_type: Any) -> str:
    return data_type if isinstance(data_type, str) else data_type.simpleString()


def _literal(text: str) -> str:
    return quote_string(str(text))


class DeltaTableBuilder:
    """``DeltaTable.create(spark).tableName(...).addColumn(...).partitionedBy(...).execute()``, as SQL DDL."""

    def __init__(self, spark: Any, mode: str) -> None:
        self._spark = spark
        self._mode = mode
        self._name: str | None = None
        self._location: str | None = None
        self._comment: str | None = None
        self._columns: list[dict[str, Any]] = []
        self._partitions: list[str] = []
        self._properties: dict[str, str] = {}

    def tableName(self, identifier: str) -> DeltaTableBuilder:  # noqa: N802
        self._name = identifier
        return self

    def location(self, location: str) -> DeltaTableBuilder:
        self._location = location
        return self

    def comment(self, comment: str) -> DeltaTableBuilder:
        self._comment = comment
        return self

    def addColumn(self, colName: str, dataType: Any, nullable: bool = True, generatedAlwaysAs: str | None = None,  # noqa: N802,N803
                  generatedByDefaultAs: Any = None, comment: str | None = None) -> DeltaTableBuilder:  # noqa: N803
        if generatedAlwaysAs is not None or generatedByDefaultAs is not None:
            raise errors.not_emulated("Generated and identity columns", anchor="delta-lake",
                                      hint="Compute the column in the DataFrame you write instead.")
        self._columns.append({"colName": colName, "dataType": dataType, "nullable": nullable, "comment": comment})
        return self

    def addColumns(self, cols: Any) -> DeltaTableBuilder:  # noqa: N802
        fields = cols.fields if hasattr(cols, "fields") else cols
        for field in fields:
            if isinstance(field, dict):
                self.addColumn(field["colName"], field["dataType"], field.get("nullable", True),
                               field.get("generatedAlwaysAs"), comment=field.get("comment"))
            else:
                self.addColumn(field.name, field.dataType, field.nullable,
                               comment=(field.metadata or {}).get("comment"))
        return self

    def partitionedBy(self, *cols: Any) -> DeltaTableBuilder:  # noqa: N802
        self._partitions.extend(c for group in cols for c in ([group] if isinstance(group, str) else group))
        return self

    def clusterBy(self, *cols: Any) -> DeltaTableBuilder:  # noqa: N802
        return self  # liquid clustering only lays out files: nothing to do locally

    def property(self, key: str, value: str) -> DeltaTableBuilder:
        self._properties[key] = value
        return self

    def execute(self) -> DeltaTable:
        if self._name is None and self._location is None:
            raise errors.DeltaAnalysisException("DELTA_TABLE_NAME_OR_LOCATION_REQUIRED",
                                                "Table name or location has to be specified.", sqlstate="42601")
        if not self._columns:
            raise errors.DeltaAnalysisException("DELTA_EMPTY_DATA", "Table schema is not set: add columns with "
                                                "addColumn or addColumns.", sqlstate="428GU")
        name = self._name or f"delta.`{self._location}`"
        head = {"CREATE": "CREATE TABLE", "CREATE_IF_NOT_EXISTS": "CREATE TABLE IF NOT EXISTS",
                "REPLACE": "REPLACE TABLE", "CREATE_OR_REPLACE": "CREATE OR REPLACE TABLE"}[self._mode]
        cols = ", ".join(
            f"`{c['colName']}` {_type_text(c['dataType'])}{'' if c['nullable'] else ' NOT NULL'}"
            + (f" COMMENT {_literal(c['comment'])}" if c["comment"] else "") for c in self._columns)
        parts = [f"{head} {name} ({cols}) USING DELTA"]
        if self._partitions:
            parts.append("PARTITIONED BY (" + ", ".join(f"`{p}`" for p in self._partitions) + ")")
        if self._location is not None and self._name is not None:
            parts.append(f"LOCATION {_literal(self._location)}")
        if self._comment:
            parts.append(f"COMMENT {_literal(self._comment)}")
        if self._properties:
            parts.append("TBLPROPERTIES (" + ", ".join(f"{_literal(k)} = {_literal(v)}"
                                                       for k, v in self._properties.items()) + ")")
        self._spark.sql(" ".join(parts))
        if self._name is None:
            assert self._location is not None  # a builder without a name has a location, checked above
            return DeltaTable.forPath(self._spark, self._location)
        return DeltaTable.forName(self._spark, self._name)
