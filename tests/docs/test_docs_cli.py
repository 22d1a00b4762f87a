"""``day07 docs``: a thin command over the docs API, with the kit's exit codes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import checkers.cli as cli
from checkers.cli import EXIT_OK, EXIT_UNUSABLE, docs_cmd


@pytest.fixture()
def day07(monkeypatch: pytest.MonkeyPatch) -> Callable[[list[str]], int]:
    """``main`` as registered in the real CLI."""
    return cli.main


def test_docs_without_an_action_shows_help(day07: Callable[[list[str]], int],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert day07(["docs"]) == EXIT_UNUSABLE
    out = capsys.readouterr().out
    for action in ("build", "serve", "screenshots"):
        assert action in out


def test_unknown_screenshot_is_a_usage_error(day07: Callable[[list[str]], int],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert day07(["docs", "screenshots", "--only", "nope.png"]) == EXIT_UNUSABLE
    err = capsys.readouterr().err
    assert "nope.png" in err and "Traceback" not in err


def test_build_writes_the_site_and_a_failed_build_exits_2(day07: Callable[[list[str]], int], tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "kit"
    (root / "docs").mkdir(parents=True)
    (root / "mkdocs.yml").write_text("site_name: t\ntheme:\n  name: material\n  font: false\n", encoding="utf-8")
    (root / "docs" / "index.md").write_text("# Home\n", encoding="utf-8")
    monkeypatch.setattr(docs_cmd, "PROJECT_ROOT", root)

    assert day07(["docs", "build", "--site-dir", str(tmp_path / "site")]) == EXIT_OK
    assert (tmp_path / "site" / "index.html").is_file()
    assert "built" in capsys.readouterr().out

    (root / "docs" / "index.md").write_text("# Home\n\n[gone](gone.md)\n", encoding="utf-8")
    assert day07(["docs", "build", "--site-dir", str(tmp_path / "site")]) == EXIT_UNUSABLE
    err = capsys.readouterr().err
    assert "gone.md" in err and "Traceback" not in err
