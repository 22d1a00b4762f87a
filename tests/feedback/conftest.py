"""Fixtures for the feedback tests: the session's Spark server as the kernels see it."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def notebook_env(spark_endpoint: Any) -> dict[str, str]:
    """Kernel environment that points notebooks at the session's Spark server."""
    from checkers.spark.client import kernel_env

    return kernel_env(spark_endpoint)
