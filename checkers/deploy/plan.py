"""Everything a deploy sends, worked out locally before the first request.

A dry run prints these calls; a real deploy sends the same bodies through the SDK, so what the dry run
shows is what the workspace gets. Every local problem (no job file, an invalid job, a broken notebook, an
unknown parameter) is found here, before anything reaches the workspace.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from checkers.deploy.paths import notebook_path
from checkers.errors import CheckersError, DeployError
from checkers.jobs.load import LoadedJob

MAX_IMPORT_BYTES = 10 * 1024 * 1024
"""The workspace import API refuses content over 10 MB."""

ME_PATH = "/api/2.0/preview/scim/v2/Me"
MKDIRS_PATH = "/api/2.0/workspace/mkdirs"
IMPORT_PATH = "/api/2.0/workspace/import"
LIST_PATH = "/api/2.2/jobs/list"
CREATE_PATH = "/api/2.2/jobs/create"
RESET_PATH = "/api/2.2/jobs/reset"
RUN_NOW_PATH = "/api/2.2/jobs/run-now"
GET_RUN_PATH = "/api/2.2/jobs/runs/get"
GET_OUTPUT_PATH = "/api/2.2/jobs/runs/get-output"

JOB_ID = "<job id>"
"""Stands for the job id in a dry run (it comes from the list, create or reset answer)."""
RUN_ID = "<run id>"
"""Stands for the run id in a dry run (it comes from the run-now answer)."""


@dataclass(frozen=True)
class ApiCall:
    """One REST call of a deploy: what a dry run prints, and what a real deploy records."""

    method: str
    """HTTP method."""
    path: str
    """Path under the workspace host, e.g. ``/api/2.2/jobs/create``."""
    query: dict[str, Any] | None = None
    """Query parameters (GET calls)."""
    body: dict[str, Any] | None = None
    """JSON body, exactly as sent (import ``content`` is the notebook file in base64)."""
    note: str = ""
    """What the call is for, for people reading a dry run."""


@dataclass(frozen=True)
class NotebookUpload:
    """One local notebook and how it is imported."""

    file: Path
    """The local notebook file."""
    name: str
    """Its name in the workspace: the file's stem (the job's notebook paths end in it)."""
    format: str
    """Import format: ``JUPYTER`` for ``.ipynb``, ``SOURCE`` for Databricks source ``.py`` and ``.sql``."""
    language: str | None
    """``PYTHON`` or ``SQL`` for a source file; None for Jupyter (the notebook says its language)."""
    content: str
    """The file's bytes, base64-encoded, as the import API takes them."""

    def import_body(self, workspace_dir: str) -> dict[str, Any]:
        """The ``workspace/import`` body for this notebook in ``workspace_dir`` (overwriting)."""
        body: dict[str, Any] = {"path": notebook_path(workspace_dir, self.name), "format": self.format}
        if self.language is not None:
            body["language"] = self.language
        body["overwrite"] = True
        body["content"] = self.content
        return body


@dataclass(frozen=True)
class FileUpload:
    """One workspace file next to the notebooks: the check cells' code (``day07_checks/``), imported as a file."""

    file: Path
    """The local file."""
    relative: str
    """Its path under the workspace folder, with ``/``: ``day07_checks/steps.py``."""
    content: str
    """The file's bytes, base64-encoded."""

    def import_body(self, workspace_dir: str) -> dict[str, Any]:
        """``AUTO``: a ``.py`` file without the notebook header stays a file (a module the notebooks import)."""
        return {"path": f"{workspace_dir}/{self.relative}", "format": "AUTO", "overwrite": True,
                "content": self.content}


