"""On Databricks a notebook's session exists before its first cell; here ``spark`` connects on first use.

Code that asks PySpark for the session instead of using ``spark`` (``SparkSession.builder.getOrCreate()``,
``SparkSession.getActiveSession()``, a ``@udf("long")`` that parses its type) gets the notebook's ``spark``, started
on that first ask: never an error, and never a second session without the kit's names.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from typing import Any

_CONNECTING = threading.local()
"""Set in the thread that is opening the notebook's session (the prewarm thread, or the first use of ``spark``):
the session lookups PySpark makes on the way must not ask for that same session again."""


@contextlib.contextmanager
def connecting() -> Iterator[None]:
    """Around the opening of the notebook's session, in the thread that opens it."""
    _CONNECTING.active = True
    try:
        yield
    finally:
        _CONNECTING.active = False


_LAZY: list[Any] = []
"""The notebook's ``spark`` before first use, for code that asks PySpark for the session instead."""


def _may_start_spark() -> bool:
    """Not while this thread opens the session itself, nor while another thread does (that lookup gets None)."""
    return bool(_LAZY) and not getattr(_CONNECTING, "active", False) and not _LAZY[0]._lock.locked()


def install(lazy: Any) -> None:
    """Make PySpark's session lookups give ``lazy``'s session (the notebook's ``spark``); patched once per kernel."""
    from pyspark.sql import SparkSession as Classic
    from pyspark.sql.connect.session import SparkSession as Remote

    _LAZY[:] = [lazy]
    if getattr(Remote.getActiveSession, "_day07", False):
        return

    def ask(original: Any) -> Any:
        def session(cls: Any) -> Any:
            found = original(cls)
            if found is None and _may_start_spark():
                found = _LAZY[0]._real()
            return found

        session._day07 = True  # type: ignore[attr-defined]
        return classmethod(session)

    Remote.getActiveSession = ask(Remote.__dict__["getActiveSession"].__func__)  # type: ignore[method-assign]
    Remote._get_default_session = ask(Remote.__dict__["_get_default_session"].__func__)  # type: ignore[method-assign]
    builder_get = Classic.Builder.getOrCreate

    @functools.wraps(builder_get)
    def get_or_create(self: Any) -> Any:
        options = dict(self._options)
        if "spark.remote" in options or not _may_start_spark():
            return builder_get(self)
        session = _LAZY[0]._real()
        for key, value in options.items():  # appName, master and other static settings cannot change: ignored
            with contextlib.suppress(Exception):
                session.conf.set(key, value)
        return session

    Classic.Builder.getOrCreate = get_or_create  # type: ignore[method-assign]
