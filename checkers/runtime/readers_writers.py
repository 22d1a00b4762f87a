"""Batch reads and writes, ``spark.sql`` and ``spark.catalog`` on local Spark: Databricks names rewritten
(:mod:`.catalog_names`), Delta as the local format with one notice, ``/Volumes`` locations translated, and what the
session catalog cannot do emulated (replacing a table, V2 appends, volumes as folders)."""

from __future__ import annotations

import functools
import inspect
import posixpath
import re
import shutil
from typing import Any

from checkers.runtime.catalog_names import (
    CATALOG,
    LOCAL_FORMAT,
    SESSION_CATALOG,
    NotEmulatedError,
    is_local_catalog,
    rewrite_name,
    rewrite_statement,
    rewrite_tokens,
)
from checkers.runtime.client_patches import (
    STATE,
    delta_notice,
    fix_path_options,
    inlined,
    is_delta,
    original_sql,
    patch,
    translated_path,
)
from checkers.runtime.sql_inline import positional_as_named
from checkers.runtime.sql_tokens import join_tokens, tokenize
from checkers.runtime.volumes import local_path


def install() -> None:
    """Patch the client's plans, readers, writers, ``sql`` and catalog (once each)."""
    from pyspark.sql.connect import plan
    from pyspark.sql.connect.catalog import Catalog
    from pyspark.sql.connect.readwriter import DataFrameReader, DataFrameWriterV2
    from pyspark.sql.connect.session import SparkSession
    from pyspark.sql.connect.streaming.readwriter import DataStreamReader

    patch(plan.DataSource, "plan", _wrap_data_source)
    patch(plan.Read, "plan", _wrap_read)
    patch(plan.WriteOperation, "command", _wrap_write)
    patch(plan.WriteOperationV2, "command", _wrap_write_v2)
    patch(DataFrameReader, "table", _wrap_reader_table)
    patch(DataStreamReader, "table", _wrap_reader_table)
    patch(DataFrameWriterV2, "createOrReplace", _wrap_v2_replace)
    patch(DataFrameWriterV2, "replace", _wrap_v2_replace)
    patch(DataFrameWriterV2, "append", _wrap_v2_append)
    patch(SparkSession, "sql", _wrap_sql)
    for method in _CATALOG_METHODS:
        if method in Catalog.__dict__:
            patch(Catalog, method, _wrap_catalog)
    patch(Catalog, "currentCatalog", _wrap_current_catalog)
    patch(Catalog, "listCatalogs", _wrap_list_catalogs)


def _wrap_data_source(original: Any) -> Any:
    @functools.wraps(original)
    def plan(self: Any, session: Any) -> Any:
        if is_delta(self._format):
            self._format = LOCAL_FORMAT
            delta_notice()
        if self._paths is not None:
            self._paths = [translated_path(p) for p in self._paths]
        if self._options:
            fix_path_options(self._options)
        return original(self, session)

    return plan


def _wrap_read(original: Any) -> Any:
    @functools.wraps(original)
    def plan(self: Any, session: Any) -> Any:
        self.table_name = rewrite_name(self.table_name)
        return original(self, session)

    return plan


def _wrap_write(original: Any) -> Any:
    @functools.wraps(original)
    def command(self: Any, session: Any) -> Any:
        if is_delta(self.source):
            self.source = LOCAL_FORMAT
            delta_notice()
        self.path = translated_path(self.path)
        if self.table_name is not None:
            self.table_name = rewrite_name(self.table_name)
        fix_path_options(self.options)
        return original(self, session)

    return command


def _wrap_write_v2(original: Any) -> Any:
    @functools.wraps(original)
    def command(self: Any, session: Any) -> Any:
        if is_delta(self.provider):
            self.provider = LOCAL_FORMAT
            delta_notice()
        if self.table_name is not None:
            self.table_name = rewrite_name(self.table_name)
        fix_path_options(self.options)
        return original(self, session)

    return command


def _wrap_reader_table(original: Any) -> Any:
    @functools.wraps(original)
    def table(self: Any, tableName: str) -> Any:  # noqa: N803 - PySpark's name
        return original(self, rewrite_name(tableName))

    return table


def _wrap_v2_replace(original: Any) -> Any:
    @functools.wraps(original)
    def replace(self: Any) -> None:
        """Spark's session catalog cannot replace a table: drop it, then create it."""
        original_sql(self._spark)(f"DROP TABLE IF EXISTS {rewrite_name(self._table_name)}")
        self.create()

    return replace


def _wrap_v2_append(original: Any) -> Any:
    @functools.wraps(original)
    def append(self: Any) -> None:
        """Spark's session catalog refuses V2 appends to its tables: append by name like ``saveAsTable``."""
        from pyspark.sql.connect.readwriter import DataFrameWriter

        writer = DataFrameWriter(self._df, self._spark, self._callback)
        writer.mode("append").options(**self._write.options)
        if self._write.provider:
            writer.format(self._write.provider)
        writer.saveAsTable(self._table_name)

    return append


def _has_frames(kwargs: dict[str, Any]) -> bool:
    return any(type(v).__module__.startswith("pyspark.") for v in kwargs.values())


_CONF_REF = re.compile(r"\$\{(?:(?:spark|sparkconf|hiveconf):)?([A-Za-z_][\w.\-]*)\}")
"""Spark's variable substitution (``${da.paths.working_dir}``), which the server would do after the kit reads the
statement: done first here, so a volume path built from a conf value is a volume path the kit sees."""


