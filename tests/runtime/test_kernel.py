"""The learner-facing "Day 07 (local Databricks)" kernel: installed spec, and spark/dbutils with no code change."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from checkers.runtime.kernel import DISPLAY_NAME, EXTENSION, KERNEL_NAME, install_kernel


def test_install_writes_a_kernelspec_that_loads_the_extension(tmp_path: Path) -> None:
    dest = install_kernel(prefix=str(tmp_path))
    spec = json.loads((dest / "kernel.json").read_text())
    assert dest.name == KERNEL_NAME
    assert spec["display_name"] == DISPLAY_NAME
    assert spec["argv"][0] == sys.executable
    assert f"--ext={EXTENSION}" in spec["argv"]


@pytest.mark.kernel
def test_installed_kernel_provides_dbutils_with_widget_defaults(tmp_path: Path) -> None:
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    dest = install_kernel(prefix=str(tmp_path))
    ksm = KernelSpecManager(kernel_dirs=[str(dest.parent)])
    km = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=ksm)
    km.start_kernel(cwd=str(tmp_path))
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        outputs: list[str] = []
        reply = kc.execute_interactive(
            'dbutils.widgets.text("schema", "day07")\n'
            'print(dbutils.widgets.get("schema"), type(display).__name__, "sc" in globals())',
            timeout=60, output_hook=lambda msg: outputs.append(msg["content"].get("text", "")))
        assert reply["content"]["status"] == "ok"
        assert "".join(outputs).split() == ["day07", "function", "False"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


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
