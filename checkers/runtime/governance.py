"""Unity Catalog's governance statements on local Spark: ``GRANT``, ``REVOKE``, ``SHOW GRANTS``, ``... SET OWNER``,
tags, row filters and column masks.

Locally there is one user and nobody else to grant anything to, so these change nothing. They still fail, as on
Databricks, when the table or schema they name does not exist: a typo in a ``GRANT`` at the end of a gold notebook
stops the task in both places. Spark's parser knows none of them, so they are recognised here (pure: no Spark).
"""

from __future__ import annotations

from dataclasses import dataclass

_ON_TABLE = {"TABLE", "VIEW"}
_ON_SCHEMA = {"SCHEMA", "DATABASE"}
_ON_OTHER = {"CATALOG", "VOLUME", "FUNCTION", "EXTERNAL", "STORAGE", "CONNECTION", "SHARE", "METASTORE", "SERVICE",
             "MATERIALIZED", "MODEL", "REGISTERED", "PROVIDER", "RECIPIENT", "CLEAN", "ANY", "CREDENTIAL"}
_ALTERED = {"TABLE": "table", "VIEW": "table", "SCHEMA": "schema", "DATABASE": "schema"}
_GOVERNANCE_WORDS = {"OWNER", "TAGS", "TAG", "FILTER", "MASK"}


@dataclass(frozen=True)
class Governance:
    """What one governance statement needs locally."""

    kind: str | None
    """``"table"`` or ``"schema"``: the object that must exist; None when there is nothing to check."""
    at: int | None = None
    """Index (among the significant tokens) where that object's name starts."""
    show: bool = False
    """``SHOW GRANTS``: answer with an empty list of grants."""


def plan(words: list[str]) -> Governance | None:
    """The local plan for a governance statement, from its upper-cased significant words; None for anything else."""
    if not words:
        return None
    head = words[0]
    if head in ("GRANT", "REVOKE", "DENY") and "ON" in words:
        return _on(words, words.index("ON") + 1)
    if head == "SHOW" and words[1:2] == ["GRANTS"]:
        return Governance(kind=None, show=True)
    if head in ("SET", "UNSET") and words[1:2] in (["TAG"], ["TAGS"]) and words[2:3] == ["ON"]:
        return _on(words, 3)
    if head == "COMMENT" and words[1:2] == ["ON"] and len(words) > 2 and words[2] in _ON_OTHER:
        return Governance(kind=None)
    if head == "ALTER" and len(words) > 2:
        k = 2 if words[1] != "MATERIALIZED" else 3
        if _GOVERNANCE_WORDS & set(words[k + 1:]) and _is_governance_clause(words[k + 1:]):
            return Governance(kind=_ALTERED.get(words[1]), at=k)
    return None


def _on(words: list[str], k: int) -> Governance:
    kind = words[k] if k < len(words) else ""
    if kind in _ON_TABLE:
        return Governance(kind="table", at=k + 1)
    if kind in _ON_SCHEMA:
        return Governance(kind="schema", at=k + 1)
    if kind in _ON_OTHER:
        return Governance(kind=None)
    return Governance(kind="table", at=k)  # GRANT SELECT ON t TO ...: a table


def _is_governance_clause(rest: list[str]) -> bool:
    """``[SET] OWNER TO``, ``SET|UNSET TAGS``, ``SET|DROP ROW FILTER``, ``SET|DROP MASK`` after the altered name."""
    pairs = set(zip(rest, rest[1:], strict=False))
    return bool(pairs & {("OWNER", "TO"), ("SET", "TAGS"), ("UNSET", "TAGS"), ("ROW", "FILTER"), ("SET", "MASK"),
                         ("DROP", "MASK"), ("SET", "TAG"), ("UNSET", "TAG")})
