"""Delta history for streaming writes: a ``STREAMING UPDATE`` version for the batches a query wrote.

Delta logs one version per micro-batch. Locally a stream's sink is a parquet folder that no write hook sees, so the
kit logs what the query wrote when the notebook waits for it (``awaitTermination``, ``processAllAvailable``) or
stops it: one version for the batches since the last one it logged. ``DESCRIBE HISTORY`` and time travel then see
the stream's rows (before, the table had no history and ``VERSION AS OF 0`` read the latest rows).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import Any

from checkers.runtime.client_patches import patch
from checkers.runtime.delta import history, storage


@dataclass
class _Tracked:
    session: Any
    target: Any
    """The table's name, or the path table's :class:`~checkers.runtime.delta.storage.TableInfo`."""
    mode: str
    last_batch: int = -1


_TRACKED: dict[str, _Tracked] = {}
_LOCK = threading.Lock()


def track(query: Any, *, session: Any, table: str | None = None, path: str | None = None,
          mode: str | None = None) -> Any:
    """Remember a streaming query that writes a Delta table (by name or path); returns the query."""
    try:
        target = table if table else storage.path_info(str(path), display=str(path))
        with _LOCK:
            _TRACKED[str(query.id)] = _Tracked(session=session, target=target, mode=(mode or "append").capitalize())
    except Exception:  # noqa: BLE001 - history is a convenience: the stream runs either way
        pass
    return query


def log_batches(query: Any) -> None:
    """Log one version for the batches ``query`` wrote since the last logged one (none: nothing to log)."""
    with _LOCK:
        tracked = _TRACKED.get(str(getattr(query, "id", "")))
    if tracked is None:
        return
    try:
        batches = [p for p in (query.recentProgress or []) if p.batchId > tracked.last_batch]
    except Exception:  # noqa: BLE001 - a query whose server session is gone has no progress to read
        return
    rows = sum(int(p.numInputRows or 0) for p in batches)
    if not batches or rows == 0:
        return
    tracked.last_batch = max(p.batchId for p in batches)
    history.record(tracked.session, tracked.target, "STREAMING UPDATE",
                   {"outputMode": tracked.mode, "queryId": str(query.id), "epochId": str(tracked.last_batch)},
                   blind_append=tracked.mode == "Append")


def _after(original: Any) -> Any:
    @functools.wraps(original)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        log_batches(self)
        return result

    return call


def install() -> None:
    """Log history when a notebook waits for or stops a tracked query."""
    from pyspark.sql.connect.streaming.query import StreamingQuery

    for name in ("awaitTermination", "processAllAvailable", "stop"):
        patch(StreamingQuery, name, _after)
