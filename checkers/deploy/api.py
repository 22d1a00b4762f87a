"""``deploy()``: import the notebooks, create or update the job, optionally run it and wait.

The order keeps a failed deploy cheap to understand: every local check first (no request), then who the
user is (which also proves the credentials), then the folder rule, then the writes. Re-deploying finds the
job by name and resets it, so a workspace never ends up with two copies of the job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from checkers.deploy.client import api_errors, workspace_client
from checkers.deploy.paths import YOU, check_workspace_dir, default_workspace_dir
from checkers.deploy.plan import (
    CREATE_PATH,
    GET_RUN_PATH,
    IMPORT_PATH,
    LIST_PATH,
    ME_PATH,
    MKDIRS_PATH,
    RESET_PATH,
    RUN_NOW_PATH,
    ApiCall,
    LocalDeployment,
    NotebookUpload,
    prepare,
)
from checkers.deploy.watch import RunSnapshot, fetch_run, wait_for_run, with_errors
from checkers.errors import DeployError

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

Action = Literal["created", "updated"]


class DeployProgress(Protocol):
    """What a display gets told while a deploy runs."""

    def step(self, text: str) -> None:
        """One thing done ("imported 01_bronze.ipynb → /Users/…/01_bronze")."""

    def run_update(self, snapshot: RunSnapshot) -> None:
        """The run as last polled (called once per poll while waiting)."""


class _Silent:
    def step(self, text: str) -> None:
        pass

    def run_update(self, snapshot: RunSnapshot) -> None:
        pass


@dataclass
class DeployResult:
    """What a deploy did (or, in a dry run, would do)."""

    dry_run: bool
    """True when nothing was sent."""
    folder: Path
    """The submission folder."""
    job_file: Path
    """The job definition deployed."""
    job_name: str
    """The job's name: the key a re-deploy finds it by."""
    workspace_dir: str
    """Workspace folder of the notebooks (holds ``<you>`` in a dry run without --workspace-dir)."""
    notebooks: list[NotebookUpload]
    """The notebooks imported, in order."""
    calls: list[ApiCall]
    """The API calls sent (real deploy) or that would be sent (dry run), in order."""
    host: str | None = None
    """The workspace URL (None in a dry run)."""
    user_name: str | None = None
    """Who deployed (None in a dry run)."""
    job_id: int | None = None
    """The job's id in the workspace."""
    action: Action | None = None
    """``created`` or ``updated`` (None in a dry run)."""
    run: RunSnapshot | None = None
    """The run started with ``run=True``, as last seen (done unless the wait timed out)."""
    notes: list[str] = field(default_factory=list)
    """Remarks worth showing: validation warnings, files left out."""

    @property
    def job_url(self) -> str | None:
        """The job's page in the workspace."""
        if self.host is None or self.job_id is None:
            return None
        return f"{self.host.rstrip('/')}/jobs/{self.job_id}"

    @property
    def run_url(self) -> str | None:
        """The run's page in the workspace."""
        if self.run is None:
            return None
        if self.run.run_page_url:
            return self.run.run_page_url
        return f"{self.job_url}/runs/{self.run.run_id}" if self.job_url else None

    @property
    def ok(self) -> bool:
        """True unless a run was started and did not succeed."""
        return self.run is None or self.run.succeeded


def _create_kwargs(payload: dict[str, Any]) -> dict[str, Any]:
    """``jobs.create`` keyword arguments carrying exactly ``payload`` (the SDK rebuilds the body from them)."""
    import dataclasses

    from databricks.sdk.service import jobs

    settings = jobs.JobSettings.from_dict(payload)
    names = {f.name for f in dataclasses.fields(settings)}
    # only the keys written: from_dict turns a missing list into [], which create would then send
    kwargs = {name: getattr(settings, name) for name in payload if name in names}
    if "access_control_list" in payload:
        kwargs["access_control_list"] = [jobs.JobAccessControlRequest.from_dict(entry)
                                         for entry in payload["access_control_list"]]
    return kwargs


