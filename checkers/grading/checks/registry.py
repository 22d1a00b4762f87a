"""The checks catalogue: every check's id, group, points, title, hint and prerequisites, and how they run.

Each group module declares its checks with :func:`check`; :func:`catalogue` returns them all in grading
order (the docs generator renders it as the checks page). :func:`run_checks` runs a catalogue on one
:class:`~checkers.grading.checks.evidence.Evidence`: a check whose prerequisite did not pass is
``skipped`` naming the check that failed, and a check that crashes is an ``error`` with the reason —
one bad check never stops the others.
"""

from __future__ import annotations

import importlib
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from checkers.grading.checks.evidence import Evidence
from checkers.grading.result import CheckResult

Status = Literal["passed", "failed", "error", "skipped"]
GROUPS = ("widgets", "bronze", "silver", "gold", "job", "run", "stretch")
"""The report's groups (docs/contract.md), in the order they are reported."""
STRETCH = "stretch"
"""The group reported separately, outside score / max_score."""
DOCS_BASE_URL = "docs/"
"""Where the docs pages live; a hint links ``DOCS_BASE_URL + page`` (e.g. ``docs/silver.md``)."""
DOCS_PAGES = ("widgets.md", "bronze.md", "silver.md", "gold.md", "job-workflow.md", "dependencies.md",
              "scheduling.md", "orchestration.md")
"""The docs pages hints may link."""
GROUP_MODULES = tuple(f"checkers.grading.checks.{group}" for group in GROUPS)


@dataclass(frozen=True)
class Outcome:
    """What one check function found."""

    status: Status
    message: str
    """What was found, with numbers."""
    hint: str | None = None
    """A hint for this case, replacing the check's standing hint."""
    gates: bool = True
    """Whether a failure skips the checks that need this one. False for a failure that leaves them something to
    judge: a table with every column of the contract and extras beside them (one mistake, marked down once)."""


def passed(message: str) -> Outcome:
    return Outcome("passed", message)


def failed(message: str, hint: str | None = None) -> Outcome:
    return Outcome("failed", message, hint)


def failed_alone(message: str, hint: str | None = None) -> Outcome:
    """Failed, but the checks that need this one still run (see :attr:`Outcome.gates`)."""
    return Outcome("failed", message, hint, gates=False)


def skipped(message: str) -> Outcome:
    return Outcome("skipped", message)


def errored(message: str, hint: str | None = None) -> Outcome:
    return Outcome("error", message, hint)


CheckFunc = Callable[[Evidence], Outcome]


@dataclass(frozen=True)
class CheckSpec:
    """One check as the catalogue lists it."""

    id: str
    """Stable id, ``<group>.<name>``, e.g. ``silver.dedup``."""
    group: str
    """One of :data:`GROUPS`."""
    points: float
    """Points when passed (stretch points are reported apart from the score)."""
    title: str
    """What it verifies, in one line."""
    hint: str
    """What to do when it fails."""
    docs: str
    """Docs page (one of :data:`DOCS_PAGES`)."""
    requires: tuple[str, ...]
    """Checks that must pass first; otherwise this one is skipped."""
    func: CheckFunc
    """Computes the outcome from the evidence."""

    @property
    def required(self) -> bool:
        """Counts towards score / max_score (every group but stretch)."""
        return self.group != STRETCH

    @property
    def docs_url(self) -> str:
        return DOCS_BASE_URL + self.docs


_REGISTERED: dict[str, CheckSpec] = {}


def check(id: str, *, points: float, title: str, hint: str, docs: str,  # noqa: A002 - the catalogue's field name
          requires: tuple[str, ...] = ()) -> Callable[[CheckFunc], CheckFunc]:
    """Register the decorated function as check ``id`` (its group is the id's first part)."""
    group = id.split(".", 1)[0]
    if group not in GROUPS:
        raise ValueError(f"check {id!r}: group {group!r} is not one of {GROUPS}")
    if docs not in DOCS_PAGES:
        raise ValueError(f"check {id!r}: docs page {docs!r} is not one of {DOCS_PAGES}")

    def register(func: CheckFunc) -> CheckFunc:
        if id in _REGISTERED:
            raise ValueError(f"check {id!r} is registered twice")
        _REGISTERED[id] = CheckSpec(id=id, group=group, points=points, title=title, hint=hint, docs=docs,
                                    requires=requires, func=func)
        return func

    return register


