"""Shared fixtures for the docs tests: one strict build of the site, one headless Chromium, one local server."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from checkers.authoring.site_build import BuildResult, build_site
from checkers.config import PROJECT_ROOT


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """``mkdocs build --strict`` of the real mkdocs.yml into a temporary folder (any warning fails it)."""
    return build_site(root=PROJECT_ROOT, site_dir=tmp_path_factory.mktemp("site"), strict=True)


@pytest.fixture(scope="session")
def cam(chromium: Path) -> Iterator[object]:
    """One headless Chromium for every browser test (Playwright's sync API cannot open two at once)."""
    from checkers.authoring.chromium import camera

    with camera() as opened:
        yield opened


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        pass


@pytest.fixture(scope="session")
def site_url(built_site: BuildResult) -> Iterator[str]:
    """The built site served on 127.0.0.1 by a stdlib HTTP server thread, on a free port."""
    handler = functools.partial(_QuietHandler, directory=str(built_site.site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="docs-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture()
def docs_files(files: Path) -> Path:
    """Sample notebooks, a run record and job files for the docs tests."""
    return files / "docs"
