"""Shared by the content tests: where the course lives, how the solution pipeline is run, what feedback prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import yaml

from checkers.config import PROJECT_ROOT
from checkers.notebooks.execute import NotebookResult, execute_notebook

SOLUTIONS = PROJECT_ROOT / "solutions"
LESSONS = PROJECT_ROOT / "lessons"
PIPELINE = (("bronze", "01_bronze"), ("silver", "02_silver"), ("quality", "04_quality"), ("gold", "03_gold"))
"""(task key in solutions/job.yml, notebook stem), in dependency order."""
CELL_TIMEOUT = 300.0
BIG_ROWS = 200_000
BIG_SEED = 7
"""Any seed but the sample's: the pipeline must work on data it was not written against."""
GOOD, BAD, NOT_DONE, CANNOT, NOTE = "✅", "❌", "⏳", "⚠️", "ℹ️"
"""What a feedback (check) cell prints in front of each finding."""


@dataclass
class PipelineRun:
    """The solution notebooks run in job order on one raw file."""

    source: Path
    """The raw CSV on local disk (what expectations are computed from)."""
    schema: str
    """Schema the tables were written to."""
    results: dict[str, NotebookResult] = field(default_factory=dict)
    """Notebook stem → result, in run order."""
    in_job: bool = True
    """Run as job tasks (check cells print one line and skip), or by hand (check cells check)."""


def job_parameters() -> dict[str, str]:
    """The job parameters of solutions/job.yml, name → default: what Databricks pushes down to the widgets."""
    document = yaml.safe_load((SOLUTIONS / "job.yml").read_text(encoding="utf-8"))
    job = document["resources"]["jobs"]["day07_pipeline"]
    return {p["name"]: str(p["default"]) for p in job["parameters"]}


def run_pipeline(*, folder: Path, parameters: dict[str, str], out_dir: Path, env: dict[str, str],
                 source: Path, in_job: bool = True) -> PipelineRun:
    """01 → 02 → 03 with the same parameters for each, upstream task values passed on: as job tasks, or (``in_job``
    False) as a learner runs them by hand with those widget values, the check cells then checking."""
    run = PipelineRun(source=source, schema=parameters["schema"], in_job=in_job)
    task_values: dict[str, dict[str, Any]] = {}
    for task_key, stem in PIPELINE:
        result = execute_notebook(path=folder / f"{stem}.ipynb", parameters=parameters, in_job=in_job,
                                  task_key=task_key, task_values=task_values, env=env,
                                  output_path=out_dir / f"{stem}.ipynb", cell_timeout=CELL_TIMEOUT)
        run.results[stem] = result
        if not result.ok:
            break
        task_values[task_key] = dict(result.record.task_values)
    return run


def printed(cell: Any) -> str:
    """Everything a code cell printed (stdout)."""
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stdout")


def check_cells(path: Path) -> list[Any]:
    """The feedback cells (tag ``check``) of an executed notebook."""
    nb = nbformat.read(str(path), as_version=4)
    return [c for c in nb.cells if c.cell_type == "code" and "check" in c.metadata.get("tags", [])]
