"""The grading flow's parts that need no kernel: finding files, the private copy, seeds, refusals, the CLI."""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from checkers.config import PROJECT_ROOT
from checkers.data import SAMPLE_SEED
from checkers.errors import GradingError
from checkers.grading.grade import grade_submission
from checkers.grading.job_evidence import job_notes, job_unrunnable, load_job_evidence
from checkers.grading.options import GradeOptions, choose_seed
from checkers.grading.submission import MAX_COPIED_FILE_BYTES, copy_submission
from checkers.jobs.project import find_submission
from tests.helpers.layouts import bundle_layout

SOLUTIONS = PROJECT_ROOT / "solutions"
ALT = Path(__file__).resolve().parent.parent / "files" / "submissions" / "alt_sql"


def test_notebooks_are_found_by_stem_in_either_format(tmp_path: Path) -> None:
    shutil.copy(SOLUTIONS / "01_bronze.ipynb", tmp_path / "01_bronze.ipynb")
    (tmp_path / "01_bronze.py").write_text("# Databricks notebook source\nx = 1\n", encoding="utf-8")
    shutil.copy(ALT / "02_silver.py", tmp_path / "02_silver.py")
    found = find_submission(folder=tmp_path)
    assert found.notebooks["01_bronze"] == tmp_path / "01_bronze.ipynb"
    assert found.notebooks["02_silver"] == tmp_path / "02_silver.py"
    assert found.missing_notebooks == ["00_widgets", "03_gold", "04_quality"]
    assert any("both 01_bronze.ipynb and 01_bronze.py exist" in note for note in found.notes)


def test_job_yml_is_preferred_and_otherwise_the_one_file_that_loads_as_a_job(tmp_path: Path) -> None:
    (tmp_path / "settings.yaml").write_text("colour: blue\n", encoding="utf-8")
    shutil.copy(ALT / "job.json", tmp_path / "pipeline.json")
    assert find_submission(folder=tmp_path).job_file == tmp_path / "pipeline.json"
    shutil.copy(SOLUTIONS / "job.yml", tmp_path / "job.yml")
    assert find_submission(folder=tmp_path).job_file == tmp_path / "job.yml"


def test_the_private_copy_leaves_out_links_caches_and_huge_files(tmp_path: Path) -> None:
    source = tmp_path / "sub"
    (source / "helpers").mkdir(parents=True)
    (source / ".ipynb_checkpoints").mkdir()
    (source / "helpers" / "util.py").write_text("X = 1\n", encoding="utf-8")
    (source / ".ipynb_checkpoints" / "old.ipynb").write_text("{}", encoding="utf-8")
    with (source / "2019-Oct.csv").open("wb") as fh:
        fh.truncate(MAX_COPIED_FILE_BYTES + 1)
    os.symlink("/etc/hostname", source / "link.txt")
    notes = copy_submission(source=source, dest=tmp_path / "copy")
    copied = sorted(str(p.relative_to(tmp_path / "copy")) for p in (tmp_path / "copy").rglob("*"))
    assert copied == ["helpers", "helpers/util.py"]
    assert any("2019-Oct.csv" in n and "too big" in n for n in notes)
    assert any("link.txt" in n for n in notes)


def test_the_private_copy_holds_check_cells_that_only_print_never_an_edited_copy(tmp_path: Path) -> None:
    """While grading, the check cells' code only prints: neither an edited copy nor the kit's reference steps and
    grader modules are there to import."""
    from checkers.grading.submission import GRADING_BUNDLE, KIT_BUNDLE

    unchanged, edited = tmp_path / "unchanged", tmp_path / "edited"
    shutil.copytree(KIT_BUNDLE, unchanged / "src" / "day07_checks")
    shutil.copytree(KIT_BUNDLE, edited / "day07_checks")
    (edited / "day07_checks" / "__init__.py").write_text("def feedback(step, ns):\n    ns['spark'].sql('...')\n",
                                                         encoding="utf-8")
    (edited / "day07_checks" / "extra.py").write_text("X = 1\n", encoding="utf-8")

    assert copy_submission(source=unchanged, dest=tmp_path / "copy1") == []
    notes = copy_submission(source=edited, dest=tmp_path / "copy2")
    assert any("day07_checks/ differed from the kit's" in n for n in notes)
    for copied in (tmp_path / "copy1" / "src" / "day07_checks", tmp_path / "copy2" / "day07_checks"):
        assert sorted(p.relative_to(copied).as_posix() for p in copied.rglob("*")) == sorted(GRADING_BUNDLE)
    assert (KIT_BUNDLE / "reference.py").is_file() and not (tmp_path / "copy1" / "src" / "day07_checks" /
                                                            "reference.py").exists()


def test_seeds_are_random_and_never_the_samples() -> None:
    seeds = {choose_seed() for _ in range(20)}
    assert SAMPLE_SEED not in seeds and len(seeds) > 1
    assert choose_seed(42) == 42
    with pytest.raises(GradingError, match="sample's seed"):
        choose_seed(SAMPLE_SEED)


