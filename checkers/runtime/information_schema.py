"""Unity Catalog's ``information_schema`` on local Spark: ``tables``, ``columns``, ``schemata`` and ``views``.

Notebooks check their work with ``SELECT table_name FROM information_schema.tables WHERE table_schema = 'day07'``.
Spark's session catalog has no such schema, so each view a statement names becomes a temporary view built from
``spark.catalog`` just before the statement runs, with Unity Catalog's columns (the ones a notebook filters on).
"""

from __future__ import annotations

from typing import Any

from checkers.runtime.catalog_names import CATALOG, is_local_catalog, quote_ident
from checkers.runtime.notebook_context import local_user
from checkers.runtime.sql_tokens import Token, join_tokens, name_chains, tokenize

SCHEMA = "information_schema"
VIEWS = {
    "schemata": "catalog_name STRING, schema_name STRING, schema_owner STRING, comment STRING",
    "tables": "table_catalog STRING, table_schema STRING, table_name STRING, table_type STRING, "
              "is_insertable_into STRING, table_owner STRING, comment STRING, data_source_format STRING",
    "columns": "table_catalog STRING, table_schema STRING, table_name STRING, column_name STRING, "
               "ordinal_position INT, is_nullable STRING, full_data_type STRING, data_type STRING, comment STRING",
    "views": "table_catalog STRING, table_schema STRING, table_name STRING, view_definition STRING, "
             "is_updatable STRING, is_insertable_into STRING",
}
"""The views the kit provides, with the columns Unity Catalog documents for them (the usual subset)."""
_HIDDEN = "__day07"


def references(sql: str) -> tuple[list[Token], list[tuple[int, int, str]]]:
    """The statement's tokens and each ``[catalog.]information_schema.<view>`` in it: (first, last, view)."""
    tokens = tokenize(sql)
    found = []
    for chain in name_chains(tokens):
        parts = [tokens[i].value for i in chain]
        if len(parts) not in (2, 3) or parts[-2].lower() != SCHEMA or parts[-1].lower() not in VIEWS:
            continue
        if len(parts) == 3 and parts[0].lower() != "system":
            is_local_catalog(parts[0], where=f"{parts[0]}.{SCHEMA}")
        found.append((chain[0], chain[-1], parts[-1].lower()))
    return tokens, found


def substitute(session: Any, sql: str) -> str:
    """``sql`` with each information_schema view it names replaced by a fresh temporary view of the catalog."""
    tokens, found = references(sql)
    if not found:
        return sql
    made: dict[str, str] = {}
    out, last = [], 0
    for first, end, view in found:
        if view not in made:
            made[view] = f"__day07_information_schema_{view}"
            session.createDataFrame(_rows(session, view), VIEWS[view]).createOrReplaceTempView(made[view])
        out.extend(tokens[last:first])
        out.append(Token("qident", quote_ident(made[view])))
        last = end + 1
    out.extend(tokens[last:])
    return join_tokens(out)


def _rows(session: Any, view: str) -> list[tuple[Any, ...]]:
    owner = local_user()
    catalog = session.catalog
    schemas = sorted(db.name for db in catalog.listDatabases() if not db.name.startswith(_HIDDEN))
    if view == "schemata":
        return [(CATALOG, name, owner, None) for name in [*schemas, SCHEMA]]
    rows: list[tuple[Any, ...]] = []
    for schema in schemas:
        for table in catalog.listTables(dbName=schema):
            if table.isTemporary or table.name.startswith(_HIDDEN):
                continue
            is_view = (table.tableType or "").upper() == "VIEW"
            if view == "tables":
                rows.append((CATALOG, schema, table.name, "VIEW" if is_view else "MANAGED", "NO" if is_view else
                             "YES", owner, table.description, None if is_view else "DELTA"))
            elif view == "views" and is_view:
                rows.append((CATALOG, schema, table.name, None, "NO", "NO"))
            elif view == "columns":
                columns = catalog.listColumns(f"{quote_ident(schema)}.{quote_ident(table.name)}")
                for position, column in enumerate(columns):
                    kind = column.dataType
                    rows.append((CATALOG, schema, table.name, column.name, position,
                                 "YES" if column.nullable else "NO", kind, kind.split("(")[0].split("<")[0].upper(),
                                 column.description))
    return rows

