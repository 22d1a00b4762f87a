"""The gate a grading's kernels pass to start: one at a time, those on the job's critical path first.

On two cores, kernels starting side by side all come late, the one the first task waits for too; and a grading's
00_widgets runs (niced, off the critical path) must not start before the job's next task has its kernel.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


class StartGate:
    """One kernel start at a time; a waiting start that is not ``low`` goes before every ``low`` one."""

    def __init__(self) -> None:
        self._busy = False
        self._waiting: list[tuple[bool, int, asyncio.Future[None]]] = []
        self._count = 0

    @contextlib.asynccontextmanager
    async def turn(self, *, low: bool = False) -> Any:
        if self._busy or self._waiting:
            self._count += 1
            entry = (low, self._count, asyncio.get_running_loop().create_future())
            self._waiting.append(entry)
            self._waiting.sort(key=lambda e: (e[0], e[1]))
            try:
                await entry[2]
            except BaseException:
                if entry in self._waiting:
                    self._waiting.remove(entry)
                elif entry[2].done() and not entry[2].cancelled():
                    self._next()  # handed the turn as it was cancelled: pass it on
                raise
        else:
            self._busy = True
        try:
            yield
        finally:
            self._next()

    def _next(self) -> None:
        while self._waiting:
            _, _, future = self._waiting.pop(0)
            if not future.done():
                future.set_result(None)  # the turn passes to it: still busy
                return
        self._busy = False
