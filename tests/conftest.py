"""Shared fixtures: a private kit home per test session, and one Spark Connect server shared by every test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FILES = Path(__file__).parent / "files"
"""Sample notebooks, job files and submissions used by the tests."""


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
            from checkers.runtime.spark import stop_server

            stop_server()
        if old is None:
            os.environ.pop("DAY07_HOME", None)
        else:
            os.environ["DAY07_HOME"] = old


@pytest.fixture(scope="session")
def spark_endpoint(kit_home: Path) -> Any:
    """The one Spark Connect server of this test session (started on first use, stopped at the end)."""
    from checkers.runtime.spark import ensure_server

    return ensure_server()


@pytest.fixture(scope="session")
def spark(spark_endpoint: Any) -> Iterator[Any]:
    """A Spark Connect session for the test process itself (to inspect tables notebooks wrote)."""
    from checkers.runtime.spark import connect

    session = connect(endpoint=spark_endpoint)
    yield session
    session.stop()


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
