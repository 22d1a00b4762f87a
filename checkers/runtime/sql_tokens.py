"""A quote-aware SQL tokenizer: strings, backquoted names and comments stay intact, so names can be rewritten
(:mod:`checkers.runtime.catalog_names`), statements split (``%sql``) and Delta statements read
(:mod:`checkers.runtime.delta`) without ever touching a literal."""

from __future__ import annotations

from dataclasses import dataclass


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


def join_tokens(tokens: list[Token]) -> str:
    """The SQL text of ``tokens`` (the inverse of :func:`tokenize`)."""
    return "".join(t.text for t in tokens)


def name_chains(tokens: list[Token]) -> list[list[int]]:
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


def chain_text(tokens: list[Token], start: int) -> tuple[str, int]:
    """The dotted name starting at ``start`` and the index after it."""
    for chain in name_chains(tokens):
        if chain[0] == start:
            return join_tokens(tokens[chain[0]:chain[-1] + 1]), chain[-1] + 1
    return tokens[start].text, start + 1