@dataclass
class LocalDeployment:
    """What a deploy takes from the disk: the valid job and the notebooks to import."""

    folder: Path
    """The submission folder."""
    job: LoadedJob
    """The job definition, loaded and validated (no errors)."""
    uploads: list[NotebookUpload]
    """Notebooks to import, by name."""
    params: dict[str, str]
    """Job parameters for ``run-now`` (only names the job defines)."""
    notes: list[str] = field(default_factory=list)
    """Remarks worth showing: validation warnings, files left out."""
    files: list[FileUpload] = field(default_factory=list)
    """Workspace files to import next to the notebooks (the check cells' ``day07_checks/``)."""

    @property
    def file_folders(self) -> list[str]:
        """The folders the files go in, parents first (relative, with ``/``)."""
        folders = {str(PurePosixPath(f.relative).parents[i]) for f in self.files
                   for i in range(len(PurePosixPath(f.relative).parents) - 1)}
        return sorted(folders, key=lambda d: (d.count("/"), d))

    @property
    def job_name(self) -> str:
        return self.job.name

    def job_payload(self, workspace_dir: str) -> dict[str, Any]:
        """The ``jobs/create`` body: the job's settings with absolute, extension-less workspace notebook paths."""
        from checkers.jobs.export import export_job

        payload: dict[str, Any] = json.loads(export_job(self.job, to="json", workspace_dir=workspace_dir))
        return payload

    def planned_calls(self, *, workspace_dir: str, ask_user: bool, run: bool) -> list[ApiCall]:
        """The calls of a deploy in order; ids that only the workspace knows are :data:`JOB_ID` / :data:`RUN_ID`."""
        calls: list[ApiCall] = []
        if ask_user:
            calls.append(ApiCall("GET", ME_PATH, note="who you are: your folder is /Users/<your user name>"))
        calls.append(ApiCall("POST", MKDIRS_PATH, body={"path": workspace_dir},
                             note="create the folder (nothing happens when it exists)"))
        for upload in self.uploads:
            calls.append(ApiCall("POST", IMPORT_PATH, body=upload.import_body(workspace_dir),
                                 note=f"import {upload.file.name}, replacing an older copy"))
        for folder in self.file_folders:
            calls.append(ApiCall("POST", MKDIRS_PATH, body={"path": f"{workspace_dir}/{folder}"},
                                 note="a folder for the check cells' code"))
        for file in self.files:
            calls.append(ApiCall("POST", IMPORT_PATH, body=file.import_body(workspace_dir),
                                 note=f"import {file.relative} as a file (the check cells import it)"))
        calls.append(ApiCall("GET", LIST_PATH, query={"name": self.job_name},
                             note="is there a job with this name already?"))
        calls.append(ApiCall("POST", CREATE_PATH, body=self.job_payload(workspace_dir),
                             note=f"when there is none; when there is one, POST {RESET_PATH} with "
                                  f'{{"job_id": <its id>, "new_settings": <this body>}} updates it instead'))
        if run:
            body: dict[str, Any] = {"job_id": JOB_ID}
            if self.params:
                body["job_parameters"] = dict(self.params)
            calls.append(ApiCall("POST", RUN_NOW_PATH, body=body, note="start a run now"))
            calls.append(ApiCall("GET", GET_RUN_PATH, query={"run_id": RUN_ID},
                                 note="repeated until the run ends, for its state and each task's"))
        return calls


# --------------------------------------------------------------------------------------------- local files


def _job_file(folder: Path, job_file: Path | None) -> Path:
    if job_file is not None:
        return Path(job_file)
    from checkers.jobs.project import find_submission

    found = find_submission(folder=folder)
    if found.job_file is None:
        raise DeployError(f"{folder}: {found.job_problem or 'no job definition file found'}.",
                          hint="Put a job.yml next to the notebooks, or pass --job FILE.")
    return found.job_file


def _load(path: Path) -> tuple[LoadedJob, list[str]]:
    from checkers.jobs.load import load_job
    from checkers.jobs.validate import raise_for_errors, validate_job

    try:
        job = load_job(path=path)
        findings = validate_job(job)
        raise_for_errors(findings, path=job.path)
    except CheckersError as exc:
        raise DeployError(f"cannot deploy: {exc.message}", hint=exc.hint) from None
    notes = [f"{job.path.name}: {f.describe()}" for f in findings if f.level == "warning"]
    if job.settings.git_source is not None:
        raise DeployError(f"{job.path}: the job runs its notebooks from Git (`git_source`), not from the "
                          "workspace, so there is nothing to import.",
                          hint="Remove `git_source` to deploy the local notebooks, or point a Databricks Git "
                               "folder at your repository instead.")
    return job, notes


