"""The catalog names of the local runtime, below everything that rewrites or answers for them
(:mod:`.catalog_names`, :mod:`.volume_sql`)."""

CATALOG = "workspace"
"""The Unity Catalog catalog emulated locally (Free Edition's default)."""
CATALOG_ALIASES = frozenset({CATALOG, "main", "hive_metastore"})
"""Catalogs a participant's notebook names that are the one local catalog here: Free Edition's ``workspace``, a Unity
Catalog workspace's usual default ``main``, and the legacy ``hive_metastore`` of older workspaces."""
SESSION_CATALOG = "spark_catalog"
"""Spark's built-in catalog, where the local tables live."""

__all__ = ["CATALOG", "CATALOG_ALIASES", "SESSION_CATALOG"]
