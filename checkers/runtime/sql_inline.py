"""Databricks SQL that local Spark lacks, or that the kit's own rewriting must see through, made plain first.

* ``IDENTIFIER(<constant>)`` → the name it builds: ``IDENTIFIER(:schema || '.bronze_events')`` →
  ``day07.bronze_events``. Spark knows the clause, but the kit reads table names out of statements
  (``CREATE OR REPLACE TABLE``, Delta's history, catalog aliases), and it can only read a name written out.
* ``read_files(path, option => value, ...)`` → a file relation with options (``csv.`path` WITH (...)``), the way
  Databricks SQL reads a raw file. ``read_files`` is Databricks-only; the relation keeps ``_metadata``.

Only constants are inlined: string and number literals, ``true``/``false``, named parameter markers (``:name``, from
the statement's arguments) and ``||`` between them. Anything else is left for Spark to explain.
Pure: no Spark here, except the one callback that learns a file's columns when ``read_files`` is given a schema.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from typing import Any

from checkers.errors import CheckersError
from checkers.runtime.catalog_names import quote_ident, quote_string
from checkers.runtime.sql_tokens import Token, join_tokens, tokenize

RESCUED_COLUMN = "_rescued_data"
"""The column ``read_files`` adds when it infers the schema (null when a row parsed cleanly)."""
READ_FILES_FORMATS = {"csv": "csv", "tsv": "csv", "json": "json", "jsonl": "json", "parquet": "parquet",
                      "orc": "orc", "txt": "text", "text": "text", "avro": "avro", "xml": "xml"}
"""Formats local Spark reads, by ``format =>`` value or file extension."""
_OPTION_NAMES = {"infercolumntypes": "inferSchema", "delimiter": "sep"}
"""read_files option names that Spark's file sources spell differently."""
_DROPPED_OPTIONS = {"format", "schema", "schemahints", "schemaevolutionmode", "rescueddatacolumn", "usestrictglobber",
                    "schemalocation"}
_SIMPLE_NAME = re.compile(r"[A-Za-z_]\w*")
_QUICK = re.compile(r"identifier\s*\(|read_files\s*\(", re.IGNORECASE)


class ReadFilesError(CheckersError):
    """A ``read_files`` call the local runtime cannot turn into a file read (say which option, and why)."""


class _NotConstant(Exception):
    """An expression that is not a constant this module can evaluate."""


def positional_as_named(sql: str, args: Any) -> tuple[str, Any]:
    """``?`` markers with a list of values → ``:__day07_p<n>`` markers with a mapping (the same statement), so that
    ``IDENTIFIER(?)`` is written out like ``IDENTIFIER(:name)``. Anything else is returned unchanged."""
    if not isinstance(sql, str) or not isinstance(args, list | tuple) or "?" not in sql or "IDENTIFIER" not in \
            sql.upper():
        return sql, args
    tokens = tokenize(sql)
    markers = [i for i, t in enumerate(tokens) if t.kind == "op" and t.text == "?"]
    if len(markers) != len(args):
        return sql, args  # Spark's own error about the count says it best
    named = {}
    for n, i in enumerate(markers):
        tokens[i] = Token("word", f":__day07_p{n}")
        named[f"__day07_p{n}"] = args[n]
    return join_tokens(tokens), named


def inline_sql(sql: str, args: Any = None, *, translate: Callable[[str], str | None] | None = None,
               columns_of: Callable[[str], list[str]] | None = None) -> str:
    """``sql`` with ``IDENTIFIER(...)`` and ``read_files(...)`` written out (unchanged when it has neither).

    ``args`` are the statement's parameter values (a mapping for ``:name`` markers); ``translate`` maps a
    ``/Volumes`` or ``dbfs:/`` path to its local folder; ``columns_of(sql)`` returns the columns of a query
    (only needed for ``read_files(..., schema => ...)``).
    """
    if not isinstance(sql, str) or _QUICK.search(sql) is None:
        return sql
    named = args if isinstance(args, Mapping) else {}
    tokens = tokenize(sql)
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        call = _call_at(tokens, i)
        if call is not None and token.upper == "IDENTIFIER":
            name = _identifier(tokens[call[0] + 1:call[1]], named)
            if name is not None:
                out.append(Token("word", name))
                i = call[1] + 1
                continue
        elif call is not None and token.upper == "READ_FILES" and not _after_dot(tokens, i):
            out.append(Token("word", _read_files(tokens[call[0] + 1:call[1]], named, translate=translate,
                                                 columns_of=columns_of)))
            i = call[1] + 1
            continue
        out.append(token)
        i += 1
    return join_tokens(out)


