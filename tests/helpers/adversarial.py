"""Build hostile submissions from solutions/: copy it, then change one notebook or the job file.

Each is built at test time, so no big copies of the solutions are committed; :mod:`tests.helpers.hostile_cells`
holds the code cells the variants inject. Used by tests/grading/test_adversarial.py, tests/grading/test_cohort.py
and benchmarks/grade_cohort.py.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import nbformat
import yaml

from checkers.config import PROJECT_ROOT
from tests.helpers import hostile_cells

SOLUTIONS = PROJECT_ROOT / "solutions"


def copy_solutions(dest: Path) -> Path:
    shutil.copytree(SOLUTIONS, dest, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return dest


def insert_cell(folder: Path, stem: str, source: str, *, position: int = 1) -> None:
    """Put a code cell at ``position`` (after the first cell by default: the helpers cell stays first)."""
    path = folder / f"{stem}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nb.cells.insert(position, nbformat.v4.new_code_cell(source))
    nbformat.write(nb, str(path))


def replace_notebook(folder: Path, stem: str, source: str) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nbformat.write(nb, str(folder / f"{stem}.ipynb"))


def infinite_loop(folder: Path) -> None:
    insert_cell(folder, "02_silver", hostile_cells.INFINITE_LOOP)  # silver: no retries, so one timeout


def os_exit(folder: Path) -> None:
    insert_cell(folder, "03_gold", hostile_cells.OS_EXIT)


def flood(folder: Path) -> None:
    insert_cell(folder, "03_gold", hostile_cells.FLOOD)


def memory_hog(folder: Path) -> None:
    insert_cell(folder, "03_gold", hostile_cells.MEMORY_HOG)


def bad_json(folder: Path) -> None:
    (folder / "01_bronze.ipynb").write_text('{"cells": [ this is not json', encoding="utf-8")


def missing_notebook(folder: Path) -> None:
    (folder / "02_silver.ipynb").unlink()


def job_cycle(folder: Path) -> None:
    path = folder / "job.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    tasks = data["resources"]["jobs"]["day07_pipeline"]["tasks"]
    bronze = next(t for t in tasks if t["task_key"] == "bronze")
    bronze["depends_on"] = [{"task_key": "gold"}]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def fake_report(folder: Path) -> None:
    replace_notebook(folder, "02_silver", hostile_cells.FAKE_REPORT)


def drop_schema(folder: Path) -> None:
    insert_cell(folder, "03_gold", hostile_cells.DROP_SCHEMA)


def flood_and_drop_schema(folder: Path) -> None:
    """Two hostile acts that leave the submission's own pipeline right (one grading covers both)."""
    flood(folder)
    drop_schema(folder)


def forge_record(folder: Path) -> None:
    replace_notebook(folder, "00_widgets", hostile_cells.FORGE_RECORD)


def forge_event(folder: Path) -> None:
    replace_notebook(folder, "00_widgets", hostile_cells.FORGE_EVENT)


def missing_notebook_and_forge_event(folder: Path) -> None:
    """No 02_silver, and a forged widget event in 00_widgets: apart, so one grading covers both."""
    missing_notebook(folder)
    forge_event(folder)


def copier(folder: Path) -> None:
    replace_notebook(folder, "02_silver", hostile_cells.COPIER)


def write_data(folder: Path) -> None:
    insert_cell(folder, "01_bronze", hostile_cells.WRITE_DATA)


def udf_escape(folder: Path) -> None:
    insert_cell(folder, "01_bronze", hostile_cells.UDF_ESCAPE)


def read_outside(folder: Path) -> None:
    insert_cell(folder, "02_silver", hostile_cells.READ_OUTSIDE)


def drop_neighbours(folder: Path) -> None:
    insert_cell(folder, "03_gold", hostile_cells.DROP_NEIGHBOURS)


def kit_code(folder: Path) -> None:
    """Silver built with the kit's reference steps; the check cells' code edited, and a bronze check cell changed so
    that it runs (while grading, check cells only print: neither this copy nor the kit's steps run)."""
    nb_path = folder / "02_silver.ipynb"
    nb = nbformat.read(str(nb_path), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(hostile_cells.KIT_REFERENCE))
    nbformat.write(nb, str(nb_path))
    (folder / "day07_checks" / "__init__.py").write_text(hostile_cells.EDITED_BUNDLE, encoding="utf-8")
    bronze_path = folder / "01_bronze.ipynb"
    bronze = nbformat.read(str(bronze_path), as_version=4)
    cell = next(c for c in bronze.cells if "check" in c.get("metadata", {}).get("tags", []))
    cell.source += "  # run me too"
    nbformat.write(bronze, str(bronze_path))


def escapes(folder: Path) -> None:
    """Every way out through the Spark server and the kernel, in one submission whose pipeline is right."""
    write_data(folder)
    udf_escape(folder)
    read_outside(folder)
    drop_neighbours(folder)


VARIANTS: dict[str, Callable[[Path], None]] = {
    "infinite_loop": infinite_loop, "os_exit": os_exit, "flood": flood, "memory_hog": memory_hog, "bad_json": bad_json,
    "missing_notebook": missing_notebook, "job_cycle": job_cycle, "fake_report": fake_report,
    "drop_schema": drop_schema, "flood_and_drop_schema": flood_and_drop_schema, "forge_record": forge_record,
    "forge_event": forge_event, "missing_notebook_and_forge_event": missing_notebook_and_forge_event,
    "copier": copier, "write_data": write_data,
    "udf_escape": udf_escape,
    "read_outside": read_outside, "drop_neighbours": drop_neighbours, "escapes": escapes, "kit_code": kit_code,
}


def build(dest: Path, variant: str | None) -> Path:
    """``dest`` = solutions/ with ``variant`` applied (None: the solutions unchanged)."""
    copy_solutions(dest)
    if variant is not None:
        VARIANTS[variant](dest)
    return dest


def traversal_zip(path: Path) -> Path:
    """An archive whose member climbs out of the extraction folder."""
    with zipfile.ZipFile(path, "w") as zf:
        for nb in sorted(SOLUTIONS.glob("*.ipynb")):
            zf.write(nb, f"sub/{nb.name}")
        zf.writestr("../../escaped.txt", "pwned")
    return path


def solutions_zip(path: Path) -> Path:
    """The solutions as a learner would zip their folder: everything under one top-level folder."""
    with zipfile.ZipFile(path, "w") as zf:
        for f in sorted(SOLUTIONS.iterdir()):
            if f.is_file():
                zf.write(f, f"my_submission/{f.name}")
    return path
