"""``day07 data generate`` / ``day07 data sample``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import checkers.cli as cli
from checkers.cli import EXIT_OK, EXIT_UNUSABLE
from checkers.data import SAMPLE_ROWS, sample_path
from checkers.data.generate import generate_events


@pytest.fixture(autouse=True)
def only_the_data_group(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build the CLI with just this group, whatever else is registered (or not yet written)."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("checkers.cli.data_cmd",))


def test_generate_writes_the_file_and_summarizes_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "raw" / "events.csv"
    code = cli.main(["data", "generate", "--rows", "3000", "--seed", "9", "--start", "2019-10-05", "--days", "2",
                     "--out", str(out)])
    printed = " ".join(capsys.readouterr().out.split())
    assert code == EXIT_OK
    assert "3,000 rows" in printed and str(out) in printed and "2019-10-05 to 2019-10-06" in printed
    assert "duplicates" in printed and "price too high" in printed
    api = generate_events(out=tmp_path / "api.csv", rows=3000, seed=9, start=date(2019, 10, 5), days=2)
    assert out.read_bytes() == api.path.read_bytes()


@pytest.mark.parametrize(("argv", "words"), [
    (["--rows", "0"], "rows must be a positive"),
    (["--days", "-1"], "days must be a positive"),
    (["--seed", "-5"], "seed must be a whole number"),
    (["--start", "2019-13-01"], "--start '2019-13-01' is not a date"),
    (["--start", "yesterday"], "is not a date"),
])
def test_bad_values_exit_2_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                          words: str) -> None:
    code = cli.main(["data", "generate", "--out", str(tmp_path / "e.csv"), *argv])
    assert code == EXIT_UNUSABLE
    assert words in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "e.csv").exists()


def test_a_non_number_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(["data", "generate", "--rows", "many", "--out", str(tmp_path / "e.csv")])
    assert stop.value.code == EXIT_UNUSABLE
    assert "--rows" in capsys.readouterr().err


def test_out_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(["data", "generate", "--rows", "10"])
    assert stop.value.code == EXIT_UNUSABLE
    assert "--out" in capsys.readouterr().err


def test_sample_prints_its_path_and_rows(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["data", "sample"]) == EXIT_OK
    printed = capsys.readouterr().out
    assert str(sample_path()) in printed.splitlines() and f"{SAMPLE_ROWS:,} rows" in printed


def test_data_without_an_action_shows_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["data"]) == EXIT_UNUSABLE
    assert "generate" in capsys.readouterr().out