@pytest.mark.parametrize(("folder", "options", "message"), [
    (Path("/no/such/folder"), GradeOptions(), "does not exist"),
    (SOLUTIONS, GradeOptions(rows=100), "too small"),
    (SOLUTIONS, GradeOptions(schema="Robert'); DROP"), "not a plain lower-case identifier"),
])
def test_grading_refuses_bad_arguments_before_doing_anything(folder: Path, options: GradeOptions, message: str,
                                                            tmp_path: Path) -> None:
    with pytest.raises(GradingError, match=message):
        grade_submission(folder=folder, options=options, work_dir=tmp_path / "work")
    assert not (tmp_path / "work").exists()


def test_the_job_runs_only_when_it_is_what_the_contract_asks() -> None:
    assert job_unrunnable(load_job_evidence(find_submission(folder=SOLUTIONS))) is None
    assert job_unrunnable(load_job_evidence(find_submission(folder=ALT))) is None
    lesson = job_unrunnable(load_job_evidence(find_submission(folder=PROJECT_ROOT / "lessons")))
    assert lesson == "the job cannot receive the grader's data: no job parameter source_path"


def test_a_job_without_parameters_is_not_run(tmp_path: Path) -> None:
    for nb in SOLUTIONS.glob("0*.ipynb"):
        shutil.copy(nb, tmp_path / nb.name)
    text = (SOLUTIONS / "job.yml").read_text(encoding="utf-8")
    start = text.index("      parameters:")
    end = text.index("      # END SOLUTION", start)
    (tmp_path / "job.yml").write_text(text[:start] + text[end:], encoding="utf-8")
    reason = job_unrunnable(load_job_evidence(find_submission(folder=tmp_path)))
    assert reason == "the job cannot receive the grader's data: no job parameter source_path"


def test_a_job_wired_differently_still_runs_one_task_at_a_time(tmp_path: Path) -> None:
    for nb in SOLUTIONS.glob("0*.ipynb"):
        shutil.copy(nb, tmp_path / nb.name)
    text = (SOLUTIONS / "job.yml").read_text(encoding="utf-8")
    wrong = text.replace("            - task_key: silver\n", "            - task_key: bronze\n")  # gold after bronze
    assert wrong != text
    (tmp_path / "job.yml").write_text(wrong, encoding="utf-8")
    job = load_job_evidence(find_submission(folder=tmp_path))
    assert job_unrunnable(job) is None
    serial, note = job_notes(job)
    assert serial == 1 and "one task at a time" in note and "gold" in note
    assert job_notes(load_job_evidence(find_submission(folder=SOLUTIONS))) == (None, "")


# --------------------------------------------------------------------------------------------- CLI


