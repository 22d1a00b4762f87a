"""Headless Chromium through Playwright: the camera that turns a drawing's HTML page into a PNG.

One browser serves every capture (and the browser tests); any request to another host is refused and recorded, so
a drawing that needs something from outside is found, not silently fetched.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from checkers.authoring.shot import ScreenshotError, Shot, png_size
from checkers.config import settings

#: Chromium flags: headless, no sandbox (containers), and nothing that phones home.
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync")
#: Where Debian puts Chromium; ``DAY07_CHROMIUM`` overrides it.
DEFAULT_CHROMIUM = "/usr/bin/chromium"


def chromium_path() -> Path:
    """The Chromium binary: ``DAY07_CHROMIUM``, else Debian's, else ``chromium`` on the PATH."""
    configured = settings().chromium
    for candidate in (configured, DEFAULT_CHROMIUM, shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise ScreenshotError("Chromium was not found" + (f" at DAY07_CHROMIUM={configured}" if configured else "") + ".",
                          hint="Install it (Debian: apt-get install chromium) or set DAY07_CHROMIUM to its path.")


class Camera:
    """One headless Chromium, reused for every capture; network requests are refused."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        """The Playwright ``Browser`` (tests drive the built site with it)."""

    def capture(self, *, page_html: str, out: Path, source: str, width: int = 1400, scale: float = 1.5) -> Shot:
        """Render ``page_html`` and save its ``#shot`` element as a PNG at ``out``."""
        page = self.browser.new_page(viewport={"width": width, "height": 400}, device_scale_factor=scale)
        blocked: list[str] = []

        def refuse_remote(route: Any) -> None:
            if route.request.url.startswith(("http:", "https:")):
                blocked.append(route.request.url)
                route.abort()
            else:
                route.continue_()

        try:
            page.route("**/*", refuse_remote)
            page.set_content(page_html, wait_until="load")
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_name(f".{out.name}.tmp.png")
            page.locator("#shot").screenshot(path=str(tmp))
            tmp.replace(out)
        finally:
            page.close()
        w, h = png_size(out)
        return Shot(path=out, width=w, height=h, source=source, blocked=tuple(blocked))


@contextmanager
def camera() -> Iterator[Camera]:
    """Start headless Chromium through Playwright (from PyPI, driving the system's Chromium)."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ModuleNotFoundError:
        raise ScreenshotError("Playwright is not installed.",
                              hint="Install the docs extra: pip install -e '.[docs]'.") from None
    executable = chromium_path()
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=str(executable), args=list(CHROMIUM_ARGS))
        except PlaywrightError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ScreenshotError(f"Chromium at {executable} did not start: {first}",
                                  hint="Check that `chromium --headless --no-sandbox --version` works.") from None
        try:
            yield Camera(browser)
        finally:
            browser.close()