def catalogue() -> list[CheckSpec]:
    """Every check, group by group in :data:`GROUPS` order (declaration order inside a group)."""
    for module in GROUP_MODULES:
        importlib.import_module(module)
    order = {group: i for i, group in enumerate(GROUPS)}
    modules = {module: i for i, module in enumerate(GROUP_MODULES)}
    # Stable sort: a module's checks keep their declaration order, whichever module was imported first.
    specs = sorted(_REGISTERED.values(),
                   key=lambda s: (order[s.group], modules.get(s.func.__module__, len(modules))))
    execution_order(specs)  # unknown prerequisites and cycles are the kit's bugs: fail loudly, at once
    return specs


def execution_order(specs: list[CheckSpec]) -> list[CheckSpec]:
    """``specs`` with every check after its prerequisites, otherwise in the given order."""
    by_id = {s.id: s for s in specs}
    done: dict[str, CheckSpec] = {}
    visiting: set[str] = set()

    def visit(s: CheckSpec) -> None:
        if s.id in done:
            return
        if s.id in visiting:
            raise ValueError(f"checks {sorted(visiting)} require each other in a cycle")
        visiting.add(s.id)
        for needed in s.requires:
            if needed not in by_id:
                raise ValueError(f"check {s.id!r} requires {needed!r}, which is not in the catalogue")
            visit(by_id[needed])
        visiting.discard(s.id)
        done[s.id] = s

    for s in specs:
        visit(s)
    return list(done.values())


def spec(check_id: str) -> CheckSpec:
    """One check by id (KeyError naming the known ids otherwise)."""
    for s in catalogue():
        if s.id == check_id:
            return s
    raise KeyError(f"no check {check_id!r}")


def max_score(specs: list[CheckSpec] | None = None) -> float:
    """Points of the required checks (100 for the full catalogue)."""
    return sum(s.points for s in (specs or catalogue()) if s.required)


def run_checks(evidence: Evidence, *, specs: list[CheckSpec] | None = None) -> list[CheckResult]:
    """Run ``specs`` (default: the catalogue) in order on ``evidence``; never raises for a check's sake."""
    specs = catalogue() if specs is None else specs
    results: dict[str, CheckResult] = {}
    causes: dict[str, str] = {}
    open_failures: set[str] = set()  # failed without gating (Outcome.gates): their dependents still run
    for s in _runnable_order(specs):
        blocker = next((r for r in s.requires if r in results and results[r].status != "passed"
                        and r not in open_failures), None)
        if blocker is not None:
            root = causes.get(blocker, blocker)
            root_result = results[root]
            if root_result.status == "skipped":
                outcome = skipped(f"needs {root}, which was skipped: {root_result.message}")
            else:
                outcome = skipped(f"needs {root} ({root_result.title}), which {root_result.status}")
            causes[s.id] = root
        else:
            try:
                outcome = s.func(evidence)
            except Exception as exc:  # noqa: BLE001 - a broken check is reported, the others still run
                where = traceback.extract_tb(exc.__traceback__)[-1]
                outcome = errored(f"the grader could not run this check: {type(exc).__name__}: {exc} "
                                  f"({where.filename.rsplit('/', 1)[-1]}:{where.lineno})",
                                  hint="This is a problem in the grader, not in your work: please report it.")
        if outcome.status == "skipped" and s.id not in causes:
            causes[s.id] = s.id
        if outcome.status == "failed" and not outcome.gates:
            open_failures.add(s.id)
        results[s.id] = _result(s, outcome)
    return [results[s.id] for s in specs]


def _runnable_order(specs: list[CheckSpec]) -> list[CheckSpec]:
    """Prerequisites first; a prerequisite outside ``specs`` (a test running a subset) is ignored."""
    ids = {s.id for s in specs}
    trimmed = [CheckSpec(id=s.id, group=s.group, points=s.points, title=s.title, hint=s.hint, docs=s.docs,
                         requires=tuple(r for r in s.requires if r in ids), func=s.func) for s in specs]
    original = {s.id: s for s in specs}
    return [original[s.id] for s in execution_order(trimmed)]


def _result(s: CheckSpec, outcome: Outcome) -> CheckResult:
    if outcome.status == "passed":
        hint = f"Docs: {s.docs_url}"
    else:
        text = (outcome.hint or s.hint).rstrip()
        hint = text if s.docs_url in text else f"{text} See {s.docs_url}"
    earned = s.points if outcome.status == "passed" else 0.0
    return CheckResult(id=s.id, group=s.group, title=s.title, status=outcome.status, score=earned,
                       max_score=s.points, message=outcome.message, hint=hint, required=s.required)
