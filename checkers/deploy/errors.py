"""What can stop a deploy, one class per thing the learner has to do differently.

All are :class:`~checkers.errors.DeployError`, so the CLI prints the message and exits 2; tests and
callers can tell them apart by class.
"""

from __future__ import annotations

from checkers.errors import DeployError


class NoCredentialsError(DeployError):
    """No workspace host or credentials could be found (no variables, no usable profile)."""


class WorkspaceUnreachableError(DeployError):
    """The workspace host does not answer (wrong URL, no network, a proxy in the way)."""


class AuthenticationError(DeployError):
    """The workspace answered 401: the token or login is wrong or expired."""


class PermissionDeniedError(DeployError):
    """The workspace answered 403: the user may not write that folder or manage that job."""


class WorkspacePathError(DeployError):
    """The workspace folder is not one the kit deploys into (outside the user's own folder)."""


class WorkspaceApiError(DeployError):
    """The workspace refused a call for another reason; the message quotes its answer."""
