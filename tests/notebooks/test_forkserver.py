"""Kernels forked from a fork server: one per sandbox, confined like the kernels it replaces, guarded, and stopped
with its grading. (The rest of the kernel tests run through it too: it is on by default on Linux.)"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from checkers.notebooks.execute import execute_notebook, release_kernels
from checkers.notebooks.kernels import kernel_service
from checkers.signals import SANDBOX_ROOT
from tests.helpers.kernels import own_pool, run

pytestmark = [pytest.mark.kernel,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kernels are forked on Linux only")]


@pytest.fixture()
def env() -> dict[str, str]:
    return own_pool()


def _fork_servers() -> dict[tuple[str, ...], Any]:
    return {k: v for k, v in kernel_service()._forkservers.items() if v is not None}


def _serve_processes() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if _is_fork_server(p)]


def _is_fork_server(process: psutil.Process) -> bool:
    try:
        argv = process.cmdline()
        return process.name() != "bwrap" and "checkers.notebooks.forkserver" in argv and "serve" in argv
    except psutil.Error:  # gone, or a zombie: another test's kernel on its way out
        return False


def test_notebooks_run_in_kernels_forked_from_one_server(files: Path, env: dict[str, str]) -> None:
    notebook = files / "notebooks" / "fresh_kernel.py"
    _, first = run(notebook, env)
    _, second = run(notebook, env)
    servers = [p.pid for p in _serve_processes()]
    assert servers, "no fork server is running"
    parents = {psutil.Process(first["pid"]).ppid() if psutil.pid_exists(first["pid"]) else None,
               psutil.Process(second["pid"]).ppid() if psutil.pid_exists(second["pid"]) else None} - {None}
    assert parents <= set(servers)  # kernels still alive are the fork server's children
    assert first["pid"] != second["pid"] and first["leak"] == second["leak"] == "nothing"
    assert first["pyspark"] is True  # imported once, by the fork server: free in every kernel


def test_a_grading_gets_a_confined_fork_server_of_its_own_that_stops_with_it(files: Path, env: dict[str, str],
                                                                            tmp_path: Path, bwrap: str) -> None:
    inside, outside = tmp_path / "grading", tmp_path / "elsewhere"
    inside.mkdir()
    outside.mkdir()
    graded = {**env, SANDBOX_ROOT: str(inside)}
    result, out = run(files / "notebooks" / "fresh_kernel.py", graded, write_to=str(inside), also_to=str(outside))
    assert result.sandboxed
    assert out["wrote"]["write_to"] == "ok" and out["wrote"]["also_to"].startswith("refused")
    assert not (outside / "written.txt").exists()
    servers = _fork_servers()
    mine = servers.get((str(inside),))
    assert mine is not None and mine.sandboxed
    assert psutil.Process(mine.process.pid).name() == "bwrap"  # the fork server itself runs in the sandbox
    release_kernels(env=graded)
    deadline = time.monotonic() + 30
    while mine.process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert mine.process.poll() is not None, "the grading's fork server outlived the grading"
    assert (str(inside),) not in _fork_servers()


def test_the_memory_guard_watches_the_forked_kernel_not_its_relay(env: dict[str, str], tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAY07_KERNEL_MEMORY_MB", "400")
    hog = tmp_path / "hog.py"
    hog.write_text("# Databricks notebook source\nblocks = []\nfor _ in range(200):\n"
                   "    blocks.append(bytearray(10 * 1024 * 1024))\n", encoding="utf-8")
    result = execute_notebook(path=hog, env=env)
    assert result.status == "kernel_died"
    assert "DAY07_KERNEL_MEMORY_MB" in result.message


def test_with_forking_off_kernels_start_from_scratch(files: Path, env: dict[str, str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAY07_KERNEL_FORK", "0")
    result, out = run(files / "notebooks" / "fresh_kernel.py", {**env, "DAY07_OWN": "1"})
    assert result.ok
    parent = psutil.Process(out["pid"]).ppid() if psutil.pid_exists(out["pid"]) else None
    assert parent not in {p.pid for p in _serve_processes()}

