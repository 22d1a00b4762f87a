"""Fixtures for the course content: the solution pipeline, run once per data set and shared by the content tests."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.content.helpers import BIG_ROWS, BIG_SEED, SOLUTIONS, PipelineRun, job_parameters, run_pipeline


@pytest.fixture(scope="session")
def notebook_env(spark_endpoint: Any) -> dict[str, str]:
    """Kernel environment that points notebooks at the session's Spark server."""
    from checkers.spark.client import kernel_env

    return kernel_env(spark_endpoint)


@pytest.fixture(scope="session")
def sample_run(notebook_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    """The solutions on the shipped sample, with the job's own parameters (its /Volumes default path), run by hand as
    a learner does: the check cells check."""
    from checkers.runtime.volumes import local_path

    parameters = {**job_parameters(), "schema": "content_sample"}
    out = tmp_path_factory.mktemp("sample_run")
    return run_pipeline(folder=SOLUTIONS, parameters=parameters, out_dir=out, env=notebook_env,
                        source=local_path(parameters["source_path"]), in_job=False)


@pytest.fixture(scope="session")
def big_run(notebook_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    """The solutions on a generated 200k-row file over three days, unseen by anyone, run as job tasks."""
    from checkers.data.generate import generate_events

    folder = tmp_path_factory.mktemp("big_run")
    data = generate_events(out=folder / "events_200k.csv", rows=BIG_ROWS, seed=BIG_SEED, start=date(2019, 10, 1),
                           days=3).path
    parameters = {**job_parameters(), "source_path": str(data), "schema": "content_200k"}
    return run_pipeline(folder=SOLUTIONS, parameters=parameters, out_dir=folder / "out", env=notebook_env,
                        source=data)
