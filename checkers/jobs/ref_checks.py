"""Check ``{{...}}`` references and job parameters: namespaces, names, and that a task value is upstream.

References are checked apart from the task structure because they span the whole job: a reference in one
task names another task, a job parameter, or a run fact, and job parameter defaults may hold them too.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from typing import Any

from checkers.jobs import refs
from checkers.jobs.findings import Finding, FindingCollector, child_key
from checkers.jobs.task_graph import TaskEntry, TaskGraph

_PARAM_NAME_RE = re.compile(r"[A-Za-z0-9_.\-]+")


class RefChecks(FindingCollector):
    """Reference and job-parameter checks; shares the structure checks' findings list to keep their order."""

    def __init__(self, *, raw: dict[str, Any], graph: TaskGraph, findings: list[Finding]) -> None:
        super().__init__(findings)
        self.raw = raw
        self.graph = graph

    def check_task_refs(self, e: TaskEntry) -> None:
        """Every reference in the task's text values."""
        for key, text in _strings(e.raw, e.where):
            self._check_text_refs(text, key, e.key)

    def _check_text_refs(self, text: str, key: str, task_key: str | None) -> None:
        found = refs.find_refs(text)
        rest = text
        for ref in reversed(found):
            rest = rest[: ref.start] + rest[ref.end:]
        if "{{" in rest or "}}" in rest:
            self.add("warning", "malformed_reference",
                     f"`{key}` holds {text!r}, which looks like a reference but is not well formed; Databricks "
                     "passes it through as plain text.", task_key=task_key, key=key,
                     hint="Write `{{namespace.name}}` with two braces on each side.")
        params = self._parameter_names()
        for ref in found:
            if ref.namespace == "input":
                continue  # for_each_task's `{{input}}`, resolved per iteration
            if not ref.known:
                self.add("warning", "literal_braces",
                         f"`{ref.text}` is not in a reference namespace ({', '.join(refs.KNOWN_NAMESPACES)}); "
                         "Databricks passes it through as plain text.", task_key=task_key, key=key,
                         hint="For a task value write `{{tasks.<task_key>.values.<name>}}`.")
                continue
            problem = refs.name_problem(ref)
            if problem is not None:
                self.add("error", "unknown_reference", problem, task_key=task_key, key=key,
                         hint="See the list of dynamic value references in the Databricks docs.")
            elif ref.parameter is not None and ref.parameter not in params:
                close = difflib.get_close_matches(ref.parameter, params, n=1, cutoff=0.6)
                self.add("error", "unknown_reference",
                         f"`{ref.text}` names job parameter `{ref.parameter}`, which the job does not define"
                         + (f" — did you mean `{close[0]}`?" if close else "."), task_key=task_key, key=key,
                         hint="Add it under the job's `parameters:` (with a default) or fix the name.")
            elif ref.task_key is not None:
                self._check_task_ref(ref, key, task_key)

    def _check_task_ref(self, ref: refs.Ref, key: str, task_key: str | None) -> None:
        target = ref.task_key or ""
        if target not in self.graph.by_key:
            close = difflib.get_close_matches(target, list(self.graph.by_key), n=1, cutoff=0.6)
            self.add("error", "unknown_reference", f"`{ref.text}` reads from task `{target}`, which the job "
                     "does not have" + (f" — did you mean `{close[0]}`?" if close else "."),
                     task_key=task_key, key=key, hint=f"Task keys in this job: {', '.join(self.graph.by_key)}.")
        elif task_key is None:
            self.add("error", "reference_not_upstream", f"`{ref.text}` in a job parameter: job parameters are "
                     "resolved before any task runs, so they cannot read task values.", key=key,
                     hint="Put the reference in the task's own parameters (base_parameters) instead.")
        elif target not in self.graph.ancestors(task_key):
            self.add("error", "reference_not_upstream",
                     f"`{ref.text}` reads from task `{target}`, which is not upstream of `{task_key}`, so its "
                     "value is not there yet when this task starts.", task_key=task_key, key=key,
                     hint=f"Make `{task_key}` depend on `{target}` (directly or through other tasks).")

    def _parameter_names(self) -> list[str]:
        params = self.raw.get("parameters")
        return [p["name"] for p in params if isinstance(p, dict) and isinstance(p.get("name"), str)] \
            if isinstance(params, list) else []

    def check_parameters(self) -> None:
        """Job parameter names (allowed characters, duplicates) and the references in their defaults."""
        params = self.raw.get("parameters")
        if not isinstance(params, list):
            return
        seen: set[str] = set()
        for i, p in enumerate(params):
            if not isinstance(p, dict) or not isinstance(p.get("name"), str):
                continue
            name, key = p["name"], f"parameters[{i}].name"
            if not _PARAM_NAME_RE.fullmatch(name):
                self.add("error", "invalid_parameter_name", f"job parameter name {name!r} may only hold letters, "
                         "digits, `_`, `-` and `.`.", key=key,
                         hint=f"Rename it, e.g. `{re.sub(r'[^A-Za-z0-9_.-]+', '_', name).strip('_') or 'param'}`.")
            if name in seen:
                self.add("error", "duplicate_parameter", f"job parameter `{name}` is defined twice.", key=key)
            seen.add(name)
            if isinstance(p.get("default"), str):
                self._check_text_refs(p["default"], f"parameters[{i}].default", None)


def _strings(value: Any, key: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for k, v in value.items():
            if k not in ("task_key", "depends_on", "description"):
                yield from _strings(v, child_key(key, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, child_key(key, i))

