"""Deploy a submission to a Databricks workspace with the databricks-sdk: notebooks, job, and a run.

| module | holds |
|---|---|
| ``plan`` | local checks and the exact API calls (what ``--dry-run`` prints) |
| ``paths`` | the workspace folder rule (only under ``/Users/<you>``) and notebook paths |
| ``client`` | the SDK client (standard authentication) and its errors in words |
| ``watch`` | polling a run into snapshots |
| ``api`` | ``deploy()`` and ``DeployResult`` |
| ``render`` | console output: dry-run calls, the live run view, the summary |

Importing this package imports the SDK (over a second): the CLI imports it inside its handler.

May import the layers below it (``errors``, ``config``, ``notebooks``, ``jobs``: a project's files are found by
``checkers.jobs.project``); never ``grading`` (a peer), ``feedback``, ``authoring``, ``workspace`` or ``cli``.
"""

from checkers.deploy.api import DeployProgress, DeployResult, deploy
from checkers.deploy.errors import (
    AuthenticationError,
    NoCredentialsError,
    PermissionDeniedError,
    WorkspaceApiError,
    WorkspacePathError,
    WorkspaceUnreachableError,
)
from checkers.deploy.plan import ApiCall, NotebookUpload
from checkers.deploy.watch import RunSnapshot, TaskSnapshot

__all__ = [
    "ApiCall",
    "AuthenticationError",
    "DeployProgress",
    "DeployResult",
    "NoCredentialsError",
    "NotebookUpload",
    "PermissionDeniedError",
    "RunSnapshot",
    "TaskSnapshot",
    "WorkspaceApiError",
    "WorkspacePathError",
    "WorkspaceUnreachableError",
    "deploy",
]
