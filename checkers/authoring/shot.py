"""What every capture produces and raises: the :class:`Shot` record, its PNG size, :class:`ScreenshotError`.

Shared by the drawings, the Chromium camera, the JupyterLab capture and the screenshot command, so none of them
imports another for these.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from checkers.errors import CheckersError


class ScreenshotError(CheckersError):
    """A screenshot cannot be made: no Chromium, no Playwright, or the run it comes from failed."""


@dataclass(frozen=True)
class Shot:
    """One captured image."""

    path: Path
    """The PNG written."""
    width: int
    """Pixel width of the PNG."""
    height: int
    """Pixel height of the PNG."""
    source: str
    """The real thing it was drawn from (a notebook run, a job file, a run record)."""
    blocked: tuple[str, ...] = ()
    """Requests the page tried to make to other hosts, refused (a drawing must need nothing from outside)."""


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header (no imaging library needed)."""
    with path.open("rb") as fh:
        head = fh.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise ScreenshotError(f"{path} is not a PNG file.")
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
