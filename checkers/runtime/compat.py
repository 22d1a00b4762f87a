"""Databricks names on plain local Spark: Delta, Unity Catalog's ``workspace`` catalog and volume paths.

Why client-side: Spark can only add a catalog named ``workspace`` that delegates to the session catalog through
a compiled ``DelegatingCatalogExtension`` subclass (the class is abstract) and the kit ships no jars. So the
kernel rewrites names before they reach the server, with a quote-aware SQL tokenizer that never changes string
literals or comments (except volume paths inside string literals, which are file locations, not names):

* ``workspace.<schema>.<table>`` → ``spark_catalog.<schema>.<table>`` (and ``workspace.<schema>`` where SQL
  expects a schema, ``workspace`` where it expects a catalog); any other catalog is a clear error.
* Delta (``format("delta")``, ``USING DELTA``, ``delta.`path```) → the local table format, with one notice.
* ``/Volumes/...`` and ``dbfs:/...`` → the kit's local folders (only when Spark is the kit's own server,
  which shares this machine's disk).
* ``CREATE OR REPLACE TABLE`` / ``writeTo().createOrReplace()`` → drop, then create (Spark's session catalog
  cannot replace tables); ``CREATE VOLUME`` / ``DROP VOLUME`` → folders; ``OPTIMIZE`` / ``VACUUM`` → no-ops.
* On top of these patches, :mod:`checkers.runtime.delta` emulates Delta (history, ``MERGE``, time travel, the
  ``DeltaTable`` API, overwriting a table a query reads) and :mod:`checkers.runtime.errors_display` gives Spark
  errors Databricks' shape; :func:`install` installs both.

:func:`install` patches the Spark Connect client classes once per kernel; the rewriting functions are pure.
"""

from __future__ import annotations

import functools
import inspect
import posixpath
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from checkers.errors import CheckersError
from checkers.runtime.volumes import is_volume_path, local_path

CATALOG = "workspace"
"""The Unity Catalog catalog emulated locally (Free Edition's default)."""
CATALOG_ALIASES = frozenset({CATALOG, "main", "hive_metastore"})
"""Catalogs a participant's notebook names that are the one local catalog here: Free Edition's ``workspace``, a Unity
Catalog workspace's usual default ``main``, and the legacy ``hive_metastore`` of older workspaces."""
SESSION_CATALOG = "spark_catalog"
"""Spark's built-in catalog, where the local tables live."""
LOCAL_FORMAT = "parquet"
"""The table format that stands in for Delta (Spark's default data source)."""
DELTA_NOTICE = ("Delta Lake is not available locally: tables and paths written or read as Delta use the local "
                f"{LOCAL_FORMAT} format instead. Query results are the same; the kit keeps each table's history "
                "and emulates MERGE, UPDATE, DELETE, DESCRIBE HISTORY, time travel and the DeltaTable API on top. "
                "See docs/emulation.md#delta-lake.")
_PATH_OPTIONS = ("path", "checkpointLocation")
_KNOWN_DATABRICKS_CATALOGS = ("samples", "system")


class UnsupportedCatalogError(CheckersError):
    """A Unity Catalog catalog other than ``workspace`` (only that one exists locally)."""

    def __init__(self, catalog: str, *, where: str) -> None:
        known = " (a Databricks catalog that does not exist here)" if catalog.lower() in _KNOWN_DATABRICKS_CATALOGS \
            else ""
        super().__init__(
            f"Catalog '{catalog}' is not available locally{known}: the Day 07 kit emulates only the "
            f"'{CATALOG}' catalog, also known here as main and hive_metastore (in {where}).",
            hint=f"Use {CATALOG}.<schema>.<table>, or <schema>.<table> without a catalog.")
        self.catalog = catalog


class NotEmulatedError(CheckersError):
    """A Databricks-only statement the local runtime does not emulate (e.g. ``DESCRIBE HISTORY``)."""


