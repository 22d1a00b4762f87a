"""A grading report and its renderings: rich console, JSON (docs/contract.md), JUnit XML, Gradescope ``results.json``.

The report is plain data; every renderer reads only it, so a report saved as JSON and loaded back renders
the same way (the cohort grader relies on that).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from checkers.files import atomic_write
from checkers.grading.result import STATUSES, CheckResult

FIRST_FAILURES_SHOWN = 5
"""How many failures the console expands with message and hint."""
_ICONS = {"passed": ("✔", "green"), "failed": ("✘", "red"), "error": ("!", "magenta"), "skipped": ("–", "dim")}


@dataclass
class TaskSummary:
    """One task of the run, as reported."""

    task_key: str
    result_state: str | None
    """The task's result state (SUCCESS, FAILED, ...); None when it never got one."""
    message: str = ""
    """Why it ended that way."""


@dataclass
class RunSummary:
    """The run, as reported."""

    result_state: str | None
    """The job run's result (or of the notebooks run directly); None when nothing ran."""
    tasks: list[TaskSummary] = field(default_factory=list)
    mode: str = "job"
    """``job``: the submission's job ran; ``notebooks``: the grader ran the notebooks in contract order
    because the job could not run as required; ``none``: nothing ran."""
    note: str = ""
    """Why the notebooks were run directly, if they were."""
    run_dir: str | None = None
    """The run folder (run record, executed notebooks)."""