# ------------------------------------------------------------------------------------------------ the pieces


def _call_at(tokens: list[Token], i: int) -> tuple[int, int] | None:
    """For a word followed by ``(``: the indexes of that ``(`` and of its matching ``)``."""
    if tokens[i].kind != "word":
        return None
    j = i + 1
    while j < len(tokens) and not tokens[j].significant:
        j += 1
    if j >= len(tokens) or tokens[j].text != "(" or tokens[j].kind != "op":
        return None
    depth = 0
    for k in range(j, len(tokens)):
        if tokens[k].kind == "op" and tokens[k].text == "(":
            depth += 1
        elif tokens[k].kind == "op" and tokens[k].text == ")":
            depth -= 1
            if depth == 0:
                return j, k
    return None


def _after_dot(tokens: list[Token], i: int) -> bool:
    """``x.read_files(...)``: a function of another schema, not Databricks' ``read_files``."""
    j = i - 1
    while j >= 0 and not tokens[j].significant:
        j -= 1
    return j >= 0 and tokens[j].kind == "op" and tokens[j].text == "."


def _string_value(token: Token) -> str:
    body = token.text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _constant(tokens: list[Token], named: Mapping[str, Any]) -> Any:
    """The value of a constant expression: literals, ``:name`` markers and ``||``."""
    sig = [t for t in tokens if t.significant]
    if not sig:
        raise _NotConstant
    parts: list[Any] = []
    k = 0
    while k < len(sig):
        t = sig[k]
        if t.kind == "string":
            parts.append(_string_value(t))
            k += 1
        elif t.kind == "op" and t.text == ":" and k + 1 < len(sig) and sig[k + 1].kind == "word":
            name = sig[k + 1].text
            if name not in named:
                raise _NotConstant
            parts.append(named[name])
            k += 2
        elif t.kind == "word" and t.upper in ("TRUE", "FALSE"):
            parts.append(t.upper == "TRUE")
            k += 1
        elif t.kind == "word" and t.text.isdigit():
            parts.append(int(t.text))
            k += 1
        elif t.kind == "op" and t.text == "-" and k + 1 < len(sig) and re.fullmatch(r"\d+", sig[k + 1].text):
            parts.append(-int(sig[k + 1].text))
            k += 2
        else:
            raise _NotConstant
        if k < len(sig):  # between two operands: exactly ||
            if not (k + 1 < len(sig) and sig[k].text == "|" and sig[k + 1].text == "|"):
                raise _NotConstant
            k += 2
            if k >= len(sig):
                raise _NotConstant
    if len(parts) == 1:
        return parts[0]
    return "".join(_text(p) for p in parts)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _identifier(inner: list[Token], named: Mapping[str, Any]) -> str | None:
    """The name an ``IDENTIFIER(...)`` clause builds, as SQL text; None when it is not a constant."""
    try:
        value = _constant(inner, named)
    except _NotConstant:
        return None
    if not isinstance(value, str) or not value.strip():
        return None
    if "`" in value:  # already quoted the SQL way
        return value
    return ".".join(p if _SIMPLE_NAME.fullmatch(p) else quote_ident(p) for p in value.split("."))


def _arguments(inner: list[Token]) -> list[list[Token]]:
    """The top-level comma-separated pieces of a call's argument list."""
    pieces: list[list[Token]] = [[]]
    depth = 0
    for t in inner:
        if t.kind == "op" and t.text in "([":
            depth += 1
        elif t.kind == "op" and t.text in ")]":
            depth -= 1
        if depth == 0 and t.kind == "op" and t.text == ",":
            pieces.append([])
        else:
            pieces[-1].append(t)
    return [p for p in pieces if any(t.significant for t in p)]


