"""``day07 job …``: exit codes, and one clear message (never a traceback) for bad job files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

FILES = Path(__file__).resolve().parent.parent / "files" / "jobs"


def test_validate_clean_job_exits_0(day07) -> None:
    code, out, err = day07("job", "validate", str(FILES / "day07_job.yml"))

    assert code == 0
    assert "valid" in out and "4 tasks" in out
    assert err == ""


def test_validate_warnings_only_exits_0_and_lists_them(day07) -> None:
    code, out, _ = day07("job", "validate", str(FILES / "warn_isolated_task.yml"))

    assert code == 0
    assert "audit" in out and "warning" in out


@pytest.mark.parametrize(("name", "expected"), [
    ("bad_yaml_syntax.yml", "line 10, column 10"),
    ("bad_cycle.yml", "a → b → c → a"),
    ("bad_typo_key.yml", "did you mean `depends_on`"),
    ("bad_missing_notebook.yml", "./notebooks/01_bronze.py"),
    ("bad_cron.yml", "has 5 fields"),
    ("bad_json_syntax.json", "line 5"),
    ("two_jobs.yml", "first_job, second_job"),
])
def test_validate_bad_files_exit_2_with_a_clear_message_and_no_traceback(day07, name: str, expected: str) -> None:
    code, out, err = day07("job", "validate", str(FILES / name))

    assert code == 2
    assert expected in out + err
    assert name in err  # the one-line summary names the file
    assert "Traceback" not in out + err


def test_validate_missing_file_exits_2(day07, tmp_path: Path) -> None:
    code, _, err = day07("job", "validate", str(tmp_path / "nope.yml"))

    assert code == 2
    assert "not found" in err and "Traceback" not in err


def test_schedule_prints_words_and_next_fire_times(day07) -> None:
    code, out, _ = day07("job", "schedule", str(FILES / "day07_job_create.json"), "--count", "3",
                         "--from", "2026-03-27T12:00")

    assert code == 0
    assert "Every day at 02:00 (Europe/Berlin)" in out
    assert "2026-03-28 02:00:00 CET" in out
    assert "2026-03-29 03:00:00 CEST" in out
    assert "2026-03-30 02:00:00 CEST" in out
    assert "2026-03-31" not in out  # --count 3 means three rows


@pytest.mark.parametrize("name", ["bad_cron.yml", "bad_timezone.yml"])
def test_schedule_with_bad_schedule_exits_2(day07, name: str) -> None:
    code, out, err = day07("job", "schedule", str(FILES / name))

    assert code == 2
    assert "schedule" in err and "Traceback" not in out + err


def test_schedule_of_an_unscheduled_job(day07) -> None:
    code, out, _ = day07("job", "schedule", str(FILES / "warn_isolated_task.yml"))

    assert code == 0
    assert "No schedule" in out


def test_export_json_to_a_file_loads_back(day07, tmp_path: Path) -> None:
    for nb in ("01_bronze.py", "02_silver.py", "03_gold.py"):
        shutil.copy(FILES / nb, tmp_path / nb)
    out = tmp_path / "job.json"

    code, stdout, _ = day07("job", "export", str(FILES / "day07_job.yml"), "--to", "json", "--out", str(out))

    assert code == 0 and "wrote" in stdout
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert [t["task_key"] for t in exported["tasks"]] == ["bronze", "bronze_has_rows", "silver", "gold"]
    code, _, _ = day07("job", "validate", str(out))
    assert code == 0


def test_export_yaml_to_stdout(day07) -> None:
    code, out, _ = day07("job", "export", str(FILES / "day07_job_get.json"), "--to", "yaml")

    assert code == 0
    assert out.startswith("bundle:")
    assert "notebook_path: ./01_bronze.py" in out


def test_export_refuses_an_invalid_job(day07) -> None:
    code, out, err = day07("job", "export", str(FILES / "bad_cycle.yml"), "--to", "yaml")

    assert code == 2
    assert "cycle" in err and out == ""


def test_export_needs_to(day07) -> None:
    code, _, err = day07("job", "export", str(FILES / "day07_job.yml"))

    assert code == 2
    assert "--to" in err


def test_job_without_subcommand_prints_help_and_exits_2(day07) -> None:
    code, out, _ = day07("job")

    assert code == 2
    assert "validate" in out and "schedule" in out and "export" in out
