"""The quality gate's rule, the grader's failing file and thresholds, and the in-notebook feedback on the gate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from checkers.data import RAW_COLUMNS
from checkers.feedback.quality import GATE_CASES, judge_gate
from checkers.grading.quality_rule import (
    REQUIRED_COLUMNS,
    bad_share_pct,
    count_bad_rows,
    count_bad_rows_csv,
    gate_fails,
    verdict,
)
from checkers.grading.quality_run import BLANK_SHARE, quality_seed, thresholds, write_failing_data


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    lines = [",".join(RAW_COLUMNS)] + [",".join(r.get(c, "x") for c in RAW_COLUMNS) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def test_a_row_is_bad_when_one_required_value_is_empty() -> None:
    rows = [{}, {"user_session": ""}, {"brand": "", "category_code": ""}, {"event_time": "", "user_id": ""}]
    assert count_bad_rows_csv(csv_bytes(rows)) == (2, 4)  # empty brand / category are fine: silver fills them
    assert set(REQUIRED_COLUMNS) <= set(RAW_COLUMNS)


@pytest.mark.parametrize(("bad", "rows", "limit", "fails"), [
    (0, 0, 5.0, True),     # no rows: never good
    (5, 100, 5.0, False),  # exactly at the line passes
    (6, 100, 5.0, True),
    (0, 100, 0.0, False),
    (1, 100, 0.0, True),
])
def test_the_gate_fails_only_above_the_line(bad: int, rows: int, limit: float, fails: bool) -> None:
    assert gate_fails(bad, rows, limit) is fails
    assert verdict(bad, rows, limit).endswith("fail" if fails else "pass")


def test_the_failing_file_has_a_share_of_bad_rows_drawn_per_seed(tmp_path: Path) -> None:
    shares = []
    for seed in (11, 12):
        path = tmp_path / f"{seed}.csv"
        bad, rows = write_failing_data(out=path, seed=quality_seed(seed), rows=2000)
        assert rows == 2000 and (bad, rows) == count_bad_rows_csv(path.read_bytes())
        share = bad_share_pct(bad, rows)
        assert BLANK_SHARE[0] * 100 - 2 < share < BLANK_SHARE[1] * 100 + 2
        shares.append(share)
        below, again, above = thresholds(seed=seed, share=share)
        assert float(below) < share - 0.5 and float(above) > share + 0.5  # the two sides of the line
        assert again == "" or float(again) < share - 0.5
        assert all(v.isdigit() for v in (below, above, *([again] if again else [])))  # int() reads them too
    drawn = {bool(thresholds(seed=seed, share=20.0)[1]) for seed in range(40)}
    assert drawn == {True, False}  # the extra failing repair is made in some gradings, not in others
    assert shares[0] != shares[1]
    again = tmp_path / "again.csv"
    write_failing_data(out=again, seed=quality_seed(11), rows=2000)
    assert again.read_bytes() == (tmp_path / "11.csv").read_bytes()  # reproducible from the grading's seed


def _gate_right(bad: int, rows: int, limit: float) -> None:
    if rows == 0 or 100 * bad / rows > limit:
        raise ValueError("too many bad rows")


def _gate_fixed(bad: int, rows: int, limit: float) -> None:
    if rows == 0 or 100 * bad / rows > 5:
        raise ValueError("too many bad rows")


def _gate_inclusive(bad: int, rows: int, limit: float) -> None:
    if rows == 0 or 100 * bad / rows >= limit:
        raise ValueError("too many bad rows")


@pytest.mark.parametrize(("gate", "right"), [(_gate_right, True), (_gate_fixed, False), (_gate_inclusive, False)])
def test_the_feedback_tries_the_learners_gate_on_both_sides_of_the_line(gate: Any, right: bool) -> None:
    findings = judge_gate({"check_quality": gate})
    assert findings[0][0] == ("✅" if right else "❌"), findings
    if not right:
        assert "must" in findings[0][1]
    decisions = {gate_fails(b, r, limit) for b, r, limit in GATE_CASES}
    assert decisions == {True, False}  # the cases sit on both sides of the line


def test_the_feedback_says_not_done_yet_before_the_exercise() -> None:
    assert judge_gate({})[0][0] == "⏳"

    def untouched(bad: int, rows: int, limit: float) -> None:
        raise NotImplementedError("Exercise quality.gate: write check_quality")

    assert judge_gate({"check_quality": untouched})[0][0] == "⏳"


@pytest.mark.spark
def test_spark_counts_the_same_bad_rows_as_the_file(spark: Any, tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    expected = write_failing_data(out=path, seed=quality_seed(5), rows=2000)
    frame = spark.read.option("header", True).csv(str(path))
    assert count_bad_rows(frame) == expected


def test_a_gate_that_compares_with_a_fixed_number_rarely_passes_the_grader() -> None:
    """`fail when max_bad_pct is below C` (never computing the share) passes only when C falls between the grader's
    values; they sit close to a share drawn across a wide range, so no C does so often."""
    import random

    from checkers.grading.quality_run import blank_share

    draws = []
    for seed in range(2000):
        share = 100 * blank_share(random.Random(seed)) + 0.4  # the generator's own missing values add a little
        draws.append(thresholds(seed=seed, share=share))
    for cut in range(2, 100):
        def fails(value: str, cut: int = cut) -> bool:
            return int(value) != 5 and int(value) < cut  # the lesson's default 5 passes the good data

        wins = sum(fails(below) and (not again or fails(again)) and not fails(above) for below, again, above in draws)
        assert wins / len(draws) < 0.2, (cut, wins)
