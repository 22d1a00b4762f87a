"""Deploy tests talk to a loopback workspace through the real SDK, with nothing of the user's config in reach."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from checkers.config import PROJECT_ROOT
from tests.deploy.fake_workspace import FakeWorkspace

SOLUTIONS = PROJECT_ROOT / "solutions"


@pytest.fixture(autouse=True)
def sdk_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No DATABRICKS_* variables, no ~/.databrickscfg: only what a test sets reaches the SDK."""
    for name in list(os.environ):
        if name.startswith(("DATABRICKS_", "ARM_", "AZURE_", "GOOGLE_")):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(home / ".databrickscfg"))
    monkeypatch.setenv("DAY07_DEPLOY_RETRY_TIMEOUT", "1")
    return home


@pytest.fixture()
def workspace() -> Iterator[FakeWorkspace]:
    with FakeWorkspace() as ws:
        yield ws


@pytest.fixture()
def client(workspace: FakeWorkspace) -> Any:
    """The real SDK client, pointed at the loopback workspace with a personal access token."""
    from databricks.sdk import WorkspaceClient

    return WorkspaceClient(host=workspace.url, token=workspace.token, auth_type="pat")


@pytest.fixture()
def solutions() -> Path:
    return SOLUTIONS