def _main(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    from checkers import cli

    return cli.main(argv)


def test_cli_folder_and_solutions_together_is_a_usage_error(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert _main(["check", str(SOLUTIONS), "--solutions"], monkeypatch) == 2
    assert "either a FOLDER or --solutions" in capsys.readouterr().err


def test_cli_missing_folder_is_exit_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert _main(["check", "/no/such/submission"], monkeypatch) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_defaults_to_the_lessons_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from checkers import workspace
    from checkers.cli.check_cmd import submission_folder

    monkeypatch.setattr(workspace, "MY_WORK", tmp_path / "my_work")  # no learner's folder yet (tests/cli has more)
    args = argparse.Namespace(folder=None, solutions=False)
    assert submission_folder(args) == PROJECT_ROOT / "lessons"
    assert submission_folder(argparse.Namespace(folder=None, solutions=True)) == PROJECT_ROOT / "solutions"


def test_grading_a_class_is_refused_without_the_sandbox_and_names_the_way_out(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from checkers import sandbox as confine
    from checkers.grading.options import sandbox_note

    missing = confine.SandboxStatus(False, None, "bwrap is not installed (apt-get install bubblewrap)")
    monkeypatch.setattr(confine, "sandbox_status", lambda: missing)
    with pytest.raises(GradingError, match="sandbox is not available") as info:
        sandbox_note("required")
    assert "bubblewrap" in (info.value.hint or "") and "--no-sandbox" in (info.value.hint or "")
    assert "without a sandbox" in sandbox_note("auto")  # a learner's own check goes on, with the note
    assert "WITHOUT a sandbox (--no-sandbox)" in sandbox_note("off")
    (tmp_path / "cohort" / "alice").mkdir(parents=True)
    assert _main(["grade", str(tmp_path / "cohort"), "--out", str(tmp_path / "out")], monkeypatch) == 2
    err = capsys.readouterr().err
    assert "sandbox is not available" in err and "--no-sandbox" in err
    assert not (tmp_path / "out" / "gradebook.json").exists()  # refused before anything ran


def test_no_sandbox_reaches_every_grading_of_the_cohort(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import checkers.grading.grade as grade_module
    from checkers.grading.cohort import grade_cohort

    seen: list[Any] = []

    def grader(*, folder: Path, options: Any, **_kw: Any) -> Any:
        seen.append(options)
        raise RuntimeError("stop here")

    monkeypatch.setattr(grade_module, "grade_submission", grader)
    for sid in ("alice", "bob"):
        (tmp_path / "cohort" / sid).mkdir(parents=True)
    monkeypatch.setattr("checkers.spark.server.ensure_server", lambda spec=None: None)
    result = grade_cohort(cohort_dir=tmp_path / "cohort", out_dir=tmp_path / "out", workers=1, rows=2000,
                          sandbox="off")
    assert {e.status for e in result.entries} == {"error"}
    assert [o.sandbox for o in seen] == ["off", "off"]
    assert {o.seed for o in seen} == {e.seed for e in result.entries} and len({o.seed for o in seen}) == 2
    assert all(o.server is not None and not o.server.confined for o in seen)


def test_a_bundle_project_is_found_in_src_and_resources(tmp_path: Path) -> None:
    from checkers.jobs.load import load_job

    root = bundle_layout(tmp_path / "project")
    found = find_submission(folder=root)
    assert found.job_file == root / "resources" / "day07_pipeline.job.yml", found.job_problem
    assert found.notebooks == {stem: root / "src" / f"{stem}.ipynb" for stem in found.notebooks}
    assert any("grading src/01_bronze.ipynb" in note for note in found.notes)
    loaded = load_job(path=found.job_file)  # the root's variables reach the included file, as `include:` does
    assert {p.name: p.default for p in loaded.settings.parameters}["schema"] == "day07" and not loaded.unresolved


def test_a_wrapping_folder_and_workspace_paths_find_the_notebooks_below(tmp_path: Path) -> None:
    inner = tmp_path / "alice-day07" / "day07"
    (inner / "notebooks").mkdir(parents=True)
    for stem in ("00_widgets", "01_bronze", "02_silver", "03_gold"):
        shutil.copy(ALT / f"{stem}.py", inner / "notebooks" / f"{stem}.py")
    shutil.copy(ALT / "job.json", inner / "job.json")  # absolute workspace paths, matched by name
    (inner / "notebooks" / "events_sample.json").write_bytes(b"[" + b"0," * (1024 * 1024) + b"0]")  # data
    found = find_submission(folder=tmp_path)
    assert found.job_file == inner / "job.json", found.job_problem
    assert found.notebooks["02_silver"] == inner / "notebooks" / "02_silver.py"
    assert found.missing_notebooks == ["04_quality"]


def test_a_stale_top_level_copy_is_not_graded_when_the_job_runs_another(tmp_path: Path) -> None:
    root = bundle_layout(tmp_path / "project")
    (root / "01_bronze.py").write_text("# Databricks notebook source\nraise SystemExit('old draft')\n",
                                       encoding="utf-8")
    found = find_submission(folder=root)
    assert found.notebooks["01_bronze"] == root / "src" / "01_bronze.ipynb"
    assert any("both 01_bronze.ipynb and 01_bronze.py exist; grading 01_bronze.ipynb" in n for n in found.notes)


def test_a_broken_link_below_the_folder_is_not_a_job_candidate(tmp_path: Path) -> None:
    (tmp_path / "resources").mkdir()
    os.symlink(tmp_path / "gone.yml", tmp_path / "resources" / "job.yml")
    found = find_submission(folder=tmp_path)
    assert found.job_file is None and "no job definition file" in (found.job_problem or "")


def test_only_a_run_that_failed_after_declaring_its_widgets_is_run_again_after_the_job() -> None:
    """The second run gives 00_widgets the job's tables: it can only help a run that got past its widgets."""
    from checkers.grading.checks import CellError, NotebookRun
    from checkers.grading.runs import widget_reruns
    from checkers.runtime.context import RuntimeRecord, WidgetDecl

    declared = RuntimeRecord(widgets=[WidgetDecl(name="layer", kind="dropdown", default="bronze")])

    def run(status: str, record: RuntimeRecord | None, ename: str = "AnalysisException", evalue: str = "") -> Any:
        return NotebookRun(stem="00_widgets", status=status, record=record,  # type: ignore[arg-type]
                           error=CellError(ename=ename, evalue=evalue, cell=3) if status == "failed" else None)

    runs = {
        "dispatch": run("failed", declared, evalue="[TABLE_OR_VIEW_NOT_FOUND] day07.silver_events"),
        "ok": run("success", declared),
        "before_widgets": run("failed", RuntimeRecord()),
        "exercise": run("failed", declared, "NotImplementedError", "Exercise widgets.read: read both widgets"),
        "slow": run("timeout", declared),
        "missing": run("missing", None),
    }
    assert widget_reruns(runs) == ("dispatch",)
