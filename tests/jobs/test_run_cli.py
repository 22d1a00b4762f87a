"""``day07 run``: exit codes, the summary, repair from the command line, and one clear message (never a
traceback) for a job file that cannot run. Condition-only jobs keep these tests free of kernels."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

FILES = Path(__file__).resolve().parent.parent / "files"
Day07 = Callable[..., tuple[int, str, str]]


def _run_id(out: str) -> str:
    found = re.search(r"^Run (\d+)", out, re.MULTILINE)
    assert found, out
    return found.group(1)


@pytest.mark.parametrize(("name", "expected"), [
    ("bad_yaml_syntax.yml", "line 10, column 10"),
    ("bad_cycle.yml", "a → b → c → a"),
    ("bad_typo_key.yml", "did you mean `depends_on`"),
    ("bad_missing_notebook.yml", "./notebooks/01_bronze.py"),
    ("bad_cron.yml", "has 5 fields"),
    ("bad_json_syntax.json", "line 5"),
])
def test_a_bad_job_file_exits_2_with_one_clear_message(day07: Day07, name: str, expected: str,
                                                       kit_home: Path) -> None:
    before = sorted((kit_home / "runs").glob("*")) if (kit_home / "runs").exists() else []
    code, out, err = day07("run", str(FILES / "jobs" / name))

    assert code == 2
    assert expected in err
    assert name in err
    assert [line for line in err.splitlines() if line.startswith("error:")] == [err.splitlines()[0]]
    assert "Traceback" not in out + err
    after = sorted((kit_home / "runs").glob("*")) if (kit_home / "runs").exists() else []
    assert after == before  # nothing ran


def test_a_successful_run_exits_0_with_a_summary_and_its_folder(day07: Day07, kit_home: Path) -> None:
    code, out, err = day07("run", str(FILES / "runner" / "conditions_only.yml"))

    assert code == 0, err
    assert "has_rows" in out and "load" in out and "report" in out
    run_id = _run_id(out)
    assert f"Run {run_id}: SUCCESS" in out
    assert str(kit_home / "runs" / run_id) in out
    assert (kit_home / "runs" / run_id / "run.json").is_file()


def test_a_parameter_can_take_the_other_branch(day07: Day07) -> None:
    code, out, _ = day07("run", str(FILES / "runner" / "conditions_only.yml"), "--param", "rows=0")

    assert code == 0
    assert re.search(r"load\s.*EXCLUDED", out)


def test_a_failed_run_exits_1_and_its_repair_can_succeed(day07: Day07) -> None:
    job = str(FILES / "runner" / "conditions_only.yml")
    code, out, _ = day07("run", job, "--param", "rows=many")

    assert code == 1
    run_id = _run_id(out)
    assert f"Run {run_id}: FAILED" in out
    assert "not a number" in out
    assert f"day07 run --repair {run_id}" in out

    code, out, err = day07("run", "--repair", run_id, "--param", "rows=7")
    assert code == 0, err
    assert f"Run {run_id} (repair 1): SUCCESS" in out


@pytest.mark.parametrize(("argv", "expected"), [
    (["--param", "nope=1"], "no parameter `nope`"),
    (["--param", "rows"], "is not KEY=VALUE"),
    (["--max-parallel", "0"], "--max-parallel 0"),
    (["--cell-timeout", "0"], "--cell-timeout 0"),
    (["--repair", "987654"], "No run 987654"),
])
def test_bad_options_exit_2_with_a_message(day07: Day07, argv: list[str], expected: str) -> None:
    code, out, err = day07("run", str(FILES / "runner" / "conditions_only.yml"), *argv)

    assert code == 2
    assert expected in err
    assert "Traceback" not in out + err
