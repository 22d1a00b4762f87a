"""A SQL statement read token by token (with the quote-aware tokenizer of :mod:`checkers.runtime.sql_tokens`), for
the Delta statements the kernel runs itself: the statement's frame is parsed here; conditions and expressions stay
SQL text for Spark."""

from __future__ import annotations

from typing import Any

from checkers.runtime import sql_tokens
from checkers.runtime.catalog_names import quote_string
from checkers.runtime.delta import errors

CLAUSE_WORDS = {"USING", "SET", "WHERE", "ON", "WHEN", "LIMIT", "TO", "ZORDER", "RETAIN", "DRY", "FULL", "LITE"}
QUERY_WORDS = {"SELECT", "WITH", "VALUES", "FROM", "TABLE", "("}


class Statement:
    """One SQL statement's significant tokens, with a way back to the exact text between any two of them."""

    def __init__(self, text: str) -> None:
        self.text = text
        tokens = sql_tokens.tokenize(text)
        starts, at = [], 0
        for token in tokens:
            starts.append(at)
            at += len(token.text)
        self.sig = [t for t in tokens if t.significant]
        self.start = [s for s, t in zip(starts, tokens, strict=True) if t.significant]
        self.words = [t.upper or t.text for t in self.sig]

    def word(self, k: int) -> str:
        return self.words[k] if 0 <= k < len(self.words) else ""

    def end_of(self, k: int) -> int:
        return self.start[k] + len(self.sig[k].text)

    def slice(self, a: int, b: int | None = None) -> str:
        """The text from token ``a`` up to (not including) token ``b``."""
        if a >= len(self.sig):
            return ""
        stop = len(self.text) if b is None or b >= len(self.sig) else self.start[b]
        return self.text[self.start[a]:stop].strip()

    def name_at(self, k: int) -> tuple[str, int]:
        """A dotted name (``workspace.s.t``, ``delta.`/p```) or a string literal starting at ``k``; the end index."""
        if k >= len(self.sig):
            raise syntax_error(self.text, "a table name")
        if self.sig[k].kind == "string":
            return self.sig[k].text, k + 1
        end = k + 1
        while self.word(end) == "." and end + 1 < len(self.sig) and self.sig[end + 1].kind in ("word", "qident"):
            end += 2
        return "".join(t.text for t in self.sig[k:end]), end

    def alias_at(self, k: int) -> tuple[str | None, int]:
        if self.word(k) == "AS":
            return self.sig[k + 1].value, k + 2
        if k < len(self.sig) and self.sig[k].kind in ("word", "qident") and self.word(k) not in CLAUSE_WORDS:
            return self.sig[k].value, k + 1
        return None, k

    def created_table(self) -> tuple[int, int, bool] | None:
        """In ``CREATE [OR REPLACE] TABLE [IF NOT EXISTS] name``: where TABLE is, where the name starts, and whether
        it says IF NOT EXISTS; None when no TABLE comes in the first words."""
        k = next((i for i in range(min(len(self.words), 6)) if self.words[i] == "TABLE"), None)
        if k is None:
            return None
        guard = self.word(k + 1) == "IF"
        return k, k + (4 if guard else 1), guard

    def top_level(self, k: int, stop: int | None = None) -> list[int]:
        """Positions from ``k`` that are outside parentheses and ``CASE ... END``."""
        found, depth = [], 0
        for i in range(k, len(self.sig) if stop is None else stop):
            word = self.words[i]
            if word in ("(", "CASE"):
                depth += 1
            elif word in (")", "END") and depth:
                depth -= 1
                continue
            if depth == 0 and word not in ("(", "CASE"):
                found.append(i)
        return found

    def find(self, k: int, *words: str, stop: int | None = None) -> int | None:
        return next((i for i in self.top_level(k, stop) if self.words[i] in words), None)

    def closing(self, k: int) -> int:
        depth = 0
        for i in range(k, len(self.sig)):
            depth += {"(": 1, ")": -1}.get(self.words[i], 0)
            if depth == 0:
                return i
        raise syntax_error(self.text, "a closing parenthesis")


def syntax_error(text: str, wanted: str) -> errors.DeltaAnalysisException:
    short = " ".join(text.split())[:100]
    return errors.DeltaAnalysisException("PARSE_SYNTAX_ERROR", f"Syntax error: expected {wanted} in: {short}",
                                         sqlstate="42601")


def literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return quote_string(str(value))


def inline_parameters(text: str, args: Any) -> str:
    """Named (``:name``) and positional (``?``) markers as literals, for statements run piece by piece here."""
    if not args:
        return text
    tokens = sql_tokens.tokenize(text)
    out, position = [], 0
    skip = False
    for i, token in enumerate(tokens):
        if skip:
            skip = False
            continue
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        before = tokens[i - 1] if i else None
        if isinstance(args, dict) and token.text == ":" and token.kind == "op" and after is not None \
                and after.kind == "word" and after.text in args and not (before and before.text == ":"):
            out.append(literal(args[after.text]))
            skip = True
        elif isinstance(args, list | tuple) and token.kind == "op" and token.text == "?" and position < len(args):
            out.append(literal(args[position]))
            position += 1
        else:
            out.append(token.text)
    return "".join(out)


def split(st: Statement, a: int, b: int | None) -> list[tuple[int, int]]:
    """Top-level comma-separated pieces between ``a`` and ``b`` as (start, end) token ranges."""
    stop = len(st.sig) if b is None else b
    commas = [i for i in st.top_level(a, stop) if st.words[i] == ","]
    bounds = [a - 1, *commas, stop]
    return [(bounds[i] + 1, bounds[i + 1]) for i in range(len(bounds) - 1) if bounds[i] + 1 < bounds[i + 1]]


def assignments(st: Statement, a: int, b: int | None) -> list[tuple[str, str]]:
    pairs = []
    for start, end in split(st, a, b):
        name, k = st.name_at(start)
        if st.word(k) != "=":
            raise syntax_error(st.text, "column = value in SET")
        pairs.append((name, st.slice(k + 1, end)))
    return pairs
