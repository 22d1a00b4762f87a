"""What stops a deploy reaches the user as one clear error, and stops it before it writes anything wrong."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path
from typing import Any

import pytest

from checkers.deploy import (
    AuthenticationError,
    NoCredentialsError,
    PermissionDeniedError,
    WorkspacePathError,
    WorkspaceUnreachableError,
    deploy,
)
from checkers.errors import DeployError
from tests.deploy.fake_workspace import FakeWorkspace

WRITES = ("/api/2.0/workspace/mkdirs", "/api/2.0/workspace/import", "/api/2.2/jobs/create", "/api/2.2/jobs/reset",
          "/api/2.2/jobs/run-now")


def _writes(workspace: FakeWorkspace) -> list[str]:
    return [r.path for r in workspace.calls() if r.path in WRITES]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_no_credentials_says_what_to_set(solutions: Path, sdk_env: Path) -> None:
    with pytest.raises(NoCredentialsError) as info:
        deploy(folder=solutions)
    text = str(info.value)
    assert "DATABRICKS_HOST" in text and "DATABRICKS_TOKEN" in text and "--profile" in text
    assert str(sdk_env / ".databrickscfg") in text  # where it looked


def test_unknown_profile_lists_the_profiles_there_are(solutions: Path, sdk_env: Path) -> None:
    (sdk_env / ".databrickscfg").write_text("[teacher]\nhost = https://example.cloud.databricks.com\ntoken = t\n")
    with pytest.raises(NoCredentialsError) as info:
        deploy(folder=solutions, profile="student")
    assert "student" in info.value.message and "teacher" in (info.value.hint or "")


def test_a_profile_from_databrickscfg_is_used(workspace: FakeWorkspace, solutions: Path, sdk_env: Path) -> None:
    (sdk_env / ".databrickscfg").write_text(f"[teacher]\nhost = {workspace.url}\ntoken = {workspace.token}\n")
    result = deploy(folder=solutions, profile="teacher")
    assert result.action == "created" and result.host == workspace.url


def test_wrong_token_is_an_authentication_error(workspace: FakeWorkspace, solutions: Path) -> None:
    from databricks.sdk import WorkspaceClient

    client = WorkspaceClient(host=workspace.url, token="expired", auth_type="pat")
    with pytest.raises(AuthenticationError) as info:
        deploy(folder=solutions, client=client)
    assert workspace.url in info.value.message and "401" in info.value.message
    assert "token" in (info.value.hint or "")
    assert _writes(workspace) == []


def test_unreachable_host_is_named(solutions: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    host = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("DATABRICKS_HOST", host)
    monkeypatch.setenv("DATABRICKS_TOKEN", "x")
    with pytest.raises(WorkspaceUnreachableError) as info:
        deploy(folder=solutions)
    assert host in info.value.message and "refused" in info.value.message
    assert "https://" in (info.value.hint or "")


def test_permission_denied_on_the_folder_names_it(workspace: FakeWorkspace, client: Any, solutions: Path) -> None:
    workspace.fail("POST", "/api/2.0/workspace/mkdirs", 403, "PERMISSION_DENIED",
                   f"{workspace.user} does not have Manage permissions on /Users/{workspace.user}/day07.")
    with pytest.raises(PermissionDeniedError) as info:
        deploy(folder=solutions, client=client)
    assert f"/Users/{workspace.user}/day07" in info.value.message and "403" in info.value.message
    assert _writes(workspace) == ["/api/2.0/workspace/mkdirs"]  # nothing after the refused call


def test_a_same_named_job_someone_else_owns_is_not_taken_over(workspace: FakeWorkspace, client: Any,
                                                              solutions: Path) -> None:
    job_id = workspace.add_job({"name": "day07_pipeline", "max_concurrent_runs": 1}, creator="teacher@example.com")
    with pytest.raises(PermissionDeniedError) as info:
        deploy(folder=solutions, client=client)
    assert str(job_id) in info.value.message and "CAN_MANAGE" in (info.value.hint or "")
    assert workspace.jobs[job_id]["settings"] == {"name": "day07_pipeline", "max_concurrent_runs": 1}
    assert len(workspace.jobs) == 1


def test_two_jobs_with_the_name_are_not_guessed_between(workspace: FakeWorkspace, client: Any,
                                                        solutions: Path) -> None:
    ids = [workspace.add_job({"name": "day07_pipeline"}) for _ in range(2)]
    with pytest.raises(DeployError) as info:
        deploy(folder=solutions, client=client)
    assert all(str(i) in info.value.message for i in ids)
    assert not [p for p in _writes(workspace) if "jobs" in p]


@pytest.mark.parametrize("folder", ["/Shared/day07", "/Users/someone.else@example.com/day07", "/Repos/x/day07",
                                    "Users/learner@example.com/day07"])
def test_folders_outside_your_own_are_refused_before_any_write(workspace: FakeWorkspace, client: Any,
                                                               solutions: Path, folder: str) -> None:
    with pytest.raises(WorkspacePathError) as info:
        deploy(folder=solutions, client=client, workspace_dir=folder)
    assert folder.rstrip("/") in info.value.message
    assert f"/Users/{workspace.user}/day07" in (info.value.hint or "")
    assert _writes(workspace) == []


def test_an_invalid_job_is_refused_before_any_request(workspace: FakeWorkspace, client: Any, solutions: Path,
                                                      tmp_path: Path) -> None:
    folder = tmp_path / "typo"
    shutil.copytree(solutions, folder)
    job = folder / "job.yml"
    job.write_text(job.read_text().replace("depends_on:\n            - task_key: silver",
                                           "depends_0n:\n            - task_key: silver"))
    before = len(workspace.requests)
    with pytest.raises(DeployError) as info:
        deploy(folder=folder, client=client)
    assert "depends_0n" in info.value.message and "job.yml" in info.value.message
    assert len(workspace.requests) == before


def test_a_broken_notebook_is_refused_before_any_request(workspace: FakeWorkspace, client: Any, solutions: Path,
                                                         tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    shutil.copytree(solutions, folder)
    (folder / "02_silver.ipynb").write_text('{"cells": [', encoding="utf-8")
    before = len(workspace.requests)
    with pytest.raises(DeployError) as info:
        deploy(folder=folder, client=client)
    assert "02_silver.ipynb" in info.value.message
    assert len(workspace.requests) == before


def test_parameters_must_be_the_jobs_and_need_a_run(workspace: FakeWorkspace, client: Any, solutions: Path) -> None:
    before = len(workspace.requests)
    with pytest.raises(DeployError) as info:
        deploy(folder=solutions, client=client, run=True, params={"shcema": "x"})
    assert "shcema" in info.value.message and "source_path" in info.value.message
    with pytest.raises(DeployError) as info:
        deploy(folder=solutions, client=client, params={"schema": "x"})
    assert "--run" in (info.value.hint or "")
    assert len(workspace.requests) == before


def test_workspace_errors_quote_the_workspace(workspace: FakeWorkspace, client: Any, solutions: Path) -> None:
    workspace.fail("POST", "/api/2.2/jobs/create", 400, "INVALID_PARAMETER_VALUE", "Job name too long.")
    with pytest.raises(DeployError) as info:
        deploy(folder=solutions, client=client)
    assert "INVALID_PARAMETER_VALUE" in info.value.message and "Job name too long." in info.value.message
    assert "create the job day07_pipeline" in info.value.message
