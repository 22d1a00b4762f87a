"""Submissions laid out the way real projects are, built from solutions/ (shared by several test modules)."""

from __future__ import annotations

import shutil
from pathlib import Path

from checkers.config import PROJECT_ROOT

SOLUTIONS = PROJECT_ROOT / "solutions"


def bundle_layout(root: Path) -> Path:
    """solutions/ as `databricks bundle init` lays a project out: notebooks in src/, the job in resources/, the
    schema default in the root's variables."""
    (root / "src").mkdir(parents=True)
    (root / "resources").mkdir()
    for stem in ("00_widgets", "01_bronze", "02_silver", "03_gold", "04_quality"):
        shutil.copy(SOLUTIONS / f"{stem}.ipynb", root / "src" / f"{stem}.ipynb")
    job = (SOLUTIONS / "job.yml").read_text(encoding="utf-8").replace("notebook_path: ./", "notebook_path: ../src/")
    job = job.replace("default: day07\n", "default: ${var.schema}\n", 1)
    (root / "resources" / "day07_pipeline.job.yml").write_text(job, encoding="utf-8")
    (root / "databricks.yml").write_text("bundle:\n  name: day07\ninclude:\n  - resources/*.yml\n"
                                         "variables:\n  schema:\n    default: day07\n", encoding="utf-8")
    return root

