"""Shared fixtures: a private kit home per test session, and one Spark Connect server shared by every test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FILES = Path(__file__).parent / "files"
"""Sample notebooks, job files and submissions used by the tests."""


#: Fixtures that bring a heavy part with them, and the marker a test using one gets (so `-m "not spark and not kernel
#: and not browser"` really leaves them out, whether or not the test module marks itself).
_FIXTURE_MARKERS = {"spark_endpoint": "spark", "spark": "spark", "cam": "browser", "chromium": "browser"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture in set(getattr(item, "fixturenames", ())) & set(_FIXTURE_MARKERS):
            item.add_marker(_FIXTURE_MARKERS[fixture])


@pytest.fixture(scope="session", autouse=True)
def kit_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point DAY07_HOME at a fresh folder so tests never touch the user's ~/.day07."""
    home = tmp_path_factory.mktemp("day07home")
    old = os.environ.get("DAY07_HOME")
    os.environ["DAY07_HOME"] = str(home)
    # The suite tests the kit's own managed server: a developer's own endpoint must not leak in.
    for name in ("SPARK_REMOTE", "SPARK_CONNECT_AUTHENTICATE_TOKEN"):
        os.environ.pop(name, None)
    try:
        yield home
    finally:
        if (home / "spark").exists():
            from checkers.spark.server import stop_server

            stop_server()
        if old is None:
            os.environ.pop("DAY07_HOME", None)
        else:
            os.environ["DAY07_HOME"] = old


@pytest.fixture(scope="session")
def spark_endpoint(kit_home: Path) -> Any:
    """The one Spark Connect server of this test session (started on first use, stopped at the end)."""
    from checkers.spark.server import ensure_server

    return ensure_server()


@pytest.fixture(scope="session")
def spark(spark_endpoint: Any) -> Iterator[Any]:
    """A Spark Connect session for the test process itself (to inspect tables notebooks wrote)."""
    from checkers.spark.server import connect

    session = connect(endpoint=spark_endpoint)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def bwrap() -> str:
    """The working bubblewrap the grader sandboxes kernels with; skips (fails under CI=true) without it."""
    from tests.helpers.system import require_bwrap

    return require_bwrap()


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Chromium for the browser tests; skips (fails under CI=true) without it."""
    from tests.helpers.system import require_chromium

    return require_chromium()


@pytest.fixture()
def files() -> Path:
    return FILES


@pytest.fixture()
def day07(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run ``day07 ARGS…`` in-process, as registered in the real CLI → (exit code, stdout, stderr)."""
    import checkers.cli as cli

    monkeypatch.setattr(cli.console, "width", 200)
    monkeypatch.setattr(cli.err_console, "width", 200)

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = cli.main(list(argv))
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run
