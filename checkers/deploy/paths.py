"""Where in the workspace a deploy may write, and the workspace path of each notebook.

The rule: ``day07 deploy`` writes only inside the caller's own home folder, ``/Users/<user name>``
(also spelled ``/Workspace/Users/<user name>``). It imports with overwrite, so a folder shared with others
(``/Shared``, another user's home, ``/Repos``) could silently replace someone else's notebooks; those are
refused before anything is sent. Copy the notebooks there in the workspace UI if that is really meant.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from checkers.deploy.errors import WorkspacePathError

USERS_ROOT = "/Users"
"""Parent of every user's home folder in the workspace tree."""
WORKSPACE_PREFIX = "/Workspace"
"""Optional prefix of workspace paths (``/Workspace/Users/...`` is the same folder as ``/Users/...``)."""
DEFAULT_SUBFOLDER = "day07"
"""Folder under the user's home the notebooks go to by default."""
YOU = "<you>"
"""Stands for the user name in a dry run, which asks the workspace nothing."""


def default_workspace_dir(user_name: str) -> str:
    """``/Users/<user name>/day07``."""
    return f"{USERS_ROOT}/{user_name}/{DEFAULT_SUBFOLDER}"


def _own_folder_hint(user_name: str | None) -> str:
    home = f"{USERS_ROOT}/{user_name or YOU}"
    return (f"Deploy into your own folder, e.g. --workspace-dir {home}/{DEFAULT_SUBFOLDER} (the default). "
            "day07 deploy overwrites the notebooks it imports, so it only writes under your own /Users folder; "
            "copy them elsewhere in the workspace UI if you mean to share them.")


def check_workspace_dir(path: str, *, user_name: str | None) -> str:
    """The folder, without a trailing ``/``, when it lies in ``user_name``'s home; else :class:`WorkspacePathError`.

    ``user_name`` None (a dry run) checks the shape only: any ``/Users/<name>/...`` folder passes.
    """
    text = path.strip()
    if not text.startswith("/"):
        raise WorkspacePathError(f"--workspace-dir {path!r} is not an absolute workspace path.",
                                 hint=_own_folder_hint(user_name))
    if "\\" in text:
        raise WorkspacePathError(f"--workspace-dir {path!r} contains a backslash; workspace paths use `/`.",
                                 hint=_own_folder_hint(user_name))
    trimmed = text.rstrip("/") or "/"
    parts = trimmed.split("/")[1:] if trimmed != "/" else []
    if any(part in ("", ".", "..") for part in parts):
        raise WorkspacePathError(f"--workspace-dir {path!r} has an empty, `.` or `..` part.",
                                 hint="Write the folder plainly, e.g. /Users/<you>/day07.")
    inner = parts[1:] if parts and parts[0] == WORKSPACE_PREFIX.strip("/") else parts
    if len(inner) < 2 or "/" + inner[0] != USERS_ROOT:
        raise WorkspacePathError(f"--workspace-dir {trimmed} is outside your own folder ({USERS_ROOT}/"
                                 f"{user_name or YOU}).", hint=_own_folder_hint(user_name))
    owner = inner[1]
    if user_name is not None and owner.casefold() != user_name.casefold():
        raise WorkspacePathError(f"--workspace-dir {trimmed} is in the folder of {owner}, not in yours "
                                 f"({USERS_ROOT}/{user_name}).", hint=_own_folder_hint(user_name))
    return trimmed


def notebook_path(workspace_dir: str, stem: str) -> str:
    """Workspace path of a notebook: absolute, no extension (how Databricks names imported notebooks)."""
    return str(PurePosixPath(workspace_dir) / stem)