def _conf_values(session: Any, sql: str) -> str:
    def value(match: re.Match[str]) -> str:
        try:
            found = session.conf.get(match.group(1), None)
        except Exception:  # noqa: BLE001 - not a conf this session can read: left for Spark
            found = None
        return match.group(0) if found is None else str(found)

    return _CONF_REF.sub(value, sql)


def _wrap_sql(original: Any) -> Any:
    @functools.wraps(original)
    def sql(self: Any, sqlQuery: str, args: Any = None, **kwargs: Any) -> Any:  # noqa: N803 - PySpark's name
        if not isinstance(sqlQuery, str):
            return original(self, sqlQuery, args, **kwargs)
        if "${" in sqlQuery:
            sqlQuery = _conf_values(self, sqlQuery)
        sqlQuery, args = positional_as_named(sqlQuery, args)
        sqlQuery = inlined(self, sqlQuery, args)
        if kwargs and not _has_frames(kwargs):
            from pyspark.sql.connect.sql_formatter import SQLStringFormatter

            sqlQuery, kwargs = SQLStringFormatter(self).format(sqlQuery, **kwargs), {}
        if kwargs:  # DataFrames become views inside the formatter: rewrite names only
            tokens, delta = rewrite_tokens(tokenize(sqlQuery), translate_paths=STATE.translate_paths)
            if delta:
                delta_notice()
            return original(self, join_tokens(tokens), args, **kwargs)
        if "information_schema" in sqlQuery.lower():
            from checkers.runtime.information_schema import substitute

            sqlQuery = substitute(self, sqlQuery)
        plan = rewrite_statement(sqlQuery, translate_paths=STATE.translate_paths)
        if plan.delta:
            delta_notice()
        for statement in plan.before:
            original(self, statement)
        if plan.action is not None:
            return _run_action(self, plan.action)
        return original(self, plan.sql, args)

    return sql


def _run_action(session: Any, action: tuple[str, ...]) -> Any:
    kind = action[0]
    if kind in ("create_volume", "drop_volume"):
        _volume_action(session, kind, action[1], bool(action[2]))
    if kind in ("show_volumes", "describe_volume", "list"):
        from checkers.runtime import volume_sql

        return volume_sql.run(session, action)
    if kind == "show_catalogs":  # the one local catalog, by its Databricks name
        return session.createDataFrame([(CATALOG,)], "catalog STRING")
    if kind == "show_grants":  # one local user, who owns everything: no grants to list
        return session.createDataFrame([], "Principal STRING, ActionType STRING, ObjectType STRING, ObjectKey STRING")
    return session.range(0).select()  # an empty result without columns, like a DDL statement's


def _volume_action(session: Any, kind: str, name: str, guard: bool) -> None:
    from checkers.runtime.volume_sql import qualified

    catalog, schema, volume = qualified(session, name)
    is_local_catalog(catalog, where=f"{kind.replace('_', ' ').upper()} {name}")  # samples, system: a clear error
    target = local_path(posixpath.join("/Volumes", catalog, schema, volume))  # where /Volumes/<catalog>/... looks
    label = f"{catalog}.{schema}.{volume}"
    if kind == "create_volume":
        if not session.catalog.databaseExists(f"{SESSION_CATALOG}.{schema}"):
            raise NotEmulatedError(f"Cannot create volume {label}: schema '{catalog}.{schema}' does not exist.",
                                   hint=f"Create it first: CREATE SCHEMA IF NOT EXISTS {catalog}.{schema}")
        if target.exists() and not guard:
            raise NotEmulatedError(f"Volume {label} already exists ({target}).",
                                   hint="Use CREATE VOLUME IF NOT EXISTS.")
        target.mkdir(parents=True, exist_ok=True)
    else:
        if not target.exists():
            if guard:
                return
            raise NotEmulatedError(f"Volume {label} does not exist.", hint="Use DROP VOLUME IF EXISTS.")
        shutil.rmtree(target)


_CATALOG_METHODS = (
    "setCurrentCatalog", "setCurrentDatabase", "getDatabase", "databaseExists", "listTables", "getTable",
    "listFunctions", "listColumns", "tableExists", "createExternalTable", "createTable", "isCached",
    "cacheTable", "uncacheTable", "refreshTable", "recoverPartitions", "dropTable", "createDatabase",
    "dropDatabase", "listPartitions", "listViews", "getTableProperties", "getCreateTableString",
    "truncateTable", "analyzeTable",
)
_ARG_KINDS = {"tableName": "table", "dbName": "schema", "catalogName": "catalog"}


def _wrap_catalog(original: Any) -> Any:
    signature = inspect.signature(original)

    @functools.wraps(original)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        for key, value in list(bound.arguments.items()):
            if key in _ARG_KINDS and isinstance(value, str):
                bound.arguments[key] = rewrite_name(value, kind=_ARG_KINDS[key], where=f"spark.catalog."
                                                    f"{original.__name__}")
            elif key == "path":
                bound.arguments[key] = translated_path(value)
            elif key == "source" and is_delta(value):
                bound.arguments[key] = LOCAL_FORMAT
                delta_notice()
        return original(*bound.args, **bound.kwargs)

    return method


def _wrap_current_catalog(original: Any) -> Any:
    @functools.wraps(original)
    def current(self: Any) -> str:
        name = original(self)
        return CATALOG if name == SESSION_CATALOG else name

    return current


def _wrap_list_catalogs(original: Any) -> Any:
    @functools.wraps(original)
    def list_catalogs(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        return [c._replace(name=CATALOG) if c.name == SESSION_CATALOG and hasattr(c, "_replace") else c
                for c in result]

    return list_catalogs
