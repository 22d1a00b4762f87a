"""Widgets: the notebooks' parameters, judged from what the runtime recorded, and whether the job's values arrive.

``00_widgets`` is not part of the job: the grader runs it twice itself, once with values passed in and once
with none, and reads the declarations and the exit value from the runtime record.
"""

from __future__ import annotations

import json
from typing import Any

from checkers.grading.checks.common import not_done_hint, plural, quoted, thousands
from checkers.grading.checks.evidence import Evidence, NotebookRun
from checkers.grading.checks.registry import Outcome, check, failed, passed, skipped
from checkers.grading.declared import conflict, describe_recorded
from checkers.runtime.context import WidgetDecl

LAYERS = ("bronze", "silver", "gold")
DEFAULT_LAYER = "bronze"
DEFAULT_SCHEMA = "day07"
TASK_WIDGETS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "01_bronze": (("source_path", None), ("schema", DEFAULT_SCHEMA)),
    "02_silver": (("schema", DEFAULT_SCHEMA),),
    "03_gold": (("schema", DEFAULT_SCHEMA),),
}
"""The contract (docs/contract.md): each task notebook's text widgets and required defaults (None: any)."""
MIN_SESSION_OVERLAP = 0.5
"""Share of bronze's sessions that must come from the grader's file for source_path to count as used."""


def _widget_run(ev: Evidence, which: str) -> NotebookRun:
    return ev.widget_runs.get(which) or NotebookRun(stem="00_widgets", status="not_run", message="it was not run")


def _declared(run: NotebookRun) -> dict[str, WidgetDecl]:
    if run.record is None:
        return {}
    return {w.name: w for w in run.record.widgets}


def forged(ev: Evidence, stem: str, decls: dict[str, WidgetDecl], names: tuple[str, ...]) -> list[str]:
    """Where what the runtime reported for ``names`` contradicts the notebook's own source (see
    :mod:`checkers.grading.declared`): such a report cannot be trusted, and the check fails."""
    problems = []
    for name in names:
        recorded = decls.get(name)
        if recorded is None:
            continue
        written = conflict(recorded, ev.written.get(stem, []))
        if written is not None and written.kind == "none":
            problems.append(f"{stem}: the runtime recorded {name} as {describe_recorded(recorded)}, but the source "
                            "never declares it (every widget call in it is spelled out): the report was not made by a "
                            "declaration")
        elif written is not None:
            problems.append(f"{stem}: the runtime recorded {name} as {describe_recorded(recorded)}, but the source "
                            f"declares it as {written.describe()}: the recorded and written declarations differ")
    return problems


@check("widgets.declared", points=2, title="00_widgets declares text source_path and dropdown layer",
       hint="Declare dbutils.widgets.text(\"source_path\", …) and dbutils.widgets.dropdown(\"layer\", \"bronze\", "
            "[\"bronze\", \"silver\", \"gold\"]) before reading them.", docs="widgets.md")
def declared(ev: Evidence) -> Outcome:
    runs = [_widget_run(ev, "defaults"), _widget_run(ev, "passed")]
    run = next((r for r in runs if r.record is not None and r.record.widgets), runs[0])
    if run.status in ("missing", "unreadable"):
        return failed(run.explain())
    widgets = _declared(run)
    problems = forged(ev, "00_widgets", widgets, ("source_path", "layer"))
    if problems:
        return failed("; ".join(problems), hint="Declare the widgets with dbutils.widgets.text / dropdown and leave "
                      "what the runtime records alone.")
    source = widgets.get("source_path")
    if source is None:
        problems.append("no widget source_path")
    elif source.kind != "text":
        problems.append(f"source_path is a {source.kind} widget, not text")
    layer = widgets.get("layer")
    if layer is None:
        problems.append("no widget layer")
    else:
        if layer.kind != "dropdown":
            problems.append(f"layer is a {layer.kind} widget, not a dropdown")
        if layer.default != DEFAULT_LAYER:
            problems.append(f"layer's default is {layer.default!r}, not 'bronze'")
        choices = list(layer.choices or [])
        if sorted(choices) != sorted(LAYERS) or len(set(choices)) != len(choices):
            problems.append(f"layer's choices are {quoted(choices, 6) or 'none'}; expected exactly 'bronze', "
                            "'silver', 'gold'")
    if not problems and source is not None:
        return passed(f"source_path is a text widget (default {source.default!r}); layer is a dropdown, default "
                      "'bronze', choices bronze, silver, gold")
    if not run.ok:
        return failed(f"{'; '.join(problems)} — {run.explain()}",
                      hint=not_done_hint(run.exercise) if run.exercise else None)
    return failed("00_widgets: " + "; ".join(problems))


def _exit_json(run: NotebookRun) -> tuple[dict[str, Any] | None, str | None]:
    """The exit value as a JSON object, or why it is not one."""
    value = run.exit_value
    if value is None:
        if not run.ok:
            return None, run.explain()
        return None, "00_widgets ended without calling dbutils.notebook.exit(...)"
    try:
        data = json.loads(value)
    except ValueError:
        return None, f"the exit value {value[:120]!r} is not JSON"
    if not isinstance(data, dict):
        return None, f"the exit value {value[:120]!r} is JSON but not an object with layer and source_path"
    return data, None


