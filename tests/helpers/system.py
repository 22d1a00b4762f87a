"""System packages some tests need (bubblewrap, Chromium), found the way the kit finds them.

On a developer's machine a missing package skips the test with a reason naming the package and how to install
it. Under CI (``CI=true``) it fails the test instead, so CI can never skip them silently; ``.ci/run`` installs both.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

BUBBLEWRAP = "bubblewrap"
CHROMIUM = "chromium"
INSTALL = {
    BUBBLEWRAP: "sudo apt-get install bubblewrap (Linux only; grading runs kernels in its sandbox)",
    CHROMIUM: "sudo apt-get install chromium (macOS: brew install --cask chromium), or set DAY07_CHROMIUM",
}
"""How to get each package, as the skip reason says it."""


def in_ci() -> bool:
    """True when the ``CI`` environment variable says so (``true``, ``1`` or ``yes``), as CI services set it."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def missing(package: str, why: str) -> NoReturn:
    """Skip the calling test because ``package`` is missing (``why`` says how it was found missing); fail in CI."""
    install = INSTALL.get(package, package)
    reason = f"needs {package}, which is missing or not usable here ({why}). Install it: {install}"
    if in_ci():
        pytest.fail(f"{reason}. CI=true: a test that needs a system package fails instead of skipping.",
                    pytrace=False)
    pytest.skip(reason)


def require_bwrap() -> str:
    """The working ``bwrap`` the grader would use (probed with the kernels' own options), or skip / fail."""
    from checkers.sandbox import sandbox_status

    status = sandbox_status()
    if not status.available or status.tool is None:
        missing(BUBBLEWRAP, status.reason)
    return status.tool


def require_chromium() -> Path:
    """The Chromium binary the screenshots and browser tests drive, or skip / fail."""
    from checkers.authoring.chromium import chromium_path
    from checkers.authoring.shot import ScreenshotError

    try:
        return chromium_path()
    except ScreenshotError as exc:
        missing(CHROMIUM, exc.message)
