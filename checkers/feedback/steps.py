"""Each lesson step's feedback: which grader checks it shows, and the evidence they judge.

A step that builds a DataFrame (a silver rule, a gold step) is judged on the table that DataFrame becomes: the
learner's DataFrame, finished with the solution's later steps (:mod:`checkers.feedback.reference`), snapshotted as the
grader snapshots a table. A step after a write is judged on the table itself. Widgets and task values are judged
from what the runtime recorded. Every verdict comes from the grader's own check functions through ``run_checks``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from checkers.feedback.notebook import FeedbackProblem, RawData, Session
from checkers.grading.checks.evidence import Evidence
from checkers.grading.checks.registry import CheckSpec, catalogue, run_checks
from checkers.grading.result import CheckResult
from checkers.runtime.context import RuntimeRecord

RECORDED = frozenset({"widgets.declared", "widgets.echo_passed", "widgets.echo_defaults", "widgets.task_widgets",
                      "bronze.task_value", "silver.task_value"})
"""Checks judged from what the runtime recorded (widgets declared, task values set)."""
NO_RECORD = "This runtime shows no record of widgets and task values: the grader checks them when it runs the notebook"
LIGHT = frozenset({"widgets.declared", "widgets.echo_passed", "widgets.echo_defaults", "widgets.task_widgets",
                   "bronze.table", "bronze.columns", "bronze.task_value", "silver.table", "silver.columns",
                   "silver.task_value", "gold.product_metrics.table", "gold.daily_sales.table"})
"""Checks that need no expected values and no rows, only columns and row counts: all that runs on big data."""
ICONS = {"passed": "✅", "failed": "❌", "error": "⚠️"}
SILVER_RULES = ("silver.parse_time", "silver.not_null", "silver.event_type", "silver.price", "silver.dedup",
                "silver.unknown_fill", "silver.derived")
BRONZE_ALL = ("bronze.table", "bronze.columns", "widgets.parameters_used", "bronze.rows", "bronze.values",
              "bronze.metadata", "bronze.task_value")
SILVER_ALL = ("silver.table", "silver.columns", "silver.kept_rows", *SILVER_RULES, "silver.values", "silver.task_value")
GOLD_PM = ("gold.product_metrics.table", "gold.product_metrics.rows", "gold.product_metrics.counts",
           "gold.product_metrics.revenue", "gold.product_metrics.conversion")
GOLD_DS = ("gold.daily_sales.table", "gold.daily_sales.rows", "gold.daily_sales.counts", "gold.daily_sales.revenue")

Build = Callable[[Session, RawData | None, bool], Evidence]
"""(session, the raw data of :attr:`Step.data`, light) → the evidence."""


@dataclass(frozen=True)
class Step:
    """One check cell's feedback."""

    show: tuple[str, ...]
    """The grader checks it prints, in order (a check skipped for a failed prerequisite prints that one instead)."""
    needs: tuple[str, ...]
    """Notebook variables it reads: missing, the exercise is not done yet."""
    build: Build
    """Gathers the evidence."""
    data: Callable[[Session], RawData] | None = None
    """Where its raw data comes from (None: it needs none)."""


# --------------------------------------------------------------------------------------------------- widgets


def _widgets_declare(session: Session, data: RawData | None, light: bool) -> Evidence:
    run = session.notebook_run("00_widgets")
    return session.evidence(data=None, widget_runs={"passed": run, "defaults": run})


def _widgets_read(session: Session, data: RawData | None, light: bool) -> Evidence:
    """The exit value the lesson's last cell would return, against the widgets' current values."""
    record = session.record() or RuntimeRecord()  # none at all: the recorded checks are left out anyway
    record.exited = True
    record.exit_value = json.dumps({"layer": session.namespace.get("layer"),
                                    "source_path": session.namespace.get("source_path")})
    run = session.notebook_run("00_widgets", record)
    values = {name: value for name in ("layer", "source_path") if (value := session.widget(name)) is not None}
    return session.evidence(data=None, widget_runs={"passed": run, "defaults": run}, widget_parameters=values)


# --------------------------------------------------------------------------------------------------- bronze


def _bronze_frame(session: Session, data: RawData | None, light: bool) -> Evidence:
    snapshot = session.frame_snapshot(session.frame("bronze"), name="bronze_events", qualified="bronze",
                                      light=light)
    return session.evidence(data=data, tables={"bronze_events": snapshot},
                            notebooks={"01_bronze": session.notebook_run("01_bronze")})


def _bronze_table(session: Session, data: RawData | None, light: bool) -> Evidence:
    return session.evidence(data=data, tables={"bronze_events": session.table_snapshot("bronze_events", light=light)},
                            notebooks={"01_bronze": session.notebook_run("01_bronze")})


