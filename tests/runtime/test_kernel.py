"""The learner-facing "Day 07 (local Databricks)" kernel: installed spec, and spark/dbutils with no code change."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from checkers.kernelspec import DISPLAY_NAME, EXTENSION, KERNEL_NAME, install_kernel


def test_install_writes_a_kernelspec_that_loads_the_extension(tmp_path: Path) -> None:
    dest = install_kernel(prefix=str(tmp_path))
    spec = json.loads((dest / "kernel.json").read_text())
    assert dest.name == KERNEL_NAME
    assert spec["display_name"] == DISPLAY_NAME
    assert spec["argv"][0] == sys.executable
    assert f"--ext={EXTENSION}" in spec["argv"]


@pytest.fixture()
def installed_kernel(tmp_path: Path) -> Iterator[Any]:
    """A client of the learner's kernel, started from its installed spec in ``tmp_path`` (as Jupyter starts it)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    dest = install_kernel(prefix=str(tmp_path))
    ksm = KernelSpecManager(kernel_dirs=[str(dest.parent)])
    km = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=ksm)
    km.start_kernel(cwd=str(tmp_path), env={**os.environ, "DAY07_KERNEL_POOL": "0"})  # nested runs: no kernel ahead
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        yield kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def printed(kc: Any, code: str) -> str:
    outputs: list[str] = []
    reply = kc.execute_interactive(code, timeout=120,
                                   output_hook=lambda msg: outputs.append(msg["content"].get("text", "")))
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(outputs)


@pytest.mark.kernel
def test_installed_kernel_provides_dbutils_with_widget_defaults(installed_kernel: Any) -> None:
    out = printed(installed_kernel, 'dbutils.widgets.text("schema", "day07")\n'
                                    'print(dbutils.widgets.get("schema"), type(display).__name__, repr(sc)[:4])')
    assert out.split() == ["day07", "function", "<sc:"]  # sc: Spark Connect's clear error on use, as on serverless


@pytest.mark.kernel
def test_installed_kernel_runs_other_notebooks(installed_kernel: Any, files: Path, tmp_path: Path) -> None:
    """``%run`` and ``dbutils.notebook.run`` reach the executor in a learner's kernel too (not only in the executor's
    own, which get it when bound)."""
    shutil.copy(files / "notebooks" / "child.py", tmp_path / "child.py")
    (tmp_path / "defines.py").write_text("# Databricks notebook source\ngreeting = 'hi from defines'\n")
    printed(installed_kernel, "%run ./defines")
    assert printed(installed_kernel, "print(greeting)").strip() == "hi from defines"
    out = printed(installed_kernel, 'print(dbutils.notebook.run("./child", 60, {"name": "learner"}))')
    assert out.strip() == "hello learner"


def test_a_logging_set_up_after_pyspark_does_not_turn_its_connect_logger_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """A kernel forked from a process that imported PySpark configures logging afterwards (the kernel app does), which
    turns PySpark's disabled Connect logger back on: every handled Spark error would print JSON lines in a cell."""
    import logging
    import logging.config

    import pyspark.sql.connect.logging  # noqa: F401 - the logger exists (and is off) once this is imported

    from checkers.runtime.kernel import _quiet_connect_logging

    monkeypatch.delenv("SPARK_CONNECT_LOG_LEVEL", raising=False)
    connect = logging.getLogger("pyspark.sql.connect.logging")
    monkeypatch.setattr(connect, "disabled", True)
    logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})  # what traitlets' apps do
    assert connect.disabled is False  # the mechanism: without the kit's fix the logger is on again
    _quiet_connect_logging()
    assert connect.disabled is True
    monkeypatch.setenv("SPARK_CONNECT_LOG_LEVEL", "debug")  # asked for: left as PySpark set it
    connect.disabled = False
    _quiet_connect_logging()
    assert connect.disabled is False
