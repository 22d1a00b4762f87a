"""Databricks names on plain local Spark: Delta, Unity Catalog's ``workspace`` catalog and volume paths.

Why client-side: Spark can only add a catalog named ``workspace`` that delegates to the session catalog through
a compiled ``DelegatingCatalogExtension`` subclass (the class is abstract) and the kit ships no jars. So the
kernel rewrites names before they reach the server, with a quote-aware SQL tokenizer that never changes string
literals or comments (except volume paths inside string literals, which are file locations, not names):

* ``workspace.<schema>.<table>`` → ``spark_catalog.<schema>.<table>`` (and ``workspace.<schema>`` where SQL
  expects a schema, ``workspace`` where it expects a catalog); a learner's own catalog is that one catalog too,
  and Databricks' ``samples`` and ``system`` are a clear error.
* Delta (``format("delta")``, ``USING DELTA``, ``delta.`path```) → the local table format, with one notice.
* ``/Volumes/...`` and ``dbfs:/...`` → the kit's local folders (only when Spark is the kit's own server,
  which shares this machine's disk).
* ``CREATE OR REPLACE TABLE`` / ``writeTo().createOrReplace()`` → drop, then create (Spark's session catalog
  cannot replace tables); ``CREATE VOLUME`` / ``DROP VOLUME`` → folders; ``OPTIMIZE`` / ``VACUUM`` → no-ops.
* On top of these patches, :mod:`checkers.runtime.delta` emulates Delta (history, ``MERGE``, time travel, the
  ``DeltaTable`` API, overwriting a table a query reads) and :mod:`checkers.runtime.errors_display` gives Spark
  errors Databricks' shape; :func:`install` installs both.

:func:`install` patches the Spark Connect client classes once per kernel: batch reads, writes, ``spark.sql`` and
``spark.catalog`` (:mod:`.readers_writers`), streams and Auto Loader (:mod:`.streaming`). The rewriting itself
(:mod:`.catalog_names`, on :mod:`.sql_tokens`) is pure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from checkers.runtime import (
    catalog_names,
    errors_display,
    readers_writers,
    session_extras,
    streaming,
    worker_side,
)
from checkers.runtime.catalog_names import CATALOG, SESSION_CATALOG, quote_ident, set_schema_aliases
from checkers.runtime.client_patches import STATE, installed, original_sql
from checkers.runtime.delta import hooks
from checkers.runtime.volumes import pickle_open_as
from checkers.signals import KIT_SERVER, SCHEMA_ALIASES


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
    if os.environ.get(KIT_SERVER) == "1" and url == os.environ.get("SPARK_REMOTE"):
        return True  # the runner said so (a sandboxed kernel cannot read the kit home's server state)
    try:
        parts = urlsplit("//" + url[len("sc://"):].split("/", 1)[0].split(";", 1)[0])
        host, port = parts.hostname, parts.port
        state = json.loads((settings().spark_dir / "server.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return host in ("localhost", "127.0.0.1", "::1") and port is not None and port == state.get("port")


def install(*, notice: Callable[[str], None] | None = None, translate_paths: bool = False) -> None:
    """Patch the Spark Connect client classes (once; a second call only updates the settings).

    ``notice`` shows a one-time notice (the kernel passes one backed by ``dbutils.notice``);
    ``translate_paths`` maps ``/Volumes`` and ``dbfs:/`` paths, for the kit's own local server only.
    """
    STATE.notice = notice
    STATE.translate_paths = translate_paths
    catalog_names.NOTICE[:] = [notice] if notice is not None else []
    set_schema_aliases(_schema_aliases())
    if not installed():
        readers_writers.install()
        streaming.install()
        session_extras.install()
        worker_side.install(run_batch=run_batch)
    # The Delta emulation and Databricks-shaped errors, layered on these patches (so installed after them).
    errors_display.install()
    hooks.install(notice=notice, local_disk=translate_paths)
    pickle_open_as(kit_server=translate_paths)


def run_batch(func: Callable[[Any, int], Any], translate_paths: bool, batch: Any, batch_id: int) -> Any:
    """A ``foreachBatch`` function in Spark's Python worker: the kernel's emulation installed there first."""
    install(notice=None, translate_paths=translate_paths)
    return func(batch, batch_id)


def _schema_aliases() -> dict[str, str]:
    """The schema aliases the grader passed (:data:`~checkers.signals.SCHEMA_ALIASES`); none when it passed none."""
    import json
    import os

    try:
        aliases = json.loads(os.environ.get(SCHEMA_ALIASES) or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in aliases.items()} if isinstance(aliases, dict) else {}


def sync_volume_schemas(session: Any) -> list[str]:
    """Create the schema of every local volume folder (``volumes/workspace/<schema>/<volume>``) if missing.

    On Databricks a volume lives in a schema, so ``/Volumes/workspace/ecommerce/...`` existing means
    ``workspace.ecommerce`` exists: a notebook may write ``workspace.ecommerce.bronze_events`` at once.
    """
    from checkers.runtime.volumes import volumes_root

    root = volumes_root() / CATALOG
    schemas = sorted(p.name for p in root.iterdir() if p.is_dir() and any(c.is_dir() for c in p.iterdir())) \
        if root.is_dir() else []
    run = original_sql(session)
    for schema in schemas:
        run(f"CREATE SCHEMA IF NOT EXISTS {SESSION_CATALOG}.{quote_ident(schema)}")
    return schemas