def _bronze_task_value(session: Session, data: RawData | None, light: bool) -> Evidence:
    tables = {"bronze_events": session.table_snapshot("bronze_events", light=True)}  # the row count is enough
    return session.evidence(data=None, tables=tables, notebooks={"01_bronze": session.notebook_run("01_bronze")})


# --------------------------------------------------------------------------------------------------- silver


def _silver_rule(exercise: str, variable: str) -> Build:
    def build(session: Session, data: RawData | None, light: bool) -> Evidence:
        from checkers.feedback.reference import finish_silver

        finished = finish_silver(session.frame(variable), after=exercise)
        snapshot = session.frame_snapshot(finished, name="silver_events", qualified=f"silver from {variable}",
                                          light=light)
        return session.evidence(data=data, tables={"silver_events": snapshot},
                                notebooks={"02_silver": session.notebook_run("02_silver")})

    return build


def _silver_table(session: Session, data: RawData | None, light: bool) -> Evidence:
    return session.evidence(data=data, tables={"silver_events": session.table_snapshot("silver_events", light=light)},
                            notebooks={"02_silver": session.notebook_run("02_silver")})


# --------------------------------------------------------------------------------------------------- gold


def _gold(frames: Callable[[Session], dict[str, Any]]) -> Build:
    def build(session: Session, data: RawData | None, light: bool) -> Evidence:
        tables = {"silver_events": session.table_snapshot("silver_events", light=light)}
        for name, (qualified, frame) in frames(session).items():
            tables[name] = session.frame_snapshot(frame, name=name, qualified=qualified, light=light)
        return session.evidence(data=data, tables=tables,
                                notebooks={"03_gold": session.notebook_run("03_gold")})

    return build


def _funnel(session: Session) -> dict[str, Any]:
    from checkers.feedback import reference as ref

    finished = ref.conversion(ref.metrics(session.frame("funnel"), ref.revenue(session.frame("silver"))))
    return {"gold_product_metrics": ("funnel", finished)}


def _revenue(session: Session) -> dict[str, Any]:
    from checkers.feedback import reference as ref

    finished = ref.conversion(ref.metrics(session.frame("funnel"), session.frame("revenue")))
    return {"gold_product_metrics": ("revenue", finished)}


def _gold_tables(session: Session, data: RawData | None, light: bool) -> Evidence:
    tables = {name: session.table_snapshot(name, light=light)
              for name in ("silver_events", "gold_product_metrics", "gold_daily_sales")}
    return session.evidence(data=data, tables=tables, notebooks={"03_gold": session.notebook_run("03_gold")})


STEPS: dict[str, Step] = {
    "widgets.declare": Step(("widgets.declared",), (), _widgets_declare),
    "widgets.read": Step(("widgets.echo_passed",), ("layer", "source_path"), _widgets_read),
    "bronze.ingest": Step(("bronze.columns", "widgets.parameters_used", "bronze.rows", "bronze.values",
                           "bronze.metadata"), ("bronze",), _bronze_frame, Session.raw_from_widget),
    "bronze.task_value": Step(("bronze.task_value",), (), _bronze_task_value),
    "bronze.table": Step(BRONZE_ALL, (), _bronze_table, Session.raw_from_widget),
    **{exercise: Step((check,), (variable,), _silver_rule(exercise, variable), Session.raw_from_bronze)
       for exercise, check, variable in (
           ("silver.parse_time", "silver.parse_time", "parsed"), ("silver.not_null", "silver.not_null", "complete"),
           ("silver.event_type", "silver.event_type", "known_types"), ("silver.price", "silver.price", "priced"),
           ("silver.dedup", "silver.dedup", "deduped"), ("silver.fill_unknown", "silver.unknown_fill", "filled"),
           ("silver.derive", "silver.derived", "silver"))},
    "silver.table": Step(SILVER_ALL, (), _silver_table, Session.raw_from_bronze),
    "gold.funnel": Step(("gold.product_metrics.rows", "gold.product_metrics.counts"), ("silver", "funnel"),
                        _gold(_funnel), Session.raw_from_bronze),
    "gold.revenue": Step(("gold.product_metrics.revenue",), ("silver", "funnel", "revenue"), _gold(_revenue),
                         Session.raw_from_bronze),
    "gold.conversion": Step(("gold.product_metrics.table", "gold.product_metrics.conversion"), ("product_metrics",),
                            _gold(lambda s: {"gold_product_metrics": ("product_metrics", s.frame("product_metrics"))}),
                            Session.raw_from_bronze),
    "gold.daily_sales": Step(GOLD_DS, ("daily_sales",),
                             _gold(lambda s: {"gold_daily_sales": ("daily_sales", s.frame("daily_sales"))}),
                             Session.raw_from_bronze),
    "gold.tables": Step(GOLD_PM + GOLD_DS, (), _gold_tables, Session.raw_from_bronze),
}
"""Check-cell step → its feedback. The ids are the lessons' exercise ids, plus ``<layer>.table`` for the cell that
checks the tables a notebook wrote."""