class _Deployer:
    def __init__(self, w: WorkspaceClient, local: LocalDeployment, progress: DeployProgress) -> None:
        self.w = w
        self.local = local
        self.progress = progress
        self.host: str | None = w.config.host
        self.user: str | None = None
        self.calls: list[ApiCall] = []

    def errors(self, action: str, *, denied_hint: str | None = None) -> Any:
        return api_errors(action=action, host=self.host, user=self.user, denied_hint=denied_hint)

    def whoami(self) -> str:
        with self.errors("tell who you are", denied_hint="A 403 on this first call usually means the token is "
                         "invalid or expired: create a new personal access token, or log in again."):
            me = self.w.current_user.me()
        self.calls.append(ApiCall("GET", ME_PATH))
        if not me.user_name:
            raise DeployError(f"{self.host} did not say who you are (no userName in {ME_PATH}).",
                              hint="Pass --workspace-dir /Users/<your user name>/day07.")
        self.user = me.user_name
        return me.user_name

    def import_notebooks(self, workspace_dir: str) -> None:
        from databricks.sdk.service.workspace import ImportFormat, Language

        denied = (f"Check that {workspace_dir} is in your own folder and that you can write there in the "
                  "workspace UI.")
        with self.errors(f"create the folder {workspace_dir}", denied_hint=denied):
            self.w.workspace.mkdirs(workspace_dir)
        self.calls.append(ApiCall("POST", MKDIRS_PATH, body={"path": workspace_dir}))
        self.progress.step(f"folder {workspace_dir}")
        for upload in self.local.uploads:
            body = upload.import_body(workspace_dir)
            with self.errors(f"import {upload.file.name} as {body['path']}", denied_hint=denied):
                self.w.workspace.import_(body["path"], content=body["content"], format=ImportFormat(body["format"]),
                                         language=Language(body["language"]) if "language" in body else None,
                                         overwrite=True)
            self.calls.append(ApiCall("POST", IMPORT_PATH, body=body))
            self.progress.step(f"imported {upload.file.name} → {body['path']}")
        self.import_files(workspace_dir, denied)

    def import_files(self, workspace_dir: str, denied: str) -> None:
        """The check cells' code (``day07_checks/``), as workspace files the notebooks import."""
        from databricks.sdk.service.workspace import ImportFormat

        if not self.local.files:
            return
        for folder in self.local.file_folders:
            path = f"{workspace_dir}/{folder}"
            with self.errors(f"create the folder {path}", denied_hint=denied):
                self.w.workspace.mkdirs(path)
            self.calls.append(ApiCall("POST", MKDIRS_PATH, body={"path": path}))
        for upload in self.local.files:
            body = upload.import_body(workspace_dir)
            with self.errors(f"import {upload.relative} as {body['path']}", denied_hint=denied):
                self.w.workspace.import_(body["path"], content=body["content"], format=ImportFormat.AUTO,
                                         overwrite=True)
            self.calls.append(ApiCall("POST", IMPORT_PATH, body=body))
        top = self.local.files[0].relative.split("/", 1)[0]
        self.progress.step(f"imported {top}/ ({len(self.local.files)} files, the check cells' code) → "
                           f"{workspace_dir}/{top}")

    def existing_job(self) -> int | None:
        name = self.local.job_name
        with self.errors(f"list the jobs named {name}"):
            found = [job for job in self.w.jobs.list(name=name)
                     if job.settings is not None and (job.settings.name or "").casefold() == name.casefold()]
        self.calls.append(ApiCall("GET", LIST_PATH, query={"name": name}))
        if len(found) > 1:
            ids = ", ".join(str(job.job_id) for job in found)
            raise DeployError(f"{self.host} has {len(found)} jobs named {name} (ids {ids}); day07 deploy updates "
                              "one job per name and cannot tell which one is yours.",
                              hint="Delete the extra copies in Jobs & Pipelines (or rename the job in the job "
                                   "file), then deploy again.")
        return found[0].job_id if found else None

    def create_or_update(self, workspace_dir: str) -> tuple[int, Action]:
        from databricks.sdk.service import jobs

        name = self.local.job_name
        job_id = self.existing_job()
        payload = self.local.job_payload(workspace_dir)
        if job_id is None:
            with self.errors(f"create the job {name}"):
                created = self.w.jobs.create(**_create_kwargs(payload))
            self.calls.append(ApiCall("POST", CREATE_PATH, body=payload))
            if created.job_id is None:
                raise DeployError(f"{self.host} created the job {name} but returned no job_id.")
            self.progress.step(f"created job {name} (id {created.job_id})")
            return created.job_id, "created"
        settings = {k: v for k, v in payload.items() if k != "access_control_list"}  # reset takes no permissions
        with self.errors(f"update the job {name} (id {job_id})",
                         denied_hint=f"The job {name} (id {job_id}) exists but you may not manage it: ask its "
                                     "owner for CAN_MANAGE, or rename your job in the job file."):
            self.w.jobs.reset(job_id, jobs.JobSettings.from_dict(settings))
        self.calls.append(ApiCall("POST", RESET_PATH, body={"job_id": job_id, "new_settings": settings}))
        if "access_control_list" in payload:
            self.local.notes.append("the job's permissions are set when it is created; an update leaves them as "
                                    "they are (change them in the job's Permissions dialog)")
        self.progress.step(f"updated job {name} (id {job_id})")
        return job_id, "updated"

    def run(self, job_id: int, *, poll_seconds: float, timeout_seconds: float | None) -> RunSnapshot:
        params = self.local.params or None
        with self.errors(f"run the job {self.local.job_name} (id {job_id})",
                         denied_hint="You may not run this job: ask its owner for CAN_MANAGE_RUN."):
            waiter = self.w.jobs.run_now(job_id, job_parameters=params)
        body: dict[str, Any] = {"job_id": job_id}
        if params:
            body["job_parameters"] = params
        self.calls.append(ApiCall("POST", RUN_NOW_PATH, body=body))
        run_id = waiter.response.run_id if waiter.response is not None else None
        if run_id is None:
            raise DeployError(f"{self.host} started no run for job {job_id} (no run_id in the answer).")
        self.progress.step(f"started run {run_id}")

        def fetch(rid: int) -> Any:
            with self.errors(f"read the state of run {rid}"):
                return fetch_run(self.w, rid)

        order = list(self.local.job.tasks)
        snapshot = wait_for_run(self.w, run_id, task_order=order, poll_seconds=poll_seconds,
                                timeout_seconds=timeout_seconds, on_update=self.progress.run_update, fetch=fetch)
        self.calls.append(ApiCall("GET", GET_RUN_PATH, query={"run_id": run_id}))
        if snapshot.done and not snapshot.succeeded:
            snapshot = with_errors(self.w, snapshot)
        return snapshot


