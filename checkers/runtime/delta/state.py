"""What the Delta emulation knows about its kernel: how to show a notice, whether Spark shares this disk, and
whether a write is the emulation's own (which the write hooks must pass through untouched)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

NOTICES = {
    "maintenance": "OPTIMIZE, ZORDER BY and VACUUM do nothing locally: the local tables are small parquet folders "
                   "that need no compaction or clean-up. See docs/emulation.md#optimize-and-vacuum.",
    "no_disk": "This Spark server does not share the kernel's disk: Delta table history is kept, but old versions "
               "are not, so time travel is not available. See docs/emulation.md#time-travel.",
    "log_failed": "The local Delta history of a table could not be written ({why}); the write itself succeeded. "
                  "See docs/emulation.md#delta-lake.",
}


@dataclass
class _State:
    notice: Callable[[str], None] | None = None
    local_disk: bool = False
    """True when Spark is the kit's own server: table folders are on this machine (versions can be kept)."""


STATE = _State()
_LOCAL = threading.local()


def show_notice(text: str) -> None:
    """A one-time notice in the notebook (the kernel's ``dbutils.notice``); silent outside a kernel."""
    if STATE.notice is not None:
        STATE.notice(text)


@contextlib.contextmanager
def internal() -> Iterator[None]:
    """Writes made inside are the emulation's own (a staging table, a swap): hooks neither log nor redirect them."""
    _LOCAL.depth = getattr(_LOCAL, "depth", 0) + 1
    try:
        yield
    finally:
        _LOCAL.depth -= 1


def is_internal() -> bool:
    return getattr(_LOCAL, "depth", 0) > 0