@dataclass
class Report:
    """The grading of one submission."""

    submission: str
    """The folder graded."""
    score: float
    """Points of the passed required checks."""
    max_score: float
    """Points of all required checks (100)."""
    checks: list[CheckResult]
    """Every check, required and stretch, in catalogue order."""
    run: RunSummary
    """How the pipeline ran."""
    seed: int | None = None
    """Seed of the unseen data the job ran on."""
    rows: int | None = None
    """Rows of that data."""
    schema: str | None = None
    """The per-submission schema the tables were written to."""
    run_folder: str | None = None
    """The grading folder: executed notebooks, run record, this report."""
    data_file: str | None = None
    """The generated raw data file."""
    stretch_score: float = 0.0
    """Points of the passed stretch checks (not in score)."""
    stretch_max_score: float = 0.0
    """Points of all stretch checks."""
    duration_seconds: float | None = None
    """Wall-clock time of the grading."""
    notes: list[str] = field(default_factory=list)
    """Remarks on the submission or the grading (files left out, schema kept, ...)."""
    own_code: dict[str, list[str]] = field(default_factory=dict)
    """Contract notebook → short hashes of the lines the learner wrote (never the code): what a cohort compares
    to list the submissions that share most of their code (:mod:`checkers.grading.shared_code`)."""
    solution_answers: dict[str, int] | None = None
    """How many lines of the reference solution's answers the notebooks hold: ``{"matched": m, "of": n}``."""

    @property
    def required_checks(self) -> list[CheckResult]:
        return [c for c in self.checks if c.required]

    @property
    def stretch_checks(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.required]

    @property
    def all_passed(self) -> bool:
        """Every required check passed (exit code 0)."""
        return all(c.status == "passed" for c in self.required_checks)

    def counts(self) -> dict[str, int]:
        """Required checks per status."""
        out = dict.fromkeys(STATUSES, 0)
        for c in self.required_checks:
            out[c.status] = out.get(c.status, 0) + 1
        return out

    def group_scores(self) -> dict[str, tuple[float, float]]:
        """Group → (score, max_score), required groups first, then stretch."""
        out: dict[str, tuple[float, float]] = {}
        for c in self.checks:
            got, best = out.get(c.group, (0.0, 0.0))
            out[c.group] = (got + c.score, best + c.max_score)
        return out

    # ------------------------------------------------------------------------------------------ JSON

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON shape, plus seed, schema, run folder and stretch totals."""
        return {
            "submission": self.submission,
            "score": _num(self.score),
            "max_score": _num(self.max_score),
            "checks": [{"id": c.id, "group": c.group, "status": c.status, "score": _num(c.score),
                        "max_score": _num(c.max_score), "message": c.message, "hint": c.hint, "title": c.title,
                        "required": c.required} for c in self.checks],
            "run": {"result_state": self.run.result_state, "mode": self.run.mode, "note": self.run.note,
                    "run_dir": self.run.run_dir,
                    "tasks": [{"task_key": t.task_key, "result_state": t.result_state, "message": t.message}
                              for t in self.run.tasks]},
            "seed": self.seed,
            "rows": self.rows,
            "schema": self.schema,
            "run_folder": self.run_folder,
            "data_file": self.data_file,
            "stretch_score": _num(self.stretch_score),
            "stretch_max_score": _num(self.stretch_max_score),
            "duration_seconds": None if self.duration_seconds is None else round(self.duration_seconds, 2),
            "notes": list(self.notes),
            "own_code": {stem: list(hashes) for stem, hashes in self.own_code.items()},
            "solution_answers": None if self.solution_answers is None else dict(self.solution_answers),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        run = data.get("run") or {}
        return cls(
            submission=data["submission"], score=float(data["score"]), max_score=float(data["max_score"]),
            checks=[CheckResult(id=c["id"], group=c["group"], title=c.get("title", c["id"]), status=c["status"],
                                score=float(c["score"]), max_score=float(c["max_score"]), message=c["message"],
                                hint=c.get("hint", ""), required=c.get("required", c["group"] != "stretch"))
                    for c in data.get("checks", [])],
            run=RunSummary(result_state=run.get("result_state"), mode=run.get("mode", "job"),
                           note=run.get("note", ""), run_dir=run.get("run_dir"),
                           tasks=[TaskSummary(task_key=t["task_key"], result_state=t.get("result_state"),
                                              message=t.get("message", "")) for t in run.get("tasks", [])]),
            seed=data.get("seed"), rows=data.get("rows"), schema=data.get("schema"),
            run_folder=data.get("run_folder"), data_file=data.get("data_file"),
            stretch_score=float(data.get("stretch_score", 0)),
            stretch_max_score=float(data.get("stretch_max_score", 0)),
            duration_seconds=data.get("duration_seconds"), notes=list(data.get("notes", [])),
            own_code={str(k): [str(h) for h in v] for k, v in (data.get("own_code") or {}).items()
                      if isinstance(v, list)},
            solution_answers=data.get("solution_answers") if isinstance(data.get("solution_answers"), dict) else None)


def _num(value: float) -> float | int:
    """Whole points as ints in JSON (``100``, not ``100.0``)."""
    return int(value) if float(value).is_integer() else round(value, 2)


def _fmt(value: float) -> str:
    return str(_num(value))


# --------------------------------------------------------------------------------------------- files


def write_text_atomic(path: Path, text: str) -> Path:
    """Write via a temporary file in the same folder, so a reader never sees half a report."""
    path = Path(path)
    atomic_write(path, text)
    return path


def write_json(report: Report, path: Path) -> Path:
    return write_text_atomic(path, report.to_json())


# --------------------------------------------------------------------------------------------- JUnit


def to_junit(report: Report) -> str:
    """One ``<testcase>`` per check (classname = group): failed → ``<failure>``, skipped → ``<skipped>``,
    error → ``<error>``. Stretch checks are in their own ``<testsuite>``."""
    root = ET.Element("testsuites", name="day07 check", tests=str(len(report.checks)))
    for label, checks in (("required", report.required_checks), ("stretch", report.stretch_checks)):
        if not checks:
            continue
        suite = ET.SubElement(root, "testsuite", name=f"day07 check ({label})", tests=str(len(checks)),
                              failures=str(sum(c.status == "failed" for c in checks)),
                              errors=str(sum(c.status == "error" for c in checks)),
                              skipped=str(sum(c.status == "skipped" for c in checks)))
        props = ET.SubElement(suite, "properties")
        for name, value in (("submission", report.submission), ("score", _fmt(report.score)),
                            ("max_score", _fmt(report.max_score)), ("seed", report.seed), ("schema", report.schema),
                            ("run_folder", report.run_folder)):
            if value is not None:
                ET.SubElement(props, "property", name=name, value=str(value))
        for c in checks:
            case = ET.SubElement(suite, "testcase", classname=c.group, name=c.id)
            body = f"{c.message}\n{c.hint}".strip()
            if c.status == "failed":
                ET.SubElement(case, "failure", message=c.message, type="failed").text = body
            elif c.status == "error":
                ET.SubElement(case, "error", message=c.message, type="error").text = body
            elif c.status == "skipped":
                ET.SubElement(case, "skipped", message=c.message)
            ET.SubElement(case, "system-out").text = f"{c.title}: {_fmt(c.score)}/{_fmt(c.max_score)} points"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(report: Report, path: Path) -> Path:
    return write_text_atomic(path, to_junit(report))


# --------------------------------------------------------------------------------------------- Gradescope


def to_gradescope(report: Report) -> dict[str, Any]:
    """Gradescope's ``results.json``: the score, and one test per check.

    Stretch checks are listed with ``max_score`` 0 and score 0 (reported, never counted), so the
    Gradescope total equals the report's score.
    """
    tests = []
    for c in report.checks:
        name = f"{c.id}: {c.title}" if c.required else f"[stretch, not scored] {c.id}: {c.title}"
        lines = [f"{c.status.upper()}: {c.message}"]
        if c.status != "passed" and c.hint:
            lines.append(f"Hint: {c.hint}")
        if not c.required:
            lines.append(f"Worth {_fmt(c.max_score)} stretch points, reported apart from the score.")
        tests.append({"name": name, "score": _num(c.score) if c.required else 0,
                      "max_score": _num(c.max_score) if c.required else 0,
                      "status": "passed" if c.status == "passed" else "failed",
                      "output": "\n".join(lines), "visibility": "visible"})
    output = (f"Score {_fmt(report.score)}/{_fmt(report.max_score)}; stretch {_fmt(report.stretch_score)}/"
              f"{_fmt(report.stretch_max_score)}. Graded on unseen data (seed {report.seed}).")
    if report.run.note:
        output += f"\n{report.run.note}"
    return {"score": _num(report.score), "max_score": _num(report.max_score), "output": output,
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def write_gradescope(report: Report, path: Path) -> Path:
    return write_text_atomic(path, json.dumps(to_gradescope(report), indent=2, ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------------------------- console


def render_console(report: Report, console: Console, *, expand: int = FIRST_FAILURES_SHOWN) -> None:
    """Score, one line per check (grouped), the first failures expanded with message and hint, the run folder."""
    console.print(_headline(report))
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False, expand=True)
    table.add_column("", width=1, min_width=1, no_wrap=True)
    table.add_column("check", no_wrap=True, min_width=max(len(c.id) for c in report.checks) if report.checks else 10)
    table.add_column("points", justify="right", no_wrap=True, min_width=6)
    table.add_column("result", no_wrap=True, overflow="ellipsis", ratio=1)
    groups = report.group_scores()
    current = None
    for c in report.checks:
        if c.group != current:
            current = c.group
            got, best = groups[c.group]
            table.add_row("", Text(c.group, style="bold"), Text(f"{_fmt(got)}/{_fmt(best)}", style="bold"),
                          Text("stretch: reported, not part of the score" if not c.required else "", style="dim"))
        icon, style = _ICONS.get(c.status, ("?", ""))
        summary = c.message if c.status != "passed" else c.title
        table.add_row(Text(icon, style=style), Text(c.id), f"{_fmt(c.score)}/{_fmt(c.max_score)}",
                      Text(_one_line(summary), style="dim" if c.status == "skipped" else "", no_wrap=True,
                           overflow="ellipsis"))
    console.print(table)
    problems = [c for c in report.required_checks if c.status in ("failed", "error")]
    for c in problems[:expand]:
        body = Text()
        body.append(c.message + "\n")
        body.append("→ ", style="yellow")
        body.append(c.hint)
        console.print(Panel(body, title=Text(f"{c.id} {c.status}", style="bold red"), title_align="left",
                            expand=True))
    if len(problems) > expand:
        console.print(Text(f"… and {len(problems) - expand} more failures (see the list above, or --json).",
                           style="dim"))
    console.print(_footer(report))


def _one_line(text: str, width: int = 160) -> str:
    first = (text.strip().splitlines() or [""])[0]
    return first if len(first) <= width else first[: width - 1] + "…"


def _headline(report: Report) -> Text:
    counts = report.counts()
    style = "bold green" if report.all_passed else "bold red" if report.score < report.max_score / 2 else "bold yellow"
    text = Text.assemble(("Score ", "bold"), (f"{_fmt(report.score)}/{_fmt(report.max_score)}", style),
                         f"   stretch {_fmt(report.stretch_score)}/{_fmt(report.stretch_max_score)}   ",
                         (f"{counts['passed']} passed", "green"), ", ", (f"{counts['failed']} failed", "red"),
                         ", ", (f"{counts['error']} errors", "magenta"), ", ", f"{counts['skipped']} skipped")
    text.append(f"\n{report.submission} · unseen data: seed {report.seed}, {report.rows} rows · "
                f"schema {report.schema}", style="dim")
    return text


def _footer(report: Report) -> Group:
    lines = []
    run = report.run
    if run.mode == "job":
        states = ", ".join(f"{t.task_key} {t.result_state or '—'}" for t in run.tasks)
        lines.append(Text(f"Job run {run.result_state}: {states}"))
    else:
        lines.append(Text(f"Job not run: {run.note}", style="yellow"))
    for note in report.notes:
        lines.append(Text(f"Note: {note}", style="dim"))
    if report.run_folder:
        lines.append(Text.assemble("Run folder (executed notebooks, run record, report): ",
                                   (report.run_folder, "bold")))
    return Group(*lines)