def _upload(file: Path) -> NotebookUpload:
    from checkers.notebooks.formats import read_notebook

    try:
        read_notebook(file)  # refuse a broken notebook here rather than in the workspace
    except CheckersError as exc:
        raise DeployError(f"cannot deploy: {exc.message}", hint=exc.hint) from None
    data = file.read_bytes()
    content = base64.b64encode(data).decode("ascii")
    if len(content) > MAX_IMPORT_BYTES:
        raise DeployError(f"{file}: {len(data) / 1e6:.1f} MB is too big to import (the workspace takes up to "
                          "10 MB).", hint="Clear the notebook's outputs (Jupyter: Edit → Clear Outputs of All "
                                          "Cells) and save it.")
    if file.suffix == ".ipynb":
        return NotebookUpload(file, file.stem, "JUPYTER", None, content)
    return NotebookUpload(file, file.stem, "SOURCE", "SQL" if file.suffix == ".sql" else "PYTHON", content)


def _uploads(folder: Path, job: LoadedJob, notes: list[str]) -> list[NotebookUpload]:
    """The job's notebooks and the folder's contract notebooks, by name; one file per workspace name."""
    from checkers.jobs.project import find_submission

    chosen: dict[str, Path] = {}
    for task_key, file in job.notebooks.items():
        other = chosen.setdefault(file.stem, file)
        if other.resolve() != file.resolve():
            raise DeployError(f"{job.path}: task `{task_key}` runs {file} and another task runs {other}; both "
                              f"would be imported as `{file.stem}`.",
                              hint="Give the two notebooks different names.")
    for stem, found in find_submission(folder=folder).notebooks.items():
        if found is None:
            continue
        if stem in chosen and chosen[stem].resolve() != found.resolve():
            notes.append(f"{found} is not imported: the job runs {chosen[stem]} as `{stem}`")
            continue
        chosen.setdefault(stem, found)
    return [_upload(chosen[stem]) for stem in sorted(chosen)]


def _file_uploads(folder: Path) -> list[FileUpload]:
    """The check cells' code next to the notebooks, if the folder has it (``day07 start`` and the lessons do)."""
    from checkers.jobs.project import BUNDLE_DIR

    root = folder / BUNDLE_DIR
    if not root.is_dir():
        return []
    files = sorted(p for p in root.rglob("*.py") if p.is_file() and "__pycache__" not in p.parts)
    return [FileUpload(p, p.relative_to(folder).as_posix(), base64.b64encode(p.read_bytes()).decode("ascii"))
            for p in files]


def _check_params(job: LoadedJob, params: dict[str, str]) -> None:
    defined = [p.name for p in job.settings.parameters or []]
    unknown = [name for name in params if name not in defined]
    if unknown:
        listed = ", ".join(defined) if defined else "none"
        raise DeployError(f"--param {', '.join(unknown)}: the job defines no such parameter (its parameters: "
                          f"{listed}).", hint="Databricks only accepts job parameters the job defines; add it "
                                              "under `parameters:` in the job file, or drop the --param.")


def prepare(*, folder: Path, job_file: Path | None, params: dict[str, str] | None = None) -> LocalDeployment:
    """Read and check everything local; raise :class:`DeployError` naming the file and what to fix."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DeployError(f"{folder} is not a folder.",
                          hint="Pass the folder that holds your notebooks and job file (e.g. lessons).")
    job, notes = _load(_job_file(folder, job_file))
    params = dict(params or {})
    _check_params(job, params)
    uploads = _uploads(folder, job, notes)
    return LocalDeployment(folder=folder, job=job, uploads=uploads, params=params, notes=notes,
                           files=_file_uploads(folder))
