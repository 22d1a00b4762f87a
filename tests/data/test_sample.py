"""The shipped sample is exactly what the generator writes for the recorded arguments."""

from __future__ import annotations

from pathlib import Path

import pytest

import checkers.data as data
from checkers.data import SAMPLE_DAYS, SAMPLE_ROWS, SAMPLE_SEED, SAMPLE_START, sample_path
from checkers.data.generate import generate_events
from checkers.errors import DataError


def test_the_shipped_sample_is_the_generators_output(tmp_path: Path) -> None:
    again = generate_events(out=tmp_path / "sample.csv", rows=SAMPLE_ROWS, seed=SAMPLE_SEED, start=SAMPLE_START,
                            days=SAMPLE_DAYS)
    assert sample_path().read_bytes() == again.path.read_bytes(), (
        "checkers/data/sample/events_sample.csv drifted from the generator; regenerate it with the command in "
        "checkers/data/__init__.py")
    assert all(count > 0 for count in again.dirt.as_dict().values()), again.dirt


def test_the_sample_is_package_data_of_a_commit_friendly_size() -> None:
    path = sample_path()
    assert path.parent == Path(data.__file__).resolve().parent / "sample"
    assert 5_000 <= SAMPLE_ROWS <= 25_000
    with path.open("rb") as fh:
        assert sum(1 for _ in fh) == SAMPLE_ROWS + 1
    assert path.stat().st_size < 3_000_000


def test_a_missing_sample_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(data, "__file__", str(tmp_path / "checkers" / "data" / "__init__.py"))
    with pytest.raises(DataError, match="sample data is missing"):
        sample_path()
