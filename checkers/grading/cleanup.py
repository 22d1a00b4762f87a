"""What one grading leaves on its server for the next: nothing the graded code made or started.

A worker's server grades one submission after another. Schemas the submission made beside its own, its global
temporary views, its cache and any process it started there (:mod:`checkers.spark.strays`) go before the next one.
"""

from __future__ import annotations

import contextlib
from typing import Any

from checkers.spark.spec import ServerSpec
from checkers.spark.strays import end_strays


def server_schemas(spark: Any) -> set[str]:
    return {d.name for d in spark.catalog.listDatabases()}


def _drop_what_it_made(spark: Any, before: set[str]) -> None:
    """On a worker's own server, the next grading (another submission) starts clean: schemas the submission made
    beside its own are dropped, and so are its global temporary views."""
    with contextlib.suppress(Exception):
        for made in server_schemas(spark) - before:
            spark.sql(f"DROP SCHEMA IF EXISTS `{made}` CASCADE")
    with contextlib.suppress(Exception):
        for view in spark.sql("SHOW VIEWS IN global_temp").collect():
            spark.catalog.dropGlobalTempView(view.viewName)
    with contextlib.suppress(Exception):
        spark.catalog.clearCache()


def leave_nothing_behind(spark: Any | None, *, before: set[str] | None, server: ServerSpec | None) -> None:
    """After a grading: drop what it made beside its own schemas (``before``: the server's schemas before it; None
    keeps them), close the grader's session, then end every process the graded code left in the server."""
    if spark is not None:
        if before is not None:
            _drop_what_it_made(spark, before)
        with contextlib.suppress(Exception):
            spark.stop()
    end_strays(server)
