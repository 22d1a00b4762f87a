"""Delta's schema enforcement for ``df.write.format("delta").mode("append").save(path)``.

Delta checks every append against the table's schema ("Schema enforcement" in the Databricks docs): a column the
table lacks is ``DELTA_METADATA_MISMATCH`` unless ``mergeSchema`` (or autoMerge) is set; a column whose type differs
cannot be merged (``DELTA_FAILED_TO_MERGE_FIELDS``), except a narrower integer into a wider one, which is cast;
columns the rows lack are null. A plain parquet folder would take any files, and a later read would guess its
columns from one of them, so without this check the append silently loses the table's data.
"""

from __future__ import annotations

from typing import Any

from checkers.runtime.delta import errors, state, storage, writer_options

_INTEGRAL_WIDTH = {"byte": 1, "short": 2, "integer": 4, "long": 8}


def _table_schema(session: Any, info: storage.TableInfo) -> Any:
    """The folder's schema: as the log last recorded it, else as its files say; None when it holds no table yet."""
    logged = storage.logged_schema(info)
    if logged is not None:
        return logged
    try:
        with state.internal():
            schema = info.read(session).schema
    except Exception:  # no folder, no files: the append creates the table
        return None
    return schema if schema.fields else None


def _widens(source: Any, target: Any) -> bool:
    src, dst = _INTEGRAL_WIDTH.get(source.typeName()), _INTEGRAL_WIDTH.get(target.typeName())
    return src is not None and dst is not None and src <= dst


def check(writer: Any, session: Any, info: storage.TableInfo) -> Any:
    """Check an append to a path table; align the writer's rows to the table (cast, null columns). Returns the
    table's schema after the append (to log), or None when the folder holds no table yet."""
    from pyspark.sql import functions as F
    from pyspark.sql.connect.dataframe import DataFrame
    from pyspark.sql.types import NullType, StructType

    table = _table_schema(session, info)
    if table is None:
        return None
    frame = DataFrame(writer._df, writer._spark)
    by_name = {f.name.lower(): f for f in table.fields}
    extra = [f for f in frame.schema.fields if f.name.lower() not in by_name]
    if extra and not writer_options.merge_schema(writer, session):
        raise errors.DeltaAnalysisException(
            "DELTA_METADATA_MISMATCH", f"A schema mismatch detected when writing to the Delta table {info.display}: "
            f"the data has columns the table does not ({', '.join(f.name for f in extra)}). To enable schema "
            "migration, set the option mergeSchema to true: .option(\"mergeSchema\", \"true\").", sqlstate="42KDG")
    columns = []
    for field in frame.schema.fields:
        want = by_name.get(field.name.lower())
        if want is None or want.dataType == field.dataType:
            columns.append(F.col(f"`{field.name}`"))
        elif isinstance(field.dataType, NullType) or _widens(field.dataType, want.dataType):
            columns.append(F.col(f"`{field.name}`").cast(want.dataType).alias(want.name))
        else:
            raise errors.DeltaAnalysisException(
                "DELTA_FAILED_TO_MERGE_FIELDS", f"Failed to merge fields '{want.name}' and '{field.name}': the table's "
                f"column is {want.dataType.simpleString()}, the data's {field.dataType.simpleString()}.",
                sqlstate="22005")
    have = {f.name.lower() for f in frame.schema.fields}
    columns += [F.lit(None).cast(f.dataType).alias(f.name) for f in table.fields if f.name.lower() not in have]
    aligned = frame.select(*columns)._plan
    writer._df = aligned
    writer._write._child = aligned  # what save() sends: the write operation holds the plan it was made with
    return StructType(list(table.fields) + [f for f in extra if not isinstance(f.dataType, NullType)])
