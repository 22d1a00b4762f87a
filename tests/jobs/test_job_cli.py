"""``day07 job …``: exit codes, and one clear message (never a traceback) for bad job files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers.rubric import fraction, points

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


# --------------------------------------------------------------------------------------------- --exercise

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"


def _solution_job_with(tmp_path: Path, edit) -> Path:  # noqa: ANN001 - a small test helper
    import yaml

    for notebook in SOLUTIONS.glob("0*.ipynb"):
        shutil.copy(notebook, tmp_path / notebook.name)
    document = yaml.safe_load((SOLUTIONS / "job.yml").read_text(encoding="utf-8"))
    edit(document["resources"]["jobs"]["day07_pipeline"])
    path = tmp_path / "job.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def test_a_valid_job_that_is_wrong_as_the_exercise_fails_with_the_graders_message(day07, tmp_path: Path) -> None:
    """Gold after bronze is a valid Databricks job: plain validate says so; --exercise says what the grader says."""
    from checkers.grading.job_exercise import check_job_exercise

    def gold_after_bronze(job: dict) -> None:
        next(t for t in job["tasks"] if t["task_key"] == "gold")["depends_on"] = [{"task_key": "bronze"}]

    path = _solution_job_with(tmp_path, gold_after_bronze)
    code, out, _ = day07("job", "validate", str(path))
    assert code == 0 and "✓ valid" in out and "--exercise" in out

    code, out, err = day07("job", "validate", "--exercise", str(path))
    assert code == 1 and "Traceback" not in out + err
    graders = {r.id: r for r in check_job_exercise(job_file=path).results}
    for check_id in ("job.tasks", "stretch.fan_out"):
        assert graders[check_id].status == "failed"
        # the grader's message, word for word
        shown = fraction(check_id) if graders[check_id].required else f"stretch {fraction(check_id)}"
        assert f"✗ {check_id} ({shown}): {graders[check_id].message}" in out
    assert "task gold (03_gold) does not run after silver (02_silver): it depends on bronze" in out
    assert f"✓ job.schedule ({points('job.schedule'):g}/{points('job.schedule'):g})" in out
    # the stretch goal (the quality gate) is reported, but only the required check costs points
    assert f"not yet right as the exercise: job.tasks would cost {points('job.tasks'):g} of" in out


def test_the_solution_job_is_right_as_the_exercise(day07) -> None:
    code, out, _ = day07("job", "validate", "--exercise", str(SOLUTIONS / "job.yml"))
    assert code == 0
    assert "right as the exercise: every job check passes" in out
    # The condition is judged from the file; that it was evaluated needs a run, which validate does not make.
    assert "condition task bronze_has_rows is written right, but the graded run did not evaluate it" in out


def test_the_untouched_lesson_job_lists_every_exercise_left(day07) -> None:
    lessons = SOLUTIONS.parent / "lessons" / "job.yml"
    code, out, _ = day07("job", "validate", "--exercise", str(lessons))
    assert code == 1
    shipped = "not done yet: job.yml is the lesson's job as shipped: it still has TODO"
    assert f"✗ job.valid ({fraction('job.valid')}): {shipped}" in out
    listed = out.split("still has TODO", 1)[1].split("\n", 1)[0]
    for todo in ("job.dependencies", "job.parameters", "job.schedule", "job.fan_out", "job.retries", "job.email",
                 "job.condition"):
        assert todo in listed, todo
    assert f"✗ stretch.fan_out (stretch {fraction('stretch.fan_out')}): not done yet: job.yml still has TODO " \
           "job.fan_out" in out


def test_exercise_with_a_yaml_error_names_the_line_in_job_valid(day07) -> None:
    code, out, err = day07("job", "validate", "--exercise", str(FILES / "bad_yaml_syntax.yml"))
    assert code == 2
    assert f"✗ job.valid ({fraction('job.valid')})" in out and "line 10" in out
    assert "Traceback" not in out + err


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


def test_a_bundles_job_file_in_resources_finds_its_notebooks_below_the_bundle_root(tmp_path: Path) -> None:
    """databricks.yml at the root, resources/x.job.yml with ../src/ notebook paths: --exercise reads it as the
    grader does (notebooks below the bundle's root), so correct work is not told it loses job.valid."""
    import shutil

    import yaml

    from checkers.grading.job_exercise import check_job_exercise

    job = yaml.safe_load((SOLUTIONS / "job.yml").read_text())
    (tmp_path / "src").mkdir()
    (tmp_path / "resources").mkdir()
    for notebook in SOLUTIONS.glob("0*.ipynb"):
        shutil.copy(notebook, tmp_path / "src" / notebook.name)
    for spec in next(iter(job["resources"]["jobs"].values()))["tasks"]:
        if "notebook_task" in spec:
            name = Path(spec["notebook_task"]["notebook_path"]).name
            spec["notebook_task"]["notebook_path"] = f"../src/{name}"
    (tmp_path / "databricks.yml").write_text("bundle:\n  name: day07\ninclude:\n  - resources/*.yml\n")
    job_file = tmp_path / "resources" / "day07.job.yml"
    job_file.write_text(yaml.safe_dump(job))
    results = {r.id: r for r in check_job_exercise(job_file=job_file).results}
    assert results["job.valid"].status == "passed", results["job.valid"].message
    assert results["job.tasks"].status == "passed", results["job.tasks"].message