# --- tokenizer -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Token:
    """One lexical piece of SQL text; joining every token's ``text`` gives the input back."""

    kind: str
    """``ws``, ``comment``, ``string``, ``qident`` (backquoted), ``word`` (identifier, keyword, number), ``op``."""
    text: str
    """The exact source text."""

    @property
    def significant(self) -> bool:
        return self.kind not in ("ws", "comment")

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""

    @property
    def value(self) -> str:
        """An identifier's name (backquotes removed) or a string literal's content."""
        if self.kind == "qident":
            return self.text[1:-1].replace("``", "`")
        if self.kind == "string":
            return self.text[1:-1]
        return self.text


def tokenize(sql: str) -> list[Token]:
    """Split SQL into tokens: strings (``'…'``, ``"…"``, raw ``r'…'``), backquoted names, ``--`` and nested
    ``/* */`` comments, words and single-character operators."""
    tokens: list[Token] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c.isspace():
            j = i
            while j < n and sql[j].isspace():
                j += 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
        elif sql.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if sql.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif sql.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
        elif c in "'\"":
            raw = bool(tokens) and tokens[-1].kind == "word" and tokens[-1].text in ("r", "R")
            j = i + 1
            while j < n and sql[j] != c:
                j += 2 if sql[j] == "\\" and not raw else 1
            j = min(j + 1, n)
            tokens.append(Token("string", sql[i:j]))
            i = j
            continue
        elif c == "`":
            j = i + 1
            while j < n:
                if sql[j] == "`":
                    if sql.startswith("``", j):
                        j += 2
                        continue
                    break
                j += 1
            j = min(j + 1, n)
            tokens.append(Token("qident", sql[i:j]))
            i = j
            continue
        elif c.isalnum() or c == "_":
            j = i
            while j < n and (sql[j].isalnum() or sql[j] == "_"):
                j += 1
            tokens.append(Token("word", sql[i:j]))
            i = j
            continue
        else:
            tokens.append(Token("op", c))
            i += 1
            continue
        tokens.append(Token("comment" if not c.isspace() else "ws", sql[i:j]))
        i = j
    return tokens


def split_statements(sql: str) -> list[str]:
    """Statements separated by ``;`` outside strings, names and comments; empty ones are dropped."""
    statements: list[str] = []
    current: list[Token] = []
    for token in [*tokenize(sql), Token("op", ";")]:
        if token.kind == "op" and token.text == ";":
            if any(t.significant for t in current):
                statements.append("".join(t.text for t in current).strip())
            current = []
        else:
            current.append(token)
    return statements


# --- rewriting ---------------------------------------------------------------------------------------------

@dataclass
class Rewrite:
    """How one SQL statement runs locally."""

    sql: str | None
    """The statement for Spark, or None when it is handled here (see ``action``)."""
    before: list[str] = field(default_factory=list)
    """Statements to run first (the ``DROP TABLE`` of an emulated ``CREATE OR REPLACE TABLE``)."""
    action: tuple[str, ...] | None = None
    """Client-side work instead of ``sql``: ``("create_volume", name, if_not_exists)``,
    ``("drop_volume", name, if_exists)`` or ``("noop",)``."""
    delta: bool = False
    """The statement asked for Delta (show the one-time notice)."""


_SCHEMA_WORDS = {"SCHEMA", "DATABASE", "NAMESPACE", "USE"}
_TABLE_WORDS = {"FROM", "JOIN", "TABLE", "INTO", "UPDATE", "VIEW", "DESCRIBE", "DESC", "EXTENDED", "FORMATTED",
                "CLONE"}
_SKIP_WORDS = {"IF", "NOT", "EXISTS"}


def _chains(tokens: list[Token]) -> list[list[int]]:
    """Indexes of the name tokens of each dotted identifier chain (``a.b.c`` → three indexes)."""
    chains: list[list[int]] = []
    i = 0
    while i < len(tokens):
        if tokens[i].kind in ("word", "qident") and not (i and tokens[i - 1].text == "." and
                                                          tokens[i - 1].kind == "op"):
            chain = [i]
            while (i + 2 < len(tokens) and tokens[i + 1].kind == "op" and tokens[i + 1].text == "."
                   and tokens[i + 2].kind in ("word", "qident")):
                i += 2
                chain.append(i)
            chains.append(chain)
        i += 1
    return chains


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


