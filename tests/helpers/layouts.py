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



def dbc_archive(path: Path, *, folder: str = "day07") -> Path:
    """solutions/' notebooks as Databricks' "Export → DBC Archive" packs a workspace folder: one JSON member per
    notebook (``day07/01_bronze.python``), its commands listed out of order with their positions, markdown as
    ``%md`` commands. Written from the solutions at test time: no copy is committed."""
    import json
    import zipfile

    import nbformat

    with zipfile.ZipFile(path, "w") as zf:
        for stem in ("00_widgets", "01_bronze", "02_silver", "03_gold", "04_quality"):
            nb = nbformat.read(str(SOLUTIONS / f"{stem}.ipynb"), as_version=4)
            commands = [{"version": "CommandV1", "subtype": "command", "commandType": "auto", "position": float(i + 1),
                         "command": ("%md\n" + cell.source) if cell.cell_type == "markdown" else cell.source,
                         "guid": f"{stem}-{i}"}
                        for i, cell in enumerate(nb.cells) if cell.cell_type in ("code", "markdown")]
            notebook = {"version": "NotebookV1", "name": stem, "language": "python", "guid": stem,
                        "commands": commands[1::2] + commands[0::2],  # the list's order is not the notebook's
                        "dashboards": [], "globalVars": {}, "iPythonMetadata": None, "inputWidgets": {}}
            zf.writestr(f"{folder}/{stem}.python", json.dumps(notebook))
    return path


VOLUME_WRITES = '''\
# As on Databricks: a volume in the job's own schema, written by Spark (the server) and by Python (the kernel).
spark.sql(f"CREATE VOLUME IF NOT EXISTS workspace.{schema}.lake")
bronze.limit(10).write.mode("overwrite").parquet(f"/Volumes/workspace/{schema}/lake/bronze_sample")
dbutils.fs.put(f"/Volumes/workspace/{schema}/lake/_SUCCESS", "bronze done", True)
with open(f"/Volumes/workspace/{schema}/lake/rows.txt", "w") as out:
    out.write(str(spark.read.parquet(f"/Volumes/workspace/{schema}/lake/bronze_sample").count()))
assert dbutils.fs.head(f"/Volumes/workspace/{schema}/lake/rows.txt") == "10"
'''


def write_volumes(folder: Path, stem: str = "01_bronze") -> Path:
    """Add :data:`VOLUME_WRITES` to ``stem`` (a notebook of ``folder``, an ``.ipynb``) after its table is written."""
    import nbformat

    path = next(p for p in folder.rglob(f"{stem}.ipynb"))
    nb = nbformat.read(str(path), as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "saveAsTable" in c.source) + 1
    nb.cells.insert(at, nbformat.v4.new_code_cell(VOLUME_WRITES))
    nbformat.write(nb, str(path))
    return folder