def _echo(run: NotebookRun, want: dict[str, str], how: str) -> Outcome:
    data, problem = _exit_json(run)
    if data is None:
        return failed(f"run {how}: {problem}",
                      hint=not_done_hint(run.exercise) if run.exercise else
                      "End 00_widgets with dbutils.notebook.exit(json.dumps({\"layer\": layer, "
                      "\"source_path\": source_path})).")
    wrong = [f"{key}={data.get(key)!r} (expected {value!r})" for key, value in want.items() if data.get(key) != value]
    if wrong:
        return failed(f"run {how}, 00_widgets returned {', '.join(wrong)}")
    shown = ", ".join(f"{k}={v!r}" for k, v in want.items())
    return passed(f"run {how}, 00_widgets returned {shown}")


@check("widgets.echo_passed", points=2, title="00_widgets returns the values it was given",
       hint="Read both widgets with dbutils.widgets.get and return them: dbutils.notebook.exit(json.dumps("
            "{\"layer\": layer, \"source_path\": source_path})).", docs="widgets.md", requires=("widgets.declared",))
def echo_passed(ev: Evidence) -> Outcome:
    want = {k: v for k, v in ev.widget_parameters.items() if k in ("layer", "source_path")}
    shown = ", ".join(f"{k}={v!r}" for k, v in want.items())
    return _echo(_widget_run(ev, "passed"), want, f"with {shown}")


@check("widgets.echo_defaults", points=2, title="00_widgets returns its defaults when given nothing",
       hint="Without parameters dbutils.widgets.get returns each widget's default: do not hard-code other values.",
       docs="widgets.md", requires=("widgets.declared",))
def echo_defaults(ev: Evidence) -> Outcome:
    run = _widget_run(ev, "defaults")
    source = _declared(run).get("source_path")
    want = {"layer": DEFAULT_LAYER, "source_path": source.default if source is not None else ""}
    return _echo(run, want, "without parameters")


@check("widgets.task_widgets", points=2, title="01–03 declare their source_path / schema text widgets",
       hint="01_bronze declares text widgets source_path and schema (default \"day07\"); 02_silver and 03_gold "
            "declare the text widget schema (default \"day07\").", docs="widgets.md")
def task_widgets(ev: Evidence) -> Outcome:
    ran = [ev.notebook_run(stem) for stem in TASK_WIDGETS]
    if all(run.exercise for run in ran if run.status != "not_run") and any(run.exercise for run in ran):
        # every notebook stopped at a lesson exercise (the grader runs silver and gold even when bronze fails): the
        # declarations the lessons give are no work of the learner's yet
        return skipped("judged once the notebooks' exercises are done; "
                       f"{next(run for run in ran if run.exercise).explain()}")
    problems: list[str] = []
    unjudged: list[NotebookRun] = []
    for stem, wanted in TASK_WIDGETS.items():
        run = ev.notebook_run(stem)
        widgets = {w.name: w for w in run.record.widgets} if run.record is not None else {}
        problems += forged(ev, stem, widgets, tuple(name for name, _ in wanted))
        for name, default in wanted:
            w = widgets.get(name)
            if w is None:
                if run.ok:
                    problems.append(f"{stem} declares no widget {name}")
                elif run not in unjudged:
                    unjudged.append(run)  # it stopped before declaring it (the runtime reports each one at once)
            elif w.kind != "text":
                problems.append(f"{stem}'s {name} is a {w.kind} widget, not text")
            elif default is not None and w.default != default:
                problems.append(f"{stem}'s {name} default is {w.default!r}, not {default!r}")
    if problems:
        return failed("; ".join(problems))
    if unjudged:
        first = unjudged[0]
        return skipped(f"judged once each notebook declares its widgets; {first.explain()}"
                       + (f" (and {plural(len(unjudged) - 1, 'more')})" if len(unjudged) > 1 else ""))
    return passed("01_bronze declares source_path and schema, 02_silver and 03_gold declare schema, all text "
                  "with schema defaulting to 'day07'")


@check("widgets.parameters_used", points=2, title="the job's source_path reaches 01_bronze",
       hint="Load the file named by the source_path widget (dbutils.widgets.get(\"source_path\")), never a fixed "
            "path: the grader passes its own file.", docs="widgets.md", requires=("bronze.columns",))
def parameters_used(ev: Evidence) -> Outcome:
    snap = ev.table("bronze_events")
    frame = snap.frame
    exp = ev.expectations
    if frame is None or exp is None:
        return skipped("needs the bronze table and the grader's expectations")
    sessions = frame["user_session"].dropna().astype(str)
    if sessions.empty:
        return failed(f"{snap.qualified} has no user_session values, so it cannot hold the grader's file")
    known = set(exp.raw["user_session"].dropna().astype(str))
    distinct = sessions.unique()
    share = sum(s in known for s in distinct) / len(distinct)
    if share >= MIN_SESSION_OVERLAP:
        seed = f" (seed {ev.seed})" if ev.seed is not None else ""  # the in-notebook feedback knows no seed
        return passed(f"bronze holds the file passed as source_path, {ev.source_path.name}{seed}, in schema "
                      f"{ev.schema}")
    files = frame["source_file"].dropna().astype(str).map(lambda v: v.rstrip("/").rsplit("/", 1)[-1]).unique() \
        if "source_file" in frame else []
    read = f" (source_file says {quoted(files, 2)})" if len(files) else ""
    return failed(f"{snap.qualified} holds {thousands(len(frame))} rows of another file{read}: only "
                  f"{share:.0%} of its sessions are in the grader's {ev.source_path.name}, passed as source_path")