def _read_files(inner: list[Token], named: Mapping[str, Any], *, translate: Callable[[str], str | None] | None,
                columns_of: Callable[[str], list[str]] | None) -> str:
    """``read_files(...)`` as a parenthesised query over a file relation (see the module docstring)."""
    path: Any = None
    options: dict[str, Any] = {}
    for piece in _arguments(inner):
        sig = [t for t in piece if t.significant]
        if len(sig) >= 3 and sig[1].text == "=" and sig[2].text == ">" and sig[0].kind in ("word", "qident"):
            key = sig[0].value
            value_tokens = sig[3:]
        else:
            key, value_tokens = "path", sig
        try:
            value = _constant(value_tokens, named)
        except _NotConstant:
            shown = join_tokens(piece).strip()
            raise ReadFilesError(f"read_files: '{shown}' is not a constant the local runtime can evaluate.",
                                 hint="Write the path and every option as a literal or a :parameter (|| joins "
                                      "them); see docs/emulation.md#reading-files-in-sql.") from None
        if key.lower() == "path":
            path = value
        else:
            options[key] = value
    if not isinstance(path, str) or not path:
        raise ReadFilesError("read_files needs the path of the files to read as its first argument.",
                             hint="For example: read_files('/Volumes/workspace/day07/raw/events.csv', "
                                  "format => 'csv', header => true).")
    local = (translate(path) if translate is not None else None) or path
    lowered = {k.lower(): v for k, v in options.items()}
    fmt = _format(lowered.get("format"), local)
    spark_options: dict[str, Any] = {}
    for key, value in options.items():
        if key.lower() in _DROPPED_OPTIONS:
            continue
        spark_options[_OPTION_NAMES.get(key.lower(), key)] = value
    if fmt == "csv" and not any(k.lower() == "inferschema" for k in spark_options):
        spark_options["inferSchema"] = True  # read_files infers column types unless told not to
    if fmt == "csv" and posixpath.splitext(local)[1].lower() == ".tsv" and "sep" not in spark_options:
        spark_options["sep"] = "\t"
    schema = lowered.get("schema")
    if schema is not None:  # the columns as the file has them, then cast by position
        spark_options["inferSchema"] = False
        return _with_schema(_relation(fmt, local, spark_options), str(schema), columns_of)
    relation = _relation(fmt, local, spark_options)
    rescued = lowered.get("rescueddatacolumn", RESCUED_COLUMN)
    if fmt in ("text", "parquet", "orc", "avro") or not rescued:
        return f"(SELECT * FROM {relation})"
    return f"(SELECT *, CAST(NULL AS STRING) AS {quote_ident(str(rescued))} FROM {relation})"


def _relation(fmt: str, path: str, options: Mapping[str, Any]) -> str:
    """``csv.`path` WITH ('header' = 'true', ...)``: a file read with options, which keeps ``_metadata``."""
    relation = f"{fmt}.{quote_ident(path)}"
    if options:
        pairs = (f"{quote_string(k)} = {quote_string(_text(v))}" for k, v in options.items())
        relation += " WITH (" + ", ".join(pairs) + ")"
    return relation


def _format(given: Any, path: str) -> str:
    if given is not None:
        fmt = READ_FILES_FORMATS.get(str(given).lower())
        if fmt is None:
            raise ReadFilesError(f"read_files: format '{given}' is not available locally.",
                                 hint=f"Use one of {', '.join(sorted(set(READ_FILES_FORMATS)))}.")
        return fmt
    extension = posixpath.splitext(path.rstrip("/"))[1].lstrip(".").lower()
    if extension in READ_FILES_FORMATS:
        return READ_FILES_FORMATS[extension]
    raise ReadFilesError(f"read_files: cannot tell the format of '{path}' from its name.",
                         hint="Say it: read_files(path, format => 'csv', header => true).")


def _with_schema(relation: str, schema: str, columns_of: Callable[[str], list[str]] | None) -> str:
    """Columns renamed and cast to ``schema`` by position, like a reader given that schema."""
    if columns_of is None:
        raise ReadFilesError("read_files with a schema needs Spark to read the file's columns.")
    found = columns_of(f"SELECT * FROM {relation} LIMIT 0")
    select = []
    for position, field in enumerate(f.strip() for f in _split_schema(schema) if f.strip()):
        name, _, kind = field.partition(" ")
        kind = kind.strip() or "STRING"
        source = quote_ident(found[position]) if position < len(found) else "NULL"
        select.append(f"CAST({source} AS {kind}) AS {quote_ident(name.strip('`'))}")
    return f"(SELECT {', '.join(select)} FROM {relation})"


def _split_schema(schema: str) -> list[str]:
    """``a INT, b DECIMAL(10,2)`` → its fields (commas inside parentheses or angle brackets stay)."""
    fields, depth, start = [], 0, 0
    for i, c in enumerate(schema):
        if c in "(<":
            depth += 1
        elif c in ")>":
            depth -= 1
        elif c == "," and depth == 0:
            fields.append(schema[start:i])
            start = i + 1
    fields.append(schema[start:])
    return fields
