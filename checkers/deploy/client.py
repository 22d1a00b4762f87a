"""The workspace client, built with the SDK's standard authentication, and its errors put into words.

Authentication is the SDK's own (``DATABRICKS_HOST``/``DATABRICKS_TOKEN``, profiles in ``~/.databrickscfg``,
``databricks auth login`` OAuth, cloud credentials). The SDK retries an unreachable host for five minutes
by default; a learner with a typo in the URL should hear about it sooner, so the deploy client retries for
``DAY07_DEPLOY_RETRY_TIMEOUT`` seconds (default 30).
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from checkers.config import settings
from checkers.deploy.errors import (
    AuthenticationError,
    NoCredentialsError,
    PermissionDeniedError,
    WorkspaceApiError,
    WorkspaceUnreachableError,
)

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

CREDENTIALS_HINT = (
    "Set DATABRICKS_HOST (your workspace URL, https://...) and DATABRICKS_TOKEN (a personal access token), "
    "or put host and token in a [DEFAULT] profile of ~/.databrickscfg (another profile: --profile NAME), "
    "or log in with `databricks auth login --host <workspace URL>`. --dry-run needs no credentials.")


def retry_timeout() -> int:
    """Seconds the client keeps retrying a host that does not answer (or answers 429/503)."""
    return settings().deploy_retry_timeout


def config_file() -> Path:
    """The SDK's profile file (``DATABRICKS_CONFIG_FILE`` or ``~/.databrickscfg``)."""
    return Path(os.environ.get("DATABRICKS_CONFIG_FILE") or "~/.databrickscfg").expanduser()


def profiles(path: Path) -> list[str]:
    """Profile names in a ``.databrickscfg`` (empty when it is missing or unreadable)."""
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
    except (configparser.Error, OSError, UnicodeDecodeError):
        return []
    names = [name for name in parser.sections() if name != "__settings__"]
    return (["DEFAULT"] if parser.defaults() else []) + names


def _where_looked() -> str:
    env = [name for name in ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_CONFIG_PROFILE")
           if os.environ.get(name)]
    env_text = "set: " + ", ".join(env) if env else "DATABRICKS_HOST and DATABRICKS_TOKEN are not set"
    path = config_file()
    if not path.exists():
        file_text = f"{path} does not exist"
    else:
        found = profiles(path)
        file_text = f"{path} has profiles {', '.join(found)}" if found else f"{path} has no profiles"
    return f"{env_text}; {file_text}"


def credentials_error(reason: str, *, profile: str | None) -> NoCredentialsError:
    """The SDK's configuration error (a ``ValueError``) as a message that says what to set."""
    short = reason.split(". Config:")[0].split("\nConfig:")[0].strip()
    if "profile configured" in short and "has no" in short:
        path = config_file()
        found = profiles(path)
        listed = f"Its profiles: {', '.join(found)}; pass one to --profile" if found else "It has none"
        return NoCredentialsError(
            f"no Databricks profile `{profile or os.environ.get('DATABRICKS_CONFIG_PROFILE')}` in {path}.",
            hint=f"{listed}, or create it with `databricks configure --profile NAME`.")
    if short.startswith("default auth"):
        return NoCredentialsError(f"no Databricks credentials found ({_where_looked()}).", hint=CREDENTIALS_HINT)
    return NoCredentialsError(f"the Databricks configuration cannot be used: {short}", hint=CREDENTIALS_HINT)


def workspace_client(*, profile: str | None = None) -> WorkspaceClient:
    """A client for the configured workspace, or :class:`NoCredentialsError` saying what to set."""
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.config import Config

    from checkers import __version__

    try:
        config = Config(profile=profile, retry_timeout_seconds=retry_timeout(), product="day07",
                        product_version=__version__)
    except ValueError as exc:
        raise credentials_error(str(exc), profile=profile) from None
    return WorkspaceClient(config=config)


def _unreachable_reason(exc: BaseException) -> str:
    seen: list[str] = []
    cause: BaseException | None = exc
    while cause is not None and len(seen) < 6:
        seen.append(f"{type(cause).__name__}: {cause}")
        cause = cause.__cause__ or cause.__context__
    text = " ".join(seen)
    if "NameResolution" in text or "Name or service not known" in text or "nodename nor servname" in text:
        return "its name does not resolve"
    if "Connection refused" in text or "ConnectionRefused" in text:
        return "the connection was refused"
    if "SSL" in text or "CERTIFICATE" in text:
        return "the TLS (https) handshake failed"
    if "Timed out" in text or "timed out" in text:
        return "it did not answer in time"
    return "the connection failed"


@contextmanager
def api_errors(*, action: str, host: str | None, user: str | None = None,
               denied_hint: str | None = None) -> Iterator[None]:
    """Turn what the SDK raises during ``action`` ("import 01_bronze.ipynb into …") into a :class:`DeployError`."""
    import requests
    from databricks.sdk.errors import DatabricksError, PermissionDenied, Unauthenticated

    where = host or "the workspace"
    try:
        yield
    except Unauthenticated as exc:
        raise AuthenticationError(
            f"{where} refused the credentials when asked to {action} (401: {exc}).",
            hint="The token is wrong or has expired: create a new one (user menu → Settings → Developer → "
                 "Access tokens) and set DATABRICKS_TOKEN or the profile's token, or log in again with "
                 "`databricks auth login`.") from None
    except PermissionDenied as exc:
        who = user or "you"
        raise PermissionDeniedError(
            f"permission denied: {where} does not let {who} {action} (403: {exc}).",
            hint=denied_hint or "Deploy into your own folder (/Users/<you>/...), or ask a workspace admin for "
                                "access.") from None
    except DatabricksError as exc:
        code = f"{exc.error_code}: " if getattr(exc, "error_code", None) else ""
        raise WorkspaceApiError(f"{where} refused to {action}: {code}{exc}") from None
    except (requests.ConnectionError, requests.Timeout, TimeoutError) as exc:
        raise WorkspaceUnreachableError(
            f"cannot reach the workspace at {where} to {action}: {_unreachable_reason(exc)}.",
            hint="Check the host: it starts with https:// and is your workspace's address, as in the browser "
                 "(DATABRICKS_HOST or the profile's host). Check the network or proxy too.") from None
