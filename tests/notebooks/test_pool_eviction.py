"""Which idle kernels the pool stops when it holds too many: those of the runs asked for longest ago."""

from __future__ import annotations

from pathlib import Path

from checkers.notebooks.kernels import Kernel, kernel_key, surplus


def _kernel(pool: str, started: float) -> Kernel:
    return Kernel(km=None, sockets=Path("/nonexistent"), key=kernel_key({"POOL": pool}, ()), started=started)


def test_a_late_started_kernel_of_a_finished_run_goes_before_the_kernels_of_runs_in_progress() -> None:
    finished_late = _kernel("finished", started=30.0)  # a finished run's top-up, done starting after the others
    current = _kernel("current", started=10.0)
    newer = _kernel("newer", started=20.0)
    idle = {k.key: [k] for k in (finished_late, current, newer)}
    demanded = {finished_late.key: 1.0, current.key: 5.0, newer.key: 6.0}
    assert surplus(idle, demanded, keep=2) == [finished_late]


def test_within_one_run_the_oldest_kernel_goes_first_and_nothing_goes_under_the_limit() -> None:
    old, young = _kernel("run", started=1.0), _kernel("run", started=2.0)
    idle = {old.key: [old, young]}
    assert surplus(idle, {old.key: 3.0}, keep=1) == [old]
    assert surplus(idle, {old.key: 3.0}, keep=2) == []


def test_a_kernel_of_a_run_that_never_asked_goes_first() -> None:
    stray, asked = _kernel("stray", started=9.0), _kernel("asked", started=1.0)
    assert surplus({stray.key: [stray], asked.key: [asked]}, {asked.key: 0.5}, keep=1) == [stray]
