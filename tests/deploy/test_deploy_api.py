"""``deploy()`` against the loopback workspace, through the real ``WorkspaceClient``."""

from __future__ import annotations

import base64
import copy
import shutil
from pathlib import Path
from typing import Any

import yaml
from databricks.sdk.service import jobs

from checkers.deploy import RunSnapshot, deploy
from checkers.jobs.load import load_job
from checkers.notebooks.formats import read_notebook, to_source
from tests.deploy.fake_workspace import FakeWorkspace

JOB_NAME = "day07_pipeline"


def _bodies(workspace: FakeWorkspace, path: str) -> list[dict[str, Any]]:
    return [r.body or {} for r in workspace.calls() if r.path == path]


def _without_notebook_paths(settings: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(settings)
    for task in out.get("tasks", []):
        task.get("notebook_task", {}).pop("notebook_path", None)
    return out


class _Recorder:
    def __init__(self) -> None:
        self.steps: list[str] = []
        self.snapshots: list[RunSnapshot] = []

    def step(self, text: str) -> None:
        self.steps.append(text)

    def run_update(self, snapshot: RunSnapshot) -> None:
        self.snapshots.append(snapshot)


def test_deploy_imports_every_notebook_and_creates_the_job(workspace: FakeWorkspace, client: Any,
                                                           solutions: Path) -> None:
    result = deploy(folder=solutions, client=client)

    home = f"/Users/{workspace.user}/day07"
    assert result.workspace_dir == home and result.action == "created" and result.user_name == workspace.user
    notebooks = sorted(solutions.glob("*.ipynb"))
    bundle = sorted(p for p in (solutions / "day07_checks").rglob("*.py") if "__pycache__" not in p.parts)
    folders = {p.parent for p in bundle}
    assert workspace.routes() == (["GET /api/2.0/preview/scim/v2/Me", "POST /api/2.0/workspace/mkdirs"]
                                  + ["POST /api/2.0/workspace/import"] * len(notebooks)
                                  + ["POST /api/2.0/workspace/mkdirs"] * len(folders)
                                  + ["POST /api/2.0/workspace/import"] * len(bundle)
                                  + ["GET /api/2.2/jobs/list", "POST /api/2.2/jobs/create"])
    imports = _bodies(workspace, "/api/2.0/workspace/import")
    notebook_imports, file_imports = imports[:len(notebooks)], imports[len(notebooks):]
    assert {b["path"]: base64.b64decode(b["content"]) for b in notebook_imports} == {
        f"{home}/{p.stem}": p.read_bytes() for p in notebooks}
    assert all(b["format"] == "JUPYTER" and b["overwrite"] is True and "language" not in b for b in notebook_imports)
    # the check cells' code goes next to the notebooks as workspace files, which the notebooks import
    assert {b["path"]: base64.b64decode(b["content"]) for b in file_imports} == {
        f"{home}/{p.relative_to(solutions).as_posix()}": p.read_bytes() for p in bundle}
    assert all(b["format"] == "AUTO" for b in file_imports)
    assert {workspace.objects[f"{home}/day07_checks/steps.py"]["object_type"],
            workspace.objects[f"{home}/day07_checks/_grader"]["object_type"]} == {"FILE", "DIRECTORY"}

    (create,) = _bodies(workspace, "/api/2.2/jobs/create")
    assert jobs.JobSettings.from_dict(create).as_dict() == create  # the SDK keeps every key: none unknown
    local = load_job(path=solutions / "job.yml")
    assert _without_notebook_paths(create) == _without_notebook_paths(local.settings.as_dict())
    notebook_tasks = [t for t in create["tasks"] if "notebook_task" in t]
    assert len(notebook_tasks) == len(local.notebooks) == 4  # bronze, silver, the quality check beside it, gold
    for task in notebook_tasks:
        path = task["notebook_task"]["notebook_path"]
        assert path == f"{home}/{local.notebooks[task['task_key']].stem}"
        assert workspace.objects[path]["object_type"] == "NOTEBOOK"  # the job runs what was imported
    assert list(workspace.jobs) == [result.job_id]
    assert result.job_url == f"{workspace.url}/jobs/{result.job_id}"


def test_redeploy_updates_the_job_in_place(workspace: FakeWorkspace, client: Any, solutions: Path,
                                           tmp_path: Path) -> None:
    first = deploy(folder=solutions, client=client)
    assert first.job_id is not None
    (create,) = _bodies(workspace, "/api/2.2/jobs/create")
    second = deploy(folder=solutions, client=client)

    assert (second.action, second.job_id) == ("updated", first.job_id)
    assert list(workspace.jobs) == [first.job_id]
    assert _bodies(workspace, "/api/2.2/jobs/reset") == [{"job_id": first.job_id, "new_settings": create}]
    assert len(_bodies(workspace, "/api/2.2/jobs/create")) == 1

    # a changed definition replaces the job's settings, still without a second job
    folder = tmp_path / "changed"
    shutil.copytree(solutions, folder)
    doc = yaml.safe_load((folder / "job.yml").read_text())
    doc["resources"]["jobs"][JOB_NAME]["max_concurrent_runs"] = 3
    (folder / "job.yml").write_text(yaml.safe_dump(doc))
    third = deploy(folder=folder, client=client)
    assert (third.action, third.job_id) == ("updated", first.job_id)
    assert workspace.jobs[first.job_id]["settings"]["max_concurrent_runs"] == 3
    assert len(workspace.jobs) == 1


def test_dry_run_sends_nothing_and_shows_exactly_what_a_deploy_sends(workspace: FakeWorkspace, client: Any,
                                                                     solutions: Path) -> None:
    target = f"/Users/{workspace.user}/day07"
    before = len(workspace.requests)
    dry = deploy(folder=solutions, workspace_dir=target, run=True, params={"schema": "dry"}, dry_run=True,
                 client=client)
    assert len(workspace.requests) == before and dry.dry_run and dry.job_id is None

    real = deploy(folder=solutions, workspace_dir=target, run=True, params={"schema": "dry"}, client=client,
                  poll_seconds=0)
    sent = workspace.calls()
    planned = dry.calls
    assert [(c.method, c.path) for c in planned[:-1]] == [(r.method, r.path) for r in sent[:len(planned) - 1]]
    for call, request in zip(planned[:-2], sent, strict=False):
        assert (request.body, request.query or None) == (call.body, call.query)
    run_now = planned[-2]
    assert sent[len(planned) - 2].body == {**(run_now.body or {}), "job_id": real.job_id}
    assert (planned[-1].method, planned[-1].path) == ("GET", "/api/2.2/jobs/runs/get")


def test_dry_run_needs_no_credentials(solutions: Path) -> None:
    result = deploy(folder=solutions, dry_run=True)
    assert result.workspace_dir == "/Users/<you>/day07"
    create = next(c.body for c in result.calls if c.path == "/api/2.2/jobs/create")
    assert create is not None and jobs.JobSettings.from_dict(create).as_dict() == create
    paths = [t["notebook_task"]["notebook_path"] for t in create["tasks"] if "notebook_task" in t]
    assert sorted(paths) == ["/Users/<you>/day07/01_bronze", "/Users/<you>/day07/02_silver",
                             "/Users/<you>/day07/03_gold", "/Users/<you>/day07/04_quality"]


def test_run_waits_and_reports_every_task(workspace: FakeWorkspace, client: Any, solutions: Path) -> None:
    workspace.task_page_size = 2  # Jobs API 2.2 pages a run's tasks: all must still be reported
    progress = _Recorder()
    result = deploy(folder=solutions, client=client, run=True, params={"schema": "ci"}, poll_seconds=0,
                    progress=progress)

    assert _bodies(workspace, "/api/2.2/jobs/run-now") == [{"job_id": result.job_id,
                                                            "job_parameters": {"schema": "ci"}}]
    run = result.run
    assert run is not None and run.done and run.succeeded and result.ok
    keys = list(load_job(path=solutions / "job.yml").tasks)
    assert [(t.task_key, t.state) for t in run.tasks] == [(key, "SUCCESS") for key in keys]
    assert result.run_url is not None and f"run/{run.run_id}" in result.run_url
    # the display saw the run while it went: pending, then each task running, then the end
    assert progress.snapshots[0].state == "PENDING" and progress.snapshots[-1].done
    running = {t.task_key for s in progress.snapshots for t in s.tasks if t.state == "RUNNING"}
    assert running == set(keys)
    assert any("page_token" in r.query for r in workspace.calls() if r.path == "/api/2.2/jobs/runs/get")


def test_failed_run_reports_the_failing_task_and_its_error(workspace: FakeWorkspace, client: Any,
                                                           solutions: Path) -> None:
    workspace.failing_tasks["silver"] = "AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] day07.bronze_events"
    result = deploy(folder=solutions, client=client, run=True, poll_seconds=0)

    assert result.run is not None and result.run.state == "FAILED" and not result.ok
    states = {t.task_key: t for t in result.run.tasks}
    assert states["bronze"].state == "SUCCESS"
    assert states["silver"].state == "FAILED" and "TABLE_OR_VIEW_NOT_FOUND" in (states["silver"].error or "")
    assert states["gold"].state == "UPSTREAM_FAILED"


def test_source_format_notebooks_import_as_python_source(workspace: FakeWorkspace, client: Any, solutions: Path,
                                                         tmp_path: Path) -> None:
    folder = tmp_path / "source"
    folder.mkdir()
    for notebook in solutions.glob("*.ipynb"):
        (folder / f"{notebook.stem}.py").write_text(to_source(read_notebook(notebook)), encoding="utf-8")
    shutil.copy(solutions / "job.yml", folder / "job.yml")

    result = deploy(folder=folder, client=client, workspace_dir=f"/Workspace/Users/{workspace.user}/src")
    imports = _bodies(workspace, "/api/2.0/workspace/import")
    assert {(b["format"], b.get("language")) for b in imports} == {("SOURCE", "PYTHON")}
    assert {b["path"]: base64.b64decode(b["content"]) for b in imports} == {
        f"/Workspace/Users/{workspace.user}/src/{p.stem}": p.read_bytes() for p in folder.glob("*.py")}
    (create,) = _bodies(workspace, "/api/2.2/jobs/create")
    paths = [t["notebook_task"]["notebook_path"] for t in create["tasks"] if "notebook_task" in t]
    assert all(p.startswith(f"/Workspace/Users/{workspace.user}/src/") and not p.endswith(".py") for p in paths)
    assert result.action == "created"


def test_bundle_permissions_are_set_on_create_and_left_alone_on_update(workspace: FakeWorkspace, client: Any,
                                                                       solutions: Path, tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    shutil.copytree(solutions, folder)
    doc = yaml.safe_load((folder / "job.yml").read_text())
    doc["resources"]["jobs"][JOB_NAME]["permissions"] = [{"level": "CAN_VIEW", "group_name": "users"}]
    (folder / "job.yml").write_text(yaml.safe_dump(doc))

    deploy(folder=folder, client=client)
    (create,) = _bodies(workspace, "/api/2.2/jobs/create")
    assert create["access_control_list"] == [{"permission_level": "CAN_VIEW", "group_name": "users"}]
    assert [jobs.JobAccessControlRequest.from_dict(e).as_dict() for e in create["access_control_list"]] == \
        create["access_control_list"]
    updated = deploy(folder=folder, client=client)
    (reset,) = _bodies(workspace, "/api/2.2/jobs/reset")
    assert "access_control_list" not in reset["new_settings"]
    assert any("permissions" in note for note in updated.notes)