def deploy(*, folder: Path, job_file: Path | None = None, workspace_dir: str | None = None, run: bool = False,
           params: dict[str, str] | None = None, dry_run: bool = False, client: WorkspaceClient | None = None,
           profile: str | None = None, progress: DeployProgress | None = None, poll_seconds: float = 5.0,
           timeout_seconds: float | None = None) -> DeployResult:
    """Deploy a submission folder's notebooks and job to a workspace; see the module docstring for the order.

    ``client`` defaults to the SDK's standard authentication (``profile`` picks a ``~/.databrickscfg``
    profile). ``dry_run`` works the calls out and sends none (no client, no credentials needed).
    Raises :class:`~checkers.errors.DeployError` (a subclass from :mod:`checkers.deploy.errors`) with what
    to do when anything stops the deploy; a run that fails is a result (``result.ok`` False), not an error.
    """
    if params and not run:
        raise DeployError(f"--param {', '.join(params)} only applies to a run.",
                          hint="Add --run to start the job after deploying, or drop --param (the job's defaults "
                               "apply to scheduled runs).")
    local = prepare(folder=folder, job_file=job_file, params=params)
    progress = progress or _Silent()
    if dry_run:
        target = check_workspace_dir(workspace_dir or default_workspace_dir(YOU), user_name=None)
        return DeployResult(
            dry_run=True, folder=local.folder, job_file=local.job.path, job_name=local.job_name,
            workspace_dir=target, notebooks=list(local.uploads), notes=local.notes,
            calls=local.planned_calls(workspace_dir=target, ask_user=True, run=run))
    w = client if client is not None else workspace_client(profile=profile)
    deployer = _Deployer(w, local, progress)
    user = deployer.whoami()
    target = check_workspace_dir(workspace_dir or default_workspace_dir(user), user_name=user)
    deployer.import_notebooks(target)
    job_id, action = deployer.create_or_update(target)
    snapshot = deployer.run(job_id, poll_seconds=poll_seconds, timeout_seconds=timeout_seconds) if run else None
    return DeployResult(
        dry_run=False, folder=local.folder, job_file=local.job.path, job_name=local.job_name,
        workspace_dir=target, notebooks=list(local.uploads), calls=deployer.calls, host=deployer.host,
        user_name=user, job_id=job_id, action=action, run=snapshot, notes=local.notes)