def _storage_path(path: str) -> str | None:
    """A local path for a ``/Volumes/...`` or ``dbfs:/...`` location, else None."""
    if is_volume_path(path):
        return str(local_path(path))
    if path.startswith("dbfs:/"):
        from checkers.runtime.fs import resolve

        return str(resolve(path)[0])
    return None


def _quote_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _quote_ident(text: str) -> str:
    return "`" + text.replace("`", "``") + "`"


def rewrite_tokens(tokens: list[Token], *, translate_paths: bool, where: str = "SQL") -> tuple[list[Token], bool]:
    """Rewrite names (and paths) in one statement's tokens; returns (tokens, Delta was asked for)."""
    out = list(tokens)
    head = _head(tokens)
    delta = False
    for chain in _chains(tokens):
        first = tokens[chain[0]]
        name = first.value.lower()
        ctx = _context(tokens, chain[0], head)
        size = len(chain)
        if name in CATALOG_ALIASES:
            if size >= 3 or (size == 2 and ctx == "schema") or (size == 1 and ctx == "catalog"):
                out[chain[0]] = Token("word", SESSION_CATALOG)
        elif name == "delta" and size == 2 and tokens[chain[1]].kind == "qident":
            out[chain[0]] = Token("word", LOCAL_FORMAT)
            delta = True
        elif name != SESSION_CATALOG and ((ctx == "catalog" and size == 1) or (ctx == "schema" and size == 2)
                                          or (ctx == "table" and size >= 3)):
            raise UnsupportedCatalogError(first.value, where=where)
        if size == 2 and tokens[chain[1]].kind == "qident" and translate_paths:
            local = _storage_path(tokens[chain[1]].value)
            if local is not None:
                out[chain[1]] = Token("qident", _quote_ident(local))
    significant = [i for i, t in enumerate(tokens) if t.significant]
    for pos, index in enumerate(significant):
        token = tokens[index]
        if token.upper == "USING" and pos + 1 < len(significant):
            nxt = significant[pos + 1]
            if tokens[nxt].upper == "DELTA":
                out[nxt] = Token("word", LOCAL_FORMAT)
                delta = True
        elif token.kind == "string" and translate_paths and "\\" not in token.value:
            local = _storage_path(token.value)
            if local is not None:
                out[index] = Token("string", _quote_string(local))
    return out, delta


def _join(tokens: list[Token]) -> str:
    return "".join(t.text for t in tokens)


def _chain_text(tokens: list[Token], start: int) -> tuple[str, int]:
    """The dotted name starting at ``start`` and the index after it."""
    for chain in _chains(tokens):
        if chain[0] == start:
            return _join(tokens[chain[0]:chain[-1] + 1]), chain[-1] + 1
    return tokens[start].text, start + 1


def _catalog_name(token: Token) -> str:
    return token.value if token.kind in ("qident", "string") else token.text


def rewrite_statement(sql: str, *, translate_paths: bool = False) -> Rewrite:
    """Plan one statement for local Spark (pure: no Spark needed, so it is tested on its own)."""
    tokens = tokenize(sql)
    sig = [i for i, t in enumerate(tokens) if t.significant]
    words = [tokens[i].upper or tokens[i].text for i in sig]

    def at(*expected: str) -> bool:
        return words[:len(expected)] == list(expected)

    if (at("USE", "CATALOG") or at("SET", "CATALOG")) and len(sig) >= 3:
        name = _catalog_name(tokens[sig[2]])
        if name.lower() not in (*CATALOG_ALIASES, SESSION_CATALOG) or len(sig) > 3:
            raise UnsupportedCatalogError(name, where=" ".join(words[:2]))
        return Rewrite(sql=f"SET CATALOG '{SESSION_CATALOG}'")
    if at("CREATE", "CATALOG"):
        name = _catalog_name(tokens[sig[-1]])
        if name.lower() not in CATALOG_ALIASES:
            raise UnsupportedCatalogError(name, where="CREATE CATALOG")
        return Rewrite(sql=None, action=("noop",))
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
        name, _ = _chain_text(rewritten, sig[replace_at + 1])
        body = _join(rewritten[sig[replace_at]:])
        return Rewrite(sql=f"CREATE {body}", before=[f"DROP TABLE IF EXISTS {name}"], delta=delta)
    return Rewrite(sql=_join(rewritten), delta=delta)


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
    name, _ = _chain_text(rewritten, sig[k])
    return Rewrite(sql=None, action=(f"{words[0].lower()}_volume", name, "1" if guard else ""))


