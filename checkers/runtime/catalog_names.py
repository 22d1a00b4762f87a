"""Databricks names as local Spark knows them: pure rewriting of SQL statements and table names.

* ``workspace.<schema>.<table>`` (also ``main``, ``hive_metastore`` and a learner's own catalogs) →
  ``spark_catalog.<schema>.<table>``, and ``workspace.<schema>`` where SQL expects a schema, ``workspace`` where it
  expects a catalog; Databricks' own ``samples`` and ``system`` are a clear error (their contents do not exist here).
* Delta (``USING DELTA``, ``delta.`path```) → the local table format.
* ``/Volumes/...`` and ``dbfs:/...`` in names and string literals → the kit's local folders (when asked to).
* ``CREATE OR REPLACE TABLE`` → drop, then create; ``CREATE VOLUME`` / ``DROP VOLUME`` → folder actions;
  ``OPTIMIZE`` / ``VACUUM`` → no-ops (``COPY INTO`` is the Delta stand-in's: :mod:`.delta.copy_into`).

No Spark is needed here, so all of it is tested on its own; the client patches apply it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from checkers.errors import CheckersError
from checkers.runtime import governance, volume_sql
from checkers.runtime.catalogs import CATALOG, CATALOG_ALIASES, SESSION_CATALOG
from checkers.runtime.sql_tokens import Token, chain_text, join_tokens, name_chains, tokenize
from checkers.runtime.volumes import SampleDatasetsError, is_sample_datasets, is_volume_path, local_path

LOCAL_FORMAT = "parquet"
"""The table format that stands in for Delta (Spark's default data source)."""
DELTA_NOTICE = ("Delta Lake is not available locally: tables and paths written or read as Delta use the local "
                f"{LOCAL_FORMAT} format instead. Query results are the same; the kit keeps each table's history "
                "and emulates MERGE, UPDATE, DELETE, DESCRIBE HISTORY, time travel and the DeltaTable API on top. "
                "See docs/emulation.md#delta-lake.")
DATABRICKS_CATALOGS = frozenset({"samples", "system"})
"""Catalogs Databricks fills with its own data sets and system tables: nothing of them exists locally."""


def other_catalog_notice(catalog: str) -> str:
    """The one-time notice for a learner's own catalog (``CREATE CATALOG dev``): it is the local catalog too."""
    return (f"Catalog '{catalog}' is the one local catalog here, like '{CATALOG}': {catalog}.<schema>.<table> and "
            f"{CATALOG}.<schema>.<table> name the same table locally. See docs/emulation.md#catalogs.")


NOTICE: list[Callable[[str], None]] = []
"""Where the notices of :func:`other_catalog_notice` go (the kernel's one-time notices); empty outside kernels."""


def is_local_catalog(name: str, *, where: str) -> bool:
    """True for a name that is the local catalog; raise for Databricks' own catalogs; False for ``spark_catalog``."""
    lower = name.lower()
    if lower == SESSION_CATALOG:
        return False
    if lower in DATABRICKS_CATALOGS:
        raise UnsupportedCatalogError(name, where=where)
    if lower not in CATALOG_ALIASES:
        for show in NOTICE:
            show(other_catalog_notice(name))
    return True


class UnsupportedCatalogError(CheckersError):
    """Databricks' own ``samples`` or ``system`` catalog: its data sets and system tables do not exist locally."""

    def __init__(self, catalog: str, *, where: str) -> None:
        super().__init__(
            f"Catalog '{catalog}' is not available locally (a Databricks catalog whose data does not exist here; "
            f"in {where}).",
            hint=f"Read the kit's data instead: {CATALOG}.<schema>.<table>, or a file under /Volumes.")
        self.catalog = catalog


class NotEmulatedError(CheckersError):
    """A Databricks-only statement the local runtime does not emulate (e.g. ``DESCRIBE HISTORY``)."""


@dataclass
class Rewrite:
    """How one SQL statement runs locally."""

    sql: str | None
    """The statement for Spark, or None when it is handled here (see ``action``)."""
    before: list[str] = field(default_factory=list)
    """Statements to run first (the ``DROP TABLE`` of an emulated ``CREATE OR REPLACE TABLE``)."""
    action: tuple[str, ...] | None = None
    """Client-side work instead of ``sql``: ``("create_volume", name, if_not_exists)``,
    ``("drop_volume", name, if_exists)``, ``("show_grants",)``, a :mod:`.volume_sql` action or ``("noop",)``."""
    delta: bool = False
    """The statement asked for Delta (show the one-time notice)."""


SCHEMA_ALIASES: dict[str, str] = {}
"""Schema names that stand for another schema here (lower-case name → schema). Empty except in the kernels of a
grading's ``00_widgets`` runs, where the contract's default schema names the grading's own widget schema (see
:mod:`checkers.grading.grade`)."""

_SCHEMA_WORDS = {"SCHEMA", "DATABASE", "NAMESPACE", "USE"}
_TABLE_WORDS = {"FROM", "JOIN", "TABLE", "INTO", "UPDATE", "VIEW", "DESCRIBE", "DESC", "EXTENDED", "FORMATTED",
                "CLONE", "OVERWRITE"}
_SKIP_WORDS = {"IF", "NOT", "EXISTS"}


def _previous_word(tokens: list[Token], index: int) -> str:
    """The keyword before ``index``, skipping ``IF [NOT] EXISTS``; an operator counts as itself."""
    j = index - 1
    while j >= 0:
        token = tokens[j]
        if token.significant:
            if token.kind == "word" and token.upper in _SKIP_WORDS:
                j -= 1
                continue
            return token.upper or token.text
        j -= 1
    return ""


def _head(tokens: list[Token], count: int = 4) -> list[str]:
    return [t.upper or t.text for t in tokens if t.significant][:count]


def _context(tokens: list[Token], start: int, head: list[str]) -> str:
    prev = _previous_word(tokens, start)
    show = head[0] == "SHOW" if head else False
    if prev == "CATALOG" or (show and len(head) > 1 and head[1] in ("SCHEMAS", "DATABASES", "NAMESPACES")
                             and prev in ("IN", "FROM")):
        return "catalog"
    if prev in _SCHEMA_WORDS or (show and len(head) > 1 and head[1] in ("TABLES", "VIEWS", "FUNCTIONS", "TABLE")
                                 and prev in ("IN", "FROM")):
        return "schema"
    if prev in _TABLE_WORDS:
        return "table"
    return ""


def storage_path(path: str) -> str | None:
    """A local path for a ``/Volumes/...`` or ``dbfs:/...`` location, else None (``/databricks-datasets``: a clear
    error, as they do not exist here)."""
    if is_sample_datasets(path):
        raise SampleDatasetsError(path)
    if is_volume_path(path):
        return str(local_path(path))
    if path.startswith("dbfs:/"):
        from checkers.runtime.fs import resolve

        return str(resolve(path)[0])
    return None


def quote_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quote_ident(text: str) -> str:
    return "`" + text.replace("`", "``") + "`"


def set_schema_aliases(aliases: dict[str, str]) -> None:
    """Make each schema name in ``aliases`` stand for its value (see :data:`SCHEMA_ALIASES`)."""
    SCHEMA_ALIASES.clear()
    SCHEMA_ALIASES.update({name.lower(): target for name, target in aliases.items()})


def _schema_position(size: int, ctx: str, has_catalog: bool) -> int | None:
    """Which part of a dotted name of ``size`` parts is the schema, when the context says; else None."""
    if has_catalog:
        return 1 if size >= 3 or (size == 2 and ctx == "schema") else None
    if (size == 2 and ctx == "table") or (size == 1 and ctx == "schema"):
        return 0
    return None


def rewrite_tokens(tokens: list[Token], *, translate_paths: bool, where: str = "SQL") -> tuple[list[Token], bool]:
    """Rewrite names (and paths) in one statement's tokens; returns (tokens, Delta was asked for)."""
    out = list(tokens)
    head = _head(tokens)
    delta = False
    for chain in name_chains(tokens):
        first = tokens[chain[0]]
        name = first.value.lower()
        ctx = _context(tokens, chain[0], head)
        size = len(chain)
        catalog_first = name in (*CATALOG_ALIASES, SESSION_CATALOG) or (ctx == "schema" and size == 2) \
            or (ctx == "table" and size >= 3)
        if SCHEMA_ALIASES:
            at = _schema_position(size, ctx, catalog_first)
            index = chain[at] if at is not None else None
            alias = SCHEMA_ALIASES.get(tokens[index].value.lower()) if index is not None else None
            if index is not None and alias is not None:
                out[index] = Token("qident", quote_ident(alias))
        if name == "delta" and size == 2 and tokens[chain[1]].kind == "qident":
            out[chain[0]] = Token("word", LOCAL_FORMAT)
            delta = True
        elif ((catalog_first and (size >= 3 or ctx == "schema")) or (ctx == "catalog" and size == 1)) \
                and is_local_catalog(first.value, where=where):
            out[chain[0]] = Token("word", SESSION_CATALOG)
        if size == 2 and tokens[chain[1]].kind == "qident" and translate_paths:
            local = storage_path(tokens[chain[1]].value)
            if local is not None:
                out[chain[1]] = Token("qident", quote_ident(local))
    significant = [i for i, t in enumerate(tokens) if t.significant]
    for pos, index in enumerate(significant):
        token = tokens[index]
        if token.upper == "USING" and pos + 1 < len(significant):
            nxt = significant[pos + 1]
            if tokens[nxt].upper == "DELTA":
                out[nxt] = Token("word", LOCAL_FORMAT)
                delta = True
        elif token.kind == "string" and translate_paths and "\\" not in token.value:
            local = storage_path(token.value)
            if local is not None:
                out[index] = Token("string", quote_string(local))
    return out, delta


def _catalog_name(token: Token) -> str:
    return token.value if token.kind in ("qident", "string") else token.text


def rewrite_statement(sql: str, *, translate_paths: bool = False) -> Rewrite:
    """Plan one statement for local Spark (pure: no Spark needed, so it is tested on its own)."""
    tokens = tokenize(sql)
    sig = [i for i, t in enumerate(tokens) if t.significant]
    words = [tokens[i].upper or tokens[i].text for i in sig]

    def at(*expected: str) -> bool:
        return words[:len(expected)] == list(expected)

    if (at("USE", "CATALOG") or at("SET", "CATALOG")) and len(sig) == 3:
        is_local_catalog(_catalog_name(tokens[sig[2]]), where=" ".join(words[:2]))
        return Rewrite(sql=f"SET CATALOG '{SESSION_CATALOG}'")
    if at("CREATE", "CATALOG") or at("DROP", "CATALOG"):
        k = 2
        while k < len(sig) and words[k] in _SKIP_WORDS:
            k += 1
        if k < len(sig):
            is_local_catalog(_catalog_name(tokens[sig[k]]), where=" ".join(words[:2]))
        return Rewrite(sql=None, action=("noop",))
    rule = governance.plan(words)
    if rule is not None:
        return _governance(rule, tokens, sig)
    if at("SHOW", "CATALOGS") and len(words) == 2:
        return Rewrite(sql=None, action=("show_catalogs",))
    volume_action = volume_sql.plan(words, tokens, sig)
    if volume_action is not None:
        return Rewrite(sql=None, action=volume_action)
    auto = next((k for k in range(len(words) - 2) if words[k:k + 3] in (["CLUSTER", "BY", "AUTO"],
                                                                         ["CLUSTER", "BY", "NONE"])), None)
    if auto is not None:  # automatic liquid clustering: nothing to cluster locally
        if words[0] == "ALTER":
            return _governance(governance.Governance(kind="table", at=2), tokens, sig)
        return rewrite_statement(join_tokens(tokens[:sig[auto]] + tokens[sig[auto + 2] + 1:]),
                                 translate_paths=translate_paths)
    volume = _volume_statement(tokens, sig, words)
    if volume is not None:
        return volume
    if words and words[0] in ("OPTIMIZE", "VACUUM"):
        return Rewrite(sql=None, action=("noop",), delta=True)
    if at("DESCRIBE", "HISTORY") or at("DESCRIBE", "DETAIL") or at("DESC", "HISTORY") or at("DESC", "DETAIL") \
            or at("RESTORE"):
        what = " ".join(words[:2]) if words[0] != "RESTORE" else "RESTORE"
        raise NotEmulatedError(f"{what} is a Delta Lake command, and Delta is not available locally.",
                               hint="Run it on Databricks; locally, tables have no versions or history.")
    short = " ".join(sql.split())
    where = f'the SQL statement "{short[:80]}{"…" if len(short) > 80 else ""}"'
    rewritten, delta = rewrite_tokens(tokens, translate_paths=translate_paths, where=where)
    delta = delta or bool(words) and words[0] in ("DESCRIBE", "DESC")
    replace_at = None
    if at("CREATE", "OR", "REPLACE", "TABLE"):
        replace_at = 3
    elif at("REPLACE", "TABLE"):
        replace_at = 1
    if replace_at is not None and len(sig) > replace_at + 1:
        name, _ = chain_text(rewritten, sig[replace_at + 1])
        body = join_tokens(rewritten[sig[replace_at]:])
        return Rewrite(sql=f"CREATE {body}", before=[f"DROP TABLE IF EXISTS {name}"], delta=delta)
    return Rewrite(sql=join_tokens(rewritten), delta=delta)


def _governance(rule: governance.Governance, tokens: list[Token], sig: list[int]) -> Rewrite:
    """Nothing to do locally, but the object named must exist (Spark's own error when it does not)."""
    if rule.show:
        return Rewrite(sql=None, action=("show_grants",))
    before = []
    if rule.kind is not None and rule.at is not None and rule.at < len(sig):
        name, _ = chain_text(tokens, sig[rule.at])
        local = rewrite_name(name, kind=rule.kind, where=f"the statement on {name}")
        before.append(f"DESCRIBE {'TABLE' if rule.kind == 'table' else 'SCHEMA'} {local}")
    return Rewrite(sql=None, before=before, action=("noop",))


def _volume_statement(tokens: list[Token], sig: list[int], words: list[str]) -> Rewrite | None:
    if len(words) < 3 or words[0] not in ("CREATE", "DROP"):
        return None
    k = 1
    if words[0] == "CREATE" and words[1] in ("EXTERNAL", "MANAGED"):
        if words[1] == "EXTERNAL" and words[2] == "VOLUME":
            raise NotEmulatedError("External volumes are not emulated locally.",
                                   hint="Create a managed volume (CREATE VOLUME <catalog>.<schema>.<name>) and "
                                        "copy files in with `day07 volumes cp`.")
        k = 2
    if words[k] != "VOLUME":
        return None
    k += 1
    guard = False
    while k < len(words) and words[k] in _SKIP_WORDS:
        guard = True
        k += 1
    if k >= len(words):
        return None
    rewritten, _ = rewrite_tokens(tokens, translate_paths=False, where=f"{words[0]} VOLUME")
    name, _ = chain_text(rewritten, sig[k])
    return Rewrite(sql=None, action=(f"{words[0].lower()}_volume", name, "1" if guard else ""))


def rewrite_name(name: str, *, kind: str = "table", where: str = "the DataFrame API") -> str:
    """A table (``kind="table"``), schema or catalog name as local Spark knows it.

    ``workspace.s.t`` (or any learner's catalog) → ``spark_catalog.s.t``; ``samples`` and ``system`` raise
    :class:`UnsupportedCatalogError`; names without a catalog are unchanged.
    """
    if not isinstance(name, str):
        return name
    tokens = tokenize(name)
    sig = [t for t in tokens if t.significant]
    chains = name_chains([t for t in tokens if t.significant])
    if len(chains) != 1 or len(chains[0]) * 2 - 1 != len(sig):
        return name  # not a plain dotted name: leave it to Spark's own error
    parts = [sig[i] for i in chains[0]]
    size = {"table": 3, "schema": 2, "catalog": 1}[kind]
    texts = [p.text for p in parts]
    has_catalog = len(parts) >= size
    if has_catalog and is_local_catalog(parts[0].value, where=where):
        texts[0] = SESSION_CATALOG
    at = _schema_position(len(parts), kind, has_catalog)  # the kinds are the SQL contexts' names
    alias = SCHEMA_ALIASES.get(parts[at].value.lower()) if at is not None and SCHEMA_ALIASES else None
    if alias is not None:
        texts[at] = quote_ident(alias)  # type: ignore[index]
    return ".".join(texts) if texts != [p.text for p in parts] else name
