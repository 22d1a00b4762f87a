"""Progress of long Spark queries: one line per long query, throttled, and nothing for short ones (no Spark here)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from checkers.runtime.progress import ProgressLine, QueryProgress, install, wanted


@dataclass
class Stage:
    """What PySpark's ``StageInfo`` carries."""

    stage_id: int
    num_tasks: int
    num_completed_tasks: int
    num_bytes_read: int
    done: bool


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _line(clock: Clock) -> tuple[ProgressLine, list[tuple[QueryProgress, bool]]]:
    shown: list[tuple[QueryProgress, bool]] = []
    return ProgressLine(lambda p, first: shown.append((p, first)), clock=clock, show_after=2.0,
                        min_interval=1.0), shown


def test_a_short_query_shows_nothing() -> None:
    clock = Clock()
    line, shown = _line(clock)
    line(stages=[Stage(0, 4, 1, 10, False)], inflight_tasks=2, operation_id="op", done=False)
    clock.now += 0.5
    line(stages=[Stage(0, 4, 4, 40, True)], inflight_tasks=0, operation_id="op", done=True)
    assert shown == []


def test_a_long_query_gets_one_line_updated_at_most_once_a_second_then_its_final_figures() -> None:
    clock = Clock()
    line, shown = _line(clock)
    for step in range(12):  # a report every 0.5 s for 6 s
        line(stages=[Stage(0, 44, step * 3, step * 2**28, False), Stage(1, 4, 0, 0, False)], inflight_tasks=2,
             operation_id="op", done=False)
        clock.now += 0.5
    line(stages=[Stage(0, 44, 44, 11 * 2**30, True), Stage(1, 4, 4, 0, True)], inflight_tasks=0,
         operation_id="op", done=True)
    firsts = [first for _, first in shown]
    assert firsts[0] is True and not any(firsts[1:])  # drawn once, then updated in place
    assert 4 <= len(shown) <= 6  # from 2 s on, once a second, plus the final figures (not 13 updates)
    last = shown[-1][0]
    assert last.done and last.tasks == 48 and last.stages == 2 and last.bytes_read == 11 * 2**30
    assert last.text().startswith("Spark: done, 48 tasks in 2 stages, 11.0 GiB read")
    running = shown[0][0]
    assert not running.done and running.tasks == 48 and running.stages_done == 0
    assert running.text().startswith(f"Spark: {running.tasks_done}/48 tasks ({running.percent} %), stage 1 of 2")
    assert "<progress" in running.html() and "<progress" not in last.html()


def test_two_queries_get_a_line_each() -> None:
    clock = Clock()
    line, shown = _line(clock)
    for op in ("a", "b"):
        line(stages=[Stage(0, 2, 0, 0, False)], inflight_tasks=1, operation_id=op, done=False)
    clock.now += 3
    for op in ("a", "b"):
        line(stages=[Stage(0, 2, 1, 0, False)], inflight_tasks=1, operation_id=op, done=False)
    assert [(p.operation_id, first) for p, first in shown] == [("a", True), ("b", True)]


def test_a_failing_display_never_fails_the_query() -> None:
    def broken(progress: QueryProgress, first: bool) -> None:
        raise RuntimeError("no frontend")

    clock = Clock()
    line = ProgressLine(broken, clock=clock, show_after=0.0)
    line(stages=[Stage(0, 2, 0, 0, False)], inflight_tasks=1, operation_id="op", done=False)  # no exception


def test_progress_crosses_the_wire_intact_and_rejects_anything_else() -> None:
    sent = QueryProgress(tasks=10, tasks_done=3, stages=2, stages_done=1, running=2, bytes_read=5, seconds=4.5,
                         operation_id="op")
    assert QueryProgress.from_dict(sent.to_dict()) == sent
    assert QueryProgress.from_dict({"tasks": "many"}) is None
    assert QueryProgress.from_dict("nope") is None


@pytest.mark.parametrize(("value", "expected"), [(None, True), ("1", True), ("0", False), ("off", False)])
def test_the_grader_turns_progress_off_in_its_kernels(monkeypatch: pytest.MonkeyPatch, value: str | None,
                                                      expected: bool) -> None:
    if value is None:
        monkeypatch.delenv("DAY07_PROGRESS", raising=False)
    else:
        monkeypatch.setenv("DAY07_PROGRESS", value)
    assert wanted() is expected


def test_install_registers_a_handler_only_when_wanted(monkeypatch: pytest.MonkeyPatch) -> None:
    class Session:
        def __init__(self) -> None:
            self.handlers: list[object] = []

        def registerProgressHandler(self, handler: object) -> None:  # noqa: N802 - PySpark's name
            self.handlers.append(handler)

    session = Session()
    monkeypatch.setenv("DAY07_PROGRESS", "0")
    assert install(session) is None and session.handlers == []
    monkeypatch.setenv("DAY07_PROGRESS", "1")
    assert install(session) is not None and len(session.handlers) == 1
    assert install(object()) is None  # a classic session has no progress to report
