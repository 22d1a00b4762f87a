"""The executor's kernels: one fresh kernel per notebook, started ahead by the pool, sandboxed when grading."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import psutil
import pytest

from checkers.notebooks.execute import (
    kernels_starting,
    pooled_kernels,
    prepare_kernels,
    release_kernels,
)
from checkers.notebooks.kernels import kernel_service
from checkers.signals import KERNEL_NICE, SANDBOX_ROOT
from tests.helpers.kernels import own_pool, run, wait_for_pool

pytestmark = pytest.mark.kernel


@pytest.fixture()
def notebook(files: Path) -> Path:
    return files / "notebooks" / "fresh_kernel.py"


@pytest.fixture()
def env() -> dict[str, str]:
    return own_pool()


def test_each_notebook_gets_a_fresh_kernel_that_the_pool_started_ahead(notebook: Path, env: dict[str, str],
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAY07_KERNEL_POOL", "1")
    first, one = run(notebook, env)
    second, two = run(notebook, env)
    assert (first.kernel_ahead, second.kernel_ahead) == (False, True)
    assert one["pid"] != two["pid"]
    assert one["leak"] == two["leak"] == "nothing"  # nothing carries over from one notebook to the next
    assert one["cwd"] == two["cwd"] == str(notebook.parent)  # a pooled kernel moves to the notebook's folder
    assert not psutil.pid_exists(one["pid"]) or psutil.Process(one["pid"]).status() == psutil.STATUS_ZOMBIE \
        or _gone_soon(one["pid"])
    assert len(wait_for_pool(env, 1)) == 1  # topped up again after the second run took its kernel


def _gone_soon(pid: int) -> bool:
    try:
        psutil.Process(pid).wait(timeout=15)
    except psutil.NoSuchProcess:
        pass
    return not psutil.pid_exists(pid)


def test_a_run_that_says_how_many_kernels_it_needs_gets_no_more(notebook: Path, env: dict[str, str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAY07_KERNEL_POOL", "2")
    prepare_kernels(env=env, kernels=1)
    result, _ = run(notebook, env)
    assert result.kernel_ahead
    # the one expected kernel was used; none was started for nothing
    assert pooled_kernels(env=env) == [] and kernels_starting(env=env) == 0


def test_with_the_pool_off_nothing_is_started_ahead(notebook: Path, env: dict[str, str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAY07_KERNEL_POOL", "0")
    first, _ = run(notebook, env)
    second, _ = run(notebook, env)
    assert not first.kernel_ahead and not second.kernel_ahead
    assert pooled_kernels(env=env) == [] and kernels_starting(env=env) == 0


def test_a_pooled_kernel_that_died_is_replaced(notebook: Path, env: dict[str, str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAY07_KERNEL_POOL", "1")
    run(notebook, env)
    (waiting,) = wait_for_pool(env, 1)
    waiting.km.provisioner.process.kill()
    waiting.km.provisioner.process.wait()
    result, _ = run(notebook, env)
    assert result.ok and not result.kernel_ahead


def test_closing_the_service_stops_every_kernel_it_started(notebook: Path, env: dict[str, str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAY07_KERNEL_POOL", "1")
    run(notebook, env)
    pids = [k.km.provisioner.pid for k in wait_for_pool(env, 1)]
    assert pids and all(psutil.pid_exists(p) for p in pids)
    kernel_service().close()
    assert all(_gone_soon(p) for p in pids)
    assert run(notebook, env)[0].ok  # a new service starts on the next run


def test_a_grading_kernel_writes_only_in_its_sandbox(notebook: Path, env: dict[str, str], tmp_path: Path,
                                                    bwrap: str) -> None:
    inside, outside = tmp_path / "grading", tmp_path / "elsewhere"
    inside.mkdir()
    outside.mkdir()
    result, out = run(notebook, {**env, SANDBOX_ROOT: str(inside)}, write_to=str(inside), also_to=str(outside))
    assert result.sandboxed
    assert out["wrote"]["write_to"] == "ok" and (inside / "written.txt").is_file()
    assert out["wrote"]["also_to"].startswith("refused") and not (outside / "written.txt").exists()


def test_the_pool_starts_a_gradings_kernels_one_after_another(env: dict[str, str], tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch, bwrap: str) -> None:
    # Side by side on two cores, every kernel comes late, the one the first task waits for too.
    monkeypatch.setenv("DAY07_KERNEL_POOL", "3")
    sandboxed = {**env, SANDBOX_ROOT: str(tmp_path)}
    prepare_kernels(env=sandboxed, kernels=3)
    try:
        kernels = wait_for_pool(sandboxed, 3)
        first, second, third = sorted(kernels, key=lambda k: k.started)
        assert second.started >= first.ready and third.started >= second.ready
    finally:
        release_kernels(env=sandboxed)


def test_in_a_grading_niced_kernels_start_after_the_jobs_even_when_asked_for_first(
        env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bwrap: str) -> None:
    # A grading asks for 00_widgets' kernels (niced) before the job has taken its first kernel; the job's tasks must
    # not wait behind them. With a pool of 1, the job also says it wants all of its kernels ahead.
    monkeypatch.setenv("DAY07_KERNEL_POOL", "1")
    job = {**env, SANDBOX_ROOT: str(tmp_path)}
    widgets = {**job, KERNEL_NICE: "10"}
    prepare_kernels(env=widgets, kernels=2, ahead=2)  # the first starts at once, the second waits for the gate
    prepare_kernels(env=job, kernels=2, ahead=2)
    try:
        niced = sorted(wait_for_pool(widgets, 2), key=lambda k: k.started)
        plain = wait_for_pool(job, 2)
        assert niced[1].started >= max(k.ready for k in plain)  # both job kernels went before the waiting niced one
    finally:
        release_kernels(env=job)


def test_a_kernel_asked_to_yield_the_cpu_runs_nicer(notebook: Path, env: dict[str, str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setenv("DAY07_KERNEL_POOL", "1")
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    _, plain = run(notebook, env)
    _, nicer = run(notebook, {**env, KERNEL_NICE: "10"})
    ahead, pooled = run(notebook, {**env, KERNEL_NICE: "10"})
    assert ahead.kernel_ahead  # the pool's kernel for that env, started ahead, yields too
    assert plain["nice"] == ours
    assert nicer["nice"] == pooled["nice"] == min(19, ours + 10)


@pytest.mark.spark
def test_a_pooled_kernel_loads_pyspark_ahead_unless_told_its_notebook_needs_no_spark(
        notebook: Path, env: dict[str, str], spark_endpoint: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from checkers.signals import SPARK_PREWARM
    from checkers.spark.client import kernel_env

    monkeypatch.setenv("DAY07_KERNEL_POOL", "1")
    with_spark = {**env, **kernel_env(spark_endpoint)}
    without = {**with_spark, SPARK_PREWARM: "0"}
    for kernel_env_ in (with_spark, without):
        prepare_kernels(env=kernel_env_, kernels=1)
        wait_for_pool(kernel_env_, 1)
    warm, ready = run(notebook, with_spark)
    light, bare = run(notebook, without)
    assert warm.kernel_ahead and light.kernel_ahead
    assert ready["pyspark"] is True and ready["prewarmed"] is True  # imported and connected while it waited
    assert bare["prewarmed"] is False  # 00_widgets' kernels: no connection unless a cell asks for Spark
    from checkers.config import settings

    if not (settings().kernel_fork and sys.platform.startswith("linux")):
        assert bare["pyspark"] is False  # started from scratch: not even the import (forked kernels have it free)