# --------------------------------------------------------------------------------------------------- running


@dataclass
class StepResult:
    """What one check cell found: the results it shows, and why only the light checks ran (if they did)."""

    step: str
    shown: list[CheckResult]
    notes: list[str] = field(default_factory=list)
    """Why some checks did not run (big data, no record), one sentence each."""


def _with_prerequisites(ids: tuple[str, ...], specs: dict[str, CheckSpec]) -> set[str]:
    wanted: set[str] = set()
    todo = list(ids)
    while todo:
        check_id = todo.pop()
        if check_id in wanted or check_id not in specs:
            continue
        wanted.add(check_id)
        todo.extend(specs[check_id].requires)
    return wanted


def _root_cause(result: CheckResult, by_id: dict[str, CheckResult], specs: dict[str, CheckSpec]) -> CheckResult | None:
    """The prerequisite that failed (or errored) and so made ``result`` skipped; None when nothing did."""
    for needed in specs[result.id].requires:
        other = by_id.get(needed)
        if other is None or other.status == "passed":
            continue
        if other.status in ("failed", "error"):
            return other
        deeper = _root_cause(other, by_id, specs)
        if deeper is not None:
            return deeper
    return None


def evaluate(step: str, namespace: dict[str, Any]) -> StepResult | str:
    """The grader's verdicts for ``step``, or a one-line reason why it cannot be judged yet (starting with an icon)."""
    spec = STEPS.get(step)
    if spec is None:
        return f"⚠️ {step}: no feedback is known for this step (known: {', '.join(STEPS)})"
    missing = [name for name in spec.needs if name not in namespace]
    if missing:
        return f"⏳ {step}: not done yet: there is no `{missing[0]}` yet. Run the exercise cell above first."
    session = Session(namespace)
    notes: list[str] = []
    light = False
    data = None
    try:
        if spec.data is not None:
            data = spec.data(session)
            light = data.expectations is None
            if light and data.problem:
                notes.append(f"{data.problem[0].upper()}{data.problem[1:]}: only the checks that need no expected "
                             "values ran")
        evidence = spec.build(session, data, light)
    except FeedbackProblem as problem:
        return f"⏳ {step}: not done yet: {problem}."
    specs = {s.id: s for s in catalogue()}
    ids = _with_prerequisites(spec.show, specs)
    if light:
        ids &= LIGHT
    if session.record() is None:  # no kit record, no input history: leave what needs them to the grader
        ids -= RECORDED
        if not ids & set(spec.show):
            return f"ℹ️ {step}: {NO_RECORD}."
        notes.append(NO_RECORD)
    results = run_checks(evidence, specs=[s for s in catalogue() if s.id in ids])
    by_id = {r.id: r for r in results}
    shown: list[CheckResult] = []
    for check_id in spec.show:
        result = by_id.get(check_id)
        if result is None:
            continue
        if result.status == "skipped":
            result = _root_cause(result, by_id, specs) or result
        if result.id not in {r.id for r in shown}:
            shown.append(result)
    return StepResult(step=step, shown=shown, notes=notes)


def lines(result: StepResult | str) -> list[str]:
    """What a check cell prints."""
    if isinstance(result, str):
        return [result]
    out = []
    out += [f"ℹ️ {result.step}: {note}." for note in result.notes]
    for r in result.shown:
        if r.status == "skipped":
            out.append(f"ℹ️ {r.id}: {r.message}")
            continue
        out.append(f"{ICONS.get(r.status, '⚠️')} {r.id}: {r.message}")
        if r.status != "passed":
            out.append(f"   → {r.hint}")
    return out


def run_step(step: str, namespace: dict[str, Any]) -> None:
    """Evaluate ``step`` and print its lines (Spark errors in the learner's DataFrame are the learner's to fix)."""
    try:
        result = evaluate(step, namespace)
    except Exception as exc:  # noqa: BLE001 - the learner's DataFrame fails when Spark runs it
        if not _from_spark(exc):
            raise
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        result = (f"❌ {step}: Spark cannot compute your DataFrame: {type(exc).__name__}: {first}\n"
                  "   → Run the exercise cell again and read its error; fix it, then run this cell.")
    print("\n".join(lines(result)))


def _from_spark(exc: BaseException) -> bool:
    """An error Spark raised while running a DataFrame (not a bug in the feedback)."""
    module = type(exc).__module__ or ""
    return module.startswith(("pyspark", "py4j"))