def rewrite_name(name: str, *, kind: str = "table", where: str = "the DataFrame API") -> str:
    """A table (``kind="table"``), schema or catalog name as local Spark knows it.

    ``workspace.s.t`` → ``spark_catalog.s.t``; other catalogs raise :class:`UnsupportedCatalogError`;
    names without a catalog are unchanged.
    """
    if not isinstance(name, str):
        return name
    tokens = tokenize(name)
    sig = [t for t in tokens if t.significant]
    chains = _chains([t for t in tokens if t.significant])
    if len(chains) != 1 or len(chains[0]) * 2 - 1 != len(sig):
        return name  # not a plain dotted name: leave it to Spark's own error
    parts = [sig[i] for i in chains[0]]
    size = {"table": 3, "schema": 2, "catalog": 1}[kind]
    if len(parts) < size:
        return name
    first = parts[0].value
    if first.lower() in CATALOG_ALIASES:
        return ".".join([SESSION_CATALOG] + [p.text for p in parts[1:]])
    if first.lower() == SESSION_CATALOG:
        return name
    raise UnsupportedCatalogError(first, where=where)


# --- patches on the Spark Connect client -----------------------------------------------------------------

def is_kit_server(url: str) -> bool:
    """True when ``url`` is the kit's own local server (loopback, the port in its state file).

    Only that server shares this machine's disk, so only there may ``/Volumes`` become a local path.
    """
    import json
    import os
    from urllib.parse import urlsplit

    from checkers.config import settings

    if not url.startswith("sc://"):
        return False
    if os.environ.get("DAY07_KIT_SERVER") == "1" and url == os.environ.get("SPARK_REMOTE"):
        return True  # the runner said so (a sandboxed kernel cannot read the kit home's server state)
    try:
        parts = urlsplit("//" + url[len("sc://"):].split("/", 1)[0].split(";", 1)[0])
        host, port = parts.hostname, parts.port
        state = json.loads((settings().spark_dir / "server.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return host in ("localhost", "127.0.0.1", "::1") and port is not None and port == state.get("port")


@dataclass
class _State:
    notice: Callable[[str], None] | None = None
    translate_paths: bool = False
    originals: dict[tuple[Any, str], Any] = field(default_factory=dict)


_STATE = _State()


def _delta_notice() -> None:
    if _STATE.notice is not None:
        _STATE.notice(DELTA_NOTICE)


def _is_delta(fmt: Any) -> bool:
    return isinstance(fmt, str) and fmt.strip().lower() == "delta"


def _path(value: Any) -> Any:
    if _STATE.translate_paths and isinstance(value, str):
        local = _storage_path(value)
        if local is not None:
            return local
    return value


def _fix_options(options: dict[str, Any]) -> None:
    for key in list(options):
        if key in _PATH_OPTIONS or key.lower() in ("path", "checkpointlocation"):
            options[key] = _path(options[key])


def _patch(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
    key = (owner, name)
    if key in _STATE.originals:
        return
    original = owner.__dict__[name]
    _STATE.originals[key] = original
    setattr(owner, name, make(original))


def installed() -> bool:
    """True once :func:`install` patched the client."""
    return bool(_STATE.originals)


def install(*, notice: Callable[[str], None] | None = None, translate_paths: bool = False) -> None:
    """Patch the Spark Connect client classes (once; a second call only updates the settings).

    ``notice`` shows a one-time notice (the kernel passes one backed by ``dbutils.notice``);
    ``translate_paths`` maps ``/Volumes`` and ``dbfs:/`` paths, for the kit's own local server only.
    """
    _STATE.notice = notice
    _STATE.translate_paths = translate_paths
    if installed():
        _install_delta(notice, translate_paths)
        return
    from pyspark.sql.connect import plan
    from pyspark.sql.connect.catalog import Catalog
    from pyspark.sql.connect.readwriter import DataFrameReader, DataFrameWriterV2
    from pyspark.sql.connect.session import SparkSession
    from pyspark.sql.connect.streaming.readwriter import DataStreamReader, DataStreamWriter

    _patch(plan.DataSource, "plan", _wrap_data_source)
    _patch(plan.Read, "plan", _wrap_read)
    _patch(plan.WriteOperation, "command", _wrap_write)
    _patch(plan.WriteOperationV2, "command", _wrap_write_v2)
    _patch(DataFrameReader, "table", _wrap_reader_table)
    _patch(DataStreamReader, "table", _wrap_reader_table)
    _patch(DataStreamReader, "load", _wrap_stream_load)
    _patch(DataStreamWriter, "toTable", _wrap_stream_to_table)
    _patch(DataStreamWriter, "format", _wrap_stream_format)
    _patch(DataStreamWriter, "_start_internal", _wrap_stream_start)
    _patch(DataFrameWriterV2, "createOrReplace", _wrap_v2_replace)
    _patch(DataFrameWriterV2, "replace", _wrap_v2_replace)
    _patch(DataFrameWriterV2, "append", _wrap_v2_append)
    _patch(SparkSession, "sql", _wrap_sql)
    for method in _CATALOG_METHODS:
        if method in Catalog.__dict__:
            _patch(Catalog, method, _wrap_catalog)
    _patch(Catalog, "currentCatalog", _wrap_current_catalog)
    _patch(Catalog, "listCatalogs", _wrap_list_catalogs)
    _install_delta(notice, translate_paths)


def _install_delta(notice: Callable[[str], None] | None, translate_paths: bool) -> None:
    """The Delta emulation and Databricks-shaped errors, layered on these patches (so installed after them)."""
    from checkers.runtime import errors_display
    from checkers.runtime.delta import hooks
    from checkers.runtime.volumes import pickle_open_as

    errors_display.install()
    hooks.install(notice=notice, local_disk=translate_paths)
    pickle_open_as(kit_server=translate_paths)


def uninstall() -> None:
    """Undo :func:`install` (tests)."""
    from checkers.runtime import errors_display
    from checkers.runtime.delta import hooks

    hooks.uninstall()
    errors_display.uninstall()
    for (owner, name), original in _STATE.originals.items():
        setattr(owner, name, original)
    _STATE.originals.clear()
    _STATE.notice = None
    _STATE.translate_paths = False


AUTO_LOADER_NOTICE = ("Auto Loader (cloudFiles) is not available locally: the kit reads the folder as a plain "
                      "file stream of cloudFiles.format, with the schema inferred from the files there now. "
                      "See docs/emulation.md#auto-loader.")


def _auto_loader(source: Any, session: Any) -> None:
    """``format("cloudFiles")`` → a file stream of ``cloudFiles.format``, schema inferred once from the files there
    (Auto Loader's default: every column a string unless ``cloudFiles.inferColumnTypes`` is true)."""
    options = dict(source._options or {})
    fmt = next((v for k, v in options.items() if k.lower() == "cloudfiles.format"), None)
    if not fmt:
        raise NotEmulatedError("Auto Loader needs the files' format: .option(\"cloudFiles.format\", \"csv\").",
                               hint="Add the cloudFiles.format option, as Databricks also requires.")
    infer = next((v for k, v in options.items() if k.lower() == "cloudfiles.infercolumntypes"), "false")
    kept = {k: v for k, v in options.items() if not k.lower().startswith("cloudfiles.")}
    if str(infer).lower() == "true":
        kept.setdefault("inferSchema", "true")
    source._format, source._options = fmt, kept
    if not source._schema and source._paths:
        source._schema = session.read.format(fmt).options(**kept).load(source._paths).schema.json()
    if _STATE.notice is not None:
        _STATE.notice(AUTO_LOADER_NOTICE)


def _wrap_data_source(original: Any) -> Any:
    @functools.wraps(original)
    def plan(self: Any, session: Any) -> Any:
        if _is_delta(self._format):
            self._format = LOCAL_FORMAT
            _delta_notice()
        if self._paths is not None:
            self._paths = [_path(p) for p in self._paths]
        if self._options:
            _fix_options(self._options)
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
        if _is_delta(self.source):
            self.source = LOCAL_FORMAT
            _delta_notice()
        self.path = _path(self.path)
        if self.table_name is not None:
            self.table_name = rewrite_name(self.table_name)
        _fix_options(self.options)
        return original(self, session)

    return command


def _wrap_write_v2(original: Any) -> Any:
    @functools.wraps(original)
    def command(self: Any, session: Any) -> Any:
        if _is_delta(self.provider):
            self.provider = LOCAL_FORMAT
            _delta_notice()
        if self.table_name is not None:
            self.table_name = rewrite_name(self.table_name)
        _fix_options(self.options)
        return original(self, session)

    return command


def _wrap_reader_table(original: Any) -> Any:
    @functools.wraps(original)
    def table(self: Any, tableName: str) -> Any:  # noqa: N803 - PySpark's name
        return original(self, rewrite_name(tableName))

    return table


def _wrap_stream_load(original: Any) -> Any:
    @functools.wraps(original)
    def load(self: Any, *args: Any, **kwargs: Any) -> Any:
        frame = original(self, *args, **kwargs)
        source = frame._plan
        if isinstance(source._format, str) and source._format.strip().lower() == "cloudfiles":
            _auto_loader(source, self._client)
        return frame

    return load


def _wrap_stream_format(original: Any) -> Any:
    @functools.wraps(original)
    def format(self: Any, source: str) -> Any:  # noqa: A001 - PySpark's name
        if _is_delta(source):
            _delta_notice()
            return original(self, LOCAL_FORMAT)
        return original(self, source)

    return format


def _wrap_stream_start(original: Any) -> Any:
    @functools.wraps(original)
    def start(self: Any, path: str | None = None, tableName: str | None = None,  # noqa: N803 - PySpark's name
              format: str | None = None, outputMode: str | None = None,  # noqa: A002, N803 - PySpark's names
              partitionBy: Any = None, queryName: str | None = None, **options: Any) -> Any:  # noqa: N803
        """A stream's sink path and checkpoint in ``/Volumes`` or ``dbfs:/`` land in the kit home, like a batch
        write's; before, Spark took ``/Volumes/...`` as a folder at the root of this machine."""
        self.options(**options)
        for key in list(self._write_proto.options):
            if key.lower() in ("path", "checkpointlocation"):
                self._write_proto.options[key] = _path(self._write_proto.options[key])
        if _is_delta(format):
            format = LOCAL_FORMAT  # noqa: A001 - PySpark's name
            _delta_notice()
        return original(self, path=_path(path) if path else path, tableName=tableName, format=format,
                        outputMode=outputMode, partitionBy=partitionBy, queryName=queryName)

    return start


def _wrap_stream_to_table(original: Any) -> Any:
    @functools.wraps(original)
    def to_table(self: Any, tableName: str, *args: Any, **kwargs: Any) -> Any:  # noqa: N803 - PySpark's name
        return original(self, rewrite_name(tableName), *args, **kwargs)  # a Delta format: see _wrap_stream_start

    return to_table


def _wrap_v2_replace(original: Any) -> Any:
    @functools.wraps(original)
    def replace(self: Any) -> None:
        """Spark's session catalog cannot replace a table: drop it, then create it."""
        _original_sql(self._spark)(f"DROP TABLE IF EXISTS {rewrite_name(self._table_name)}")
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


def _original_sql(session: Any) -> Callable[..., Any]:
    from pyspark.sql.connect.session import SparkSession

    original = _STATE.originals.get((SparkSession, "sql"), SparkSession.sql)
    return functools.partial(original, session)


def _has_frames(kwargs: dict[str, Any]) -> bool:
    return any(type(v).__module__.startswith("pyspark.") for v in kwargs.values())


def _wrap_sql(original: Any) -> Any:
    @functools.wraps(original)
    def sql(self: Any, sqlQuery: str, args: Any = None, **kwargs: Any) -> Any:  # noqa: N803 - PySpark's name
        if not isinstance(sqlQuery, str):
            return original(self, sqlQuery, args, **kwargs)
        if kwargs and not _has_frames(kwargs):
            from pyspark.sql.connect.sql_formatter import SQLStringFormatter

            sqlQuery, kwargs = SQLStringFormatter(self).format(sqlQuery, **kwargs), {}
        if kwargs:  # DataFrames become views inside the formatter: rewrite names only
            tokens, delta = rewrite_tokens(tokenize(sqlQuery), translate_paths=_STATE.translate_paths)
            if delta:
                _delta_notice()
            return original(self, _join(tokens), args, **kwargs)
        plan = rewrite_statement(sqlQuery, translate_paths=_STATE.translate_paths)
        if plan.delta:
            _delta_notice()
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
    return session.range(0).select()  # an empty result without columns, like a DDL statement's


def _volume_action(session: Any, kind: str, name: str, guard: bool) -> None:
    parts = [t.value for t in tokenize(name) if t.kind in ("word", "qident")]
    if len(parts) > 3 or not parts:
        raise NotEmulatedError(f"'{name}' is not a volume name.", hint="Write <catalog>.<schema>.<volume>.")
    if len(parts) == 3:
        catalog = parts[0] if parts[0].lower() != SESSION_CATALOG else CATALOG
        if catalog.lower() != CATALOG:
            raise UnsupportedCatalogError(parts[0], where=f"{kind.replace('_', ' ').upper()} {name}")
        parts = parts[1:]
    schema = parts[0] if len(parts) == 2 else session.catalog.currentDatabase()
    volume = parts[-1]
    target = local_path(posixpath.join("/Volumes", CATALOG, schema, volume))
    label = f"{CATALOG}.{schema}.{volume}"
    if kind == "create_volume":
        if not session.catalog.databaseExists(f"{SESSION_CATALOG}.{schema}"):
            raise NotEmulatedError(f"Cannot create volume {label}: schema '{CATALOG}.{schema}' does not exist.",
                                   hint=f"Create it first: CREATE SCHEMA IF NOT EXISTS {CATALOG}.{schema}")
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
                bound.arguments[key] = _path(value)
            elif key == "source" and _is_delta(value):
                bound.arguments[key] = LOCAL_FORMAT
                _delta_notice()
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


def sync_volume_schemas(session: Any) -> list[str]:
    """Create the schema of every local volume folder (``volumes/workspace/<schema>/<volume>``) if missing.

    On Databricks a volume lives in a schema, so ``/Volumes/workspace/ecommerce/...`` existing means
    ``workspace.ecommerce`` exists: a notebook may write ``workspace.ecommerce.bronze_events`` at once.
    """
    from checkers.config import settings

    root = settings().volumes_dir / CATALOG
    schemas = sorted(p.name for p in root.iterdir() if p.is_dir() and any(c.is_dir() for c in p.iterdir())) \
        if root.is_dir() else []
    run = _original_sql(session)
    for schema in schemas:
        run(f"CREATE SCHEMA IF NOT EXISTS {SESSION_CATALOG}.{_quote_ident(schema)}")
    return schemas
