"""The gate that lets a grading's kernels start one at a time, the job's before 00_widgets'."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from checkers.notebooks.start_gate import StartGate


def _in_own_loop(make: Any) -> Any:
    """Run the coroutine ``make()`` makes in a thread of its own: a test before this one may have left an event loop
    running in the main thread."""
    out: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: out.update(value=asyncio.run(make())))
    thread.start()
    thread.join(timeout=30)
    return out["value"]


async def _order(requests: list[tuple[str, bool]], *, cancel: str | None = None) -> list[str]:
    gate, started = StartGate(), []
    release = asyncio.Event()

    async def start(name: str, low: bool) -> None:
        async with gate.turn(low=low):
            started.append(name)
            if name == requests[0][0]:
                await release.wait()  # the first holds the gate until every other start is waiting

    tasks = {name: asyncio.ensure_future(start(name, low)) for name, low in requests}
    await asyncio.sleep(0.01)
    if cancel is not None:
        tasks[cancel].cancel()
        await asyncio.sleep(0)
    release.set()
    await asyncio.gather(*tasks.values(), return_exceptions=True)
    return started


def test_a_waiting_start_that_is_not_low_goes_before_every_low_one() -> None:
    order = _in_own_loop(lambda: _order([("job1", False), ("widgets1", True), ("widgets2", True), ("job2", False),
                                         ("job3", False)]))
    assert order == ["job1", "job2", "job3", "widgets1", "widgets2"]


def test_a_cancelled_start_leaves_the_gate_to_the_next() -> None:
    order = _in_own_loop(lambda: _order([("job1", False), ("job2", False), ("widgets1", True)], cancel="job2"))
    assert order == ["job1", "widgets1"]
