"""``day07 docs screenshots``: run the solutions for real and write every docs image from that run.

Nothing here is hand-made: the widget bar is a capture of a real JupyterLab running ``00_widgets``' widget cells
(:mod:`checkers.authoring.lab`); the layer images come from the executed notebooks of a real local job run, the task
graph from the job file, and the timeline from that run's record. Those three are the kit's own drawings
(:mod:`~checkers.authoring.notebook_drawing`, :mod:`~checkers.authoring.graph_drawing`,
:mod:`~checkers.authoring.timeline_drawing`: inline CSS and SVG, nothing fetched, captured by
:mod:`~checkers.authoring.chromium`), and each says so in its header: they are not pictures of the Databricks UI.
A change to the solutions shows up in the docs on the next run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from checkers.authoring.chromium import Camera, camera, chromium_path
from checkers.authoring.graph_drawing import job_graph_html
from checkers.authoring.lab import capture_widget_bar
from checkers.authoring.notebook_drawing import notebook_html
from checkers.authoring.shot import ScreenshotError, Shot
from checkers.authoring.timeline_drawing import run_timeline_html

if TYPE_CHECKING:
    from checkers.jobs.load import LoadedJob
    from checkers.jobs.record import RunRecord

#: Image name → what it shows.
IMAGES = {
    "widgets.png": "the widget bar of 00_widgets in a real JupyterLab, a layer picked in it",
    "bronze_layer.png": "01_bronze's key cells and table preview, from a real job run",
    "silver_layer.png": "02_silver's key cells and table preview, from a real job run",
    "gold_layer.png": "03_gold's key cells and table preview, from a real job run",
    "job_workflow.png": "the task graph of solutions/job.yml",
    "job_workflow_2.png": "a finished local run of the job: states and durations on a timeline",
}
#: Schema the docs run writes to: the one the docs teach, so the images show what a learner sees. It holds what
#: ``day07 run`` of the solutions writes there anyway (the solutions on the sample data).
DOCS_SCHEMA = "day07"
_LAYERS = {"bronze_layer.png": "01_bronze", "silver_layer.png": "02_silver", "gold_layer.png": "03_gold"}


@dataclass
class ScreenshotRun:
    """The real runs the images come from (only those the requested images need)."""

    job: LoadedJob
    """The solution job."""
    record: RunRecord | None = None
    """The finished local run of that job."""

    def finished(self) -> RunRecord:
        if self.record is None:
            raise ScreenshotError("No job run was made for this image.")
        return self.record


def real_runs(*, root: Path, runs_dir: Path, schema: str = DOCS_SCHEMA, job_run: bool = True) -> ScreenshotRun:
    """Run the solution job (in ``schema``) for real; a failed run is a ScreenshotError.

    ``job_run`` False skips the run when no requested image needs it (the graph needs only the job file).
    """
    from checkers.jobs.load import load_job
    from checkers.jobs.run import run_job

    job_file = root / "solutions" / "job.yml"
    if not job_file.is_file():
        raise ScreenshotError(f"{job_file} not found.", hint="The screenshots come from the solution job.")
    job = load_job(path=job_file)
    run = ScreenshotRun(job=job)
    if job_run:
        names = {p.name for p in job.settings.parameters or []}
        record = run_job(job=job, parameters={"schema": schema} if "schema" in names else {}, runs_dir=runs_dir)
        if record.result_state != "SUCCESS":
            failed = [f"{t.task_key}: {t.message}" for t in record.tasks if t.result_state != "SUCCESS"]
            raise ScreenshotError(f"The solution job ended {record.result_state} (run folder {record.run_dir}):"
                                  "\n  " + "\n  ".join(failed),
                                  hint="Fix the solutions first; the docs show a real run.")
        run.record = record
    return run


def _layer_notebook(record: RunRecord, stem: str) -> tuple[Path, float | None, str | None]:
    for task in record.tasks:
        if task.notebook_file and Path(task.notebook_file).stem == stem:
            last = next((a for a in reversed(task.attempts) if a.notebook), None)
            if last is not None and last.notebook is not None:
                return Path(record.run_dir) / last.notebook, task.duration, task.result_state
    raise ScreenshotError(f"Run {record.run_id} has no task that ran {stem}.",
                          hint="The solution job must run 01_bronze, 02_silver and 03_gold.")


def page_for(name: str, run: ScreenshotRun) -> tuple[str, str]:
    """(HTML, what it was drawn from) for a drawn image ``name`` (every image but the JupyterLab capture)."""
    import nbformat

    if name in _LAYERS:
        path, duration, state = _layer_notebook(run.finished(), _LAYERS[name])
        notebook = nbformat.read(str(path), as_version=4)
        return (notebook_html(notebook=notebook, name=_LAYERS[name], state=state, duration=duration),
                f"executed notebook {path}")
    if name == "job_workflow.png":
        return job_graph_html(job=run.job), f"job file {run.job.path}"
    if name == "job_workflow_2.png":
        record = run.finished()
        return run_timeline_html(record=record), f"run record {record.path}"
    raise ScreenshotError(f"Unknown image {name!r}.", hint=f"Images: {', '.join(IMAGES)}.")


LAB_IMAGE = "widgets.png"
"""The one image captured from a real JupyterLab (:func:`checkers.authoring.lab.capture_widget_bar`), not drawn."""


def generate_screenshots(*, root: Path, out_dir: Path, only: Sequence[str] | None = None,
                         runs_dir: Path | None = None, schema: str = DOCS_SCHEMA,
                         cam: Camera | None = None) -> list[Shot]:
    """Run the solutions for real and write every docs image (or ``only`` those) to ``out_dir``.

    ``cam`` reuses an open :func:`camera` (Playwright's sync API cannot open a second one inside the first).
    """
    from checkers.config import settings

    names = list(only) if only else list(IMAGES)
    unknown = [n for n in names if n not in IMAGES]
    if unknown:
        raise ScreenshotError(f"Unknown image {', '.join(unknown)}.", hint=f"Images: {', '.join(IMAGES)}.")
    if cam is None:
        chromium_path()  # fail before the (minute-long) runs, not after
    run = real_runs(root=root, runs_dir=runs_dir or settings().home / "docs-runs", schema=schema,
                    job_run=any(n in names for n in (*_LAYERS, "job_workflow_2.png")))
    with contextlib.ExitStack() as stack:
        if cam is None:
            cam = stack.enter_context(camera())
        shots = []
        for name in names:
            if name == LAB_IMAGE:
                shots.append(capture_widget_bar(cam=cam, solution=root / "solutions" / "00_widgets.ipynb",
                                                out=out_dir / name))
                continue
            page_html, source = page_for(name, run)
            shots.append(cam.capture(page_html=page_html, out=out_dir / name, source=source))
    leaky = [f"{s.path.name}: {', '.join(s.blocked)}" for s in shots if s.blocked]
    if leaky:
        raise ScreenshotError("A drawing tried to load something from another host: " + "; ".join(leaky),
                              hint="The images must be drawn from local data only.")
    return shots
