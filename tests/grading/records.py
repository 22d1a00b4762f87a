"""Evidence for the record checks, built by hand: runtime records and run records, no kernel, no Spark."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from checkers.grading.checks import (
    CellError,
    Evidence,
    JobEvidence,
    NotebookRun,
    PipelineRun,
    TableSnapshot,
    catalogue,
    run_checks,
)
from checkers.grading.report import CheckResult
from checkers.jobs.project import Submission
from checkers.runtime.context import RuntimeRecord, WidgetDecl

SOURCE = Path("/data/events_seed7.csv")
DEFAULT_SOURCE = "/Volumes/workspace/ecommerce/ecommerce_data/2019-Oct.csv"
WIDGET_CHECKS = [s for s in catalogue() if s.id in ("widgets.declared", "widgets.echo_passed",
                                                     "widgets.echo_defaults", "widgets.task_widgets")]
RUN_CHECKS = [s for s in catalogue() if s.id in ("run.unseen_data", "run.order", "run.success")]
QUALITY_CHECKS = [s for s in catalogue() if s.id in ("stretch.quality_gate", "stretch.overrides", "stretch.repair")]
T0 = datetime(2026, 1, 1, 2, 0, tzinfo=timezone.utc)


def widgets_00(*, layer: WidgetDecl | None = None, source: WidgetDecl | None = None) -> list[WidgetDecl]:
    return [source or WidgetDecl("source_path", "text", DEFAULT_SOURCE),
            layer or WidgetDecl("layer", "dropdown", "bronze", ["bronze", "silver", "gold"])]


def run_00(params: dict[str, str], *, widgets: list[WidgetDecl] | None = None, echo: dict | None = None,
           exit_value: str | None = None, error: CellError | None = None) -> NotebookRun:
    declared = widgets if widgets is not None else widgets_00()
    defaults = {w.name: w.default for w in declared}
    if exit_value is None and error is None:
        exit_value = json.dumps(echo if echo is not None else {k: params.get(k, defaults.get(k))
                                                               for k in ("layer", "source_path")})
    return NotebookRun(stem="00_widgets", status="failed" if error else "success", error=error,
                       record=RuntimeRecord(widgets=declared, exit_value=exit_value, exited=exit_value is not None),
                       parameters=params)


TASK_DECLS = {
    "01_bronze": [WidgetDecl("source_path", "text", DEFAULT_SOURCE), WidgetDecl("schema", "text", "day07")],
    "02_silver": [WidgetDecl("schema", "text", "day07")],
    "03_gold": [WidgetDecl("schema", "text", "day07")],
}


def evidence(*, passed: NotebookRun | None = None, defaults: NotebookRun | None = None,
             notebooks: dict[str, NotebookRun] | None = None, run: PipelineRun | None = None,
             tables: tuple[str, ...] = ("bronze_events", "silver_events", "gold_product_metrics",
                                        "gold_daily_sales")) -> Evidence:
    """Records of a run; ``tables``: the tables it left (their rows are not read here)."""
    given = {"layer": "gold", "source_path": str(SOURCE)}
    tasks = {stem: NotebookRun(stem=stem, status="success", record=RuntimeRecord(widgets=decls))
             for stem, decls in TASK_DECLS.items()}
    tasks.update(notebooks or {})
    return Evidence(submission=Submission(folder=Path("/sub"), notebooks={}), schema="grade_x", source_path=SOURCE,
                    seed=7, job=JobEvidence(file=None), run=run or PipelineRun(mode="none"), notebooks=tasks,
                    tables={t: TableSnapshot(name=t, qualified=f"grade_x.{t}", exists=True) for t in tables},
                    widget_runs={"passed": passed or run_00({**given, "schema": "grade_x_w"}),
                                 "defaults": defaults or run_00({"schema": "grade_x_w"})},
                    widget_parameters=given)


def grade(ev: Evidence, specs: list) -> dict[str, CheckResult]:
    return {r.id: r for r in run_checks(ev, specs=specs)}
