"""``day07 deploy``: exit codes, what it prints, and errors in words without a traceback."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from databricks.sdk.service import jobs

import checkers.cli as cli
from checkers.cli import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE
from tests.deploy.fake_workspace import FakeWorkspace

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture()
def day07(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """``day07 …`` in-process → (exit code, stdout, stderr with the console's line wrapping undone)."""
    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = cli.main(["deploy", *argv])
        out, err = capsys.readouterr()
        return code, out, " ".join(err.split())

    return run


@pytest.fixture()
def logged_in(workspace: FakeWorkspace, monkeypatch: pytest.MonkeyPatch) -> FakeWorkspace:
    monkeypatch.setenv("DATABRICKS_HOST", workspace.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", workspace.token)
    return workspace


def _json_blocks(text: str) -> list[Any]:
    """The pretty-printed JSON bodies in dry-run output (each starts with a line `{` and ends with `}`)."""
    blocks, current = [], None
    for line in text.splitlines():
        if line == "{":
            current = [line]
        elif current is not None:
            current.append(line)
            if line == "}":
                blocks.append(json.loads("\n".join(current)))
                current = None
    return blocks


def test_dry_run_prints_every_payload_and_needs_no_login(day07: Run, solutions: Path) -> None:
    code, out, err = day07("--dry-run", "--run", "--param", "schema=ci")
    assert code == EXIT_OK, err
    bodies = _json_blocks(out)
    create = next(b for b in bodies if "tasks" in b)
    assert jobs.JobSettings.from_dict(create).as_dict() == create
    imports = [b for b in bodies if "content" in b and b["format"] != "AUTO"]
    assert sorted(b["path"] for b in imports) == [f"/Users/<you>/day07/{p.stem}"
                                                  for p in sorted(solutions.glob("*.ipynb"))]
    files = sorted(b["path"] for b in bodies if "content" in b and b["format"] == "AUTO")  # the check cells' code
    assert files == [f"/Users/<you>/day07/{p.relative_to(solutions).as_posix()}"
                     for p in sorted((solutions / "day07_checks").rglob("*.py")) if "__pycache__" not in p.parts]
    for body in imports:  # the content is named with its real size, not dumped
        file = solutions / (body["path"].rsplit("/", 1)[-1] + ".ipynb")
        assert f"{file.stat().st_size:,} bytes" in body["content"]
    assert {"job_id": "<job id>", "job_parameters": {"schema": "ci"}} in bodies
    for route in ("GET /api/2.0/preview/scim/v2/Me", "POST /api/2.0/workspace/mkdirs", "GET /api/2.2/jobs/list",
                  "POST /api/2.2/jobs/create", "POST /api/2.2/jobs/run-now", "GET /api/2.2/jobs/runs/get"):
        assert route in out


def test_deploy_and_run_prints_the_run_url_and_each_task(day07: Run, logged_in: FakeWorkspace,
                                                         solutions: Path) -> None:
    code, out, err = day07(str(solutions), "--run", "--param", "schema=ci", "--poll", "0")
    assert code == EXIT_OK, err
    run_id = next(iter(logged_in.runs))
    job_id = next(iter(logged_in.jobs))
    assert f"#job/{job_id}/run/{run_id}" in out and f"{logged_in.url}/jobs/{job_id}" in out
    for key in ("bronze", "bronze_has_rows", "silver", "gold"):
        assert any(key in line and "SUCCESS" in line for line in out.splitlines()), key
    code, out, _ = day07(str(solutions))
    assert code == EXIT_OK and "updated" in out and len(logged_in.jobs) == 1


def test_a_failed_run_exits_1_and_shows_the_error(day07: Run, logged_in: FakeWorkspace, solutions: Path) -> None:
    logged_in.failing_tasks["gold"] = "ZeroDivisionError: division by zero"
    code, out, _ = day07(str(solutions), "--run", "--poll", "0")
    assert code == EXIT_FAILED
    assert "ZeroDivisionError: division by zero" in out
    assert any("gold" in line and "FAILED" in line for line in out.splitlines())


def test_no_credentials_is_a_message_not_a_traceback(day07: Run, solutions: Path) -> None:
    code, out, err = day07(str(solutions))
    assert code == EXIT_UNUSABLE
    assert "no Databricks credentials" in err and "DATABRICKS_HOST" in err and "Traceback" not in err + out


def test_unreachable_host_is_a_message(day07: Run, solutions: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("DATABRICKS_HOST", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("DATABRICKS_TOKEN", "x")
    code, out, err = day07(str(solutions))
    assert code == EXIT_UNUSABLE
    assert "cannot reach the workspace" in err and "Traceback" not in err + out
    assert "host metadata" not in err  # the SDK's own retry warnings stay out of the way


def test_permission_denied_and_foreign_folders_are_messages(day07: Run, logged_in: FakeWorkspace,
                                                            solutions: Path) -> None:
    code, _, err = day07(str(solutions), "--workspace-dir", "/Shared/day07")
    assert code == EXIT_UNUSABLE and "outside your own folder" in err and "Traceback" not in err
    logged_in.fail("POST", "/api/2.0/workspace/import", 403, "PERMISSION_DENIED", "No Edit permission.")
    code, _, err = day07(str(solutions))
    assert code == EXIT_UNUSABLE and "permission denied" in err and "Traceback" not in err
    assert logged_in.jobs == {}


def test_param_without_run_is_a_usage_error(day07: Run, solutions: Path) -> None:
    code, _, err = day07(str(solutions), "--dry-run", "--param", "schema=x")
    assert code == EXIT_UNUSABLE and "--run" in err
