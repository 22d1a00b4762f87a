"""The tasks of raw job settings as a graph: entries by key, their dependency edges, cycles.

The structure checks and the reference checks both ask "is this task upstream of that one?" of settings
that may be broken (duplicate keys, unknown dependencies, cycles), so this works on the raw dicts, not on
the runner's plan (which refuses such jobs).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass
class TaskEntry:
    """One task of the raw settings, with its position in the ``tasks`` list."""

    index: int
    key: str
    raw: dict[str, Any]

    @property
    def where(self) -> str:
        """Key path of the task: ``tasks[3]``."""
        return f"tasks[{self.index}]"

    def deps(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(position, entry) of each well-formed ``depends_on`` entry."""
        deps = self.raw.get("depends_on")
        for j, dep in enumerate(deps if isinstance(deps, list) else []):
            if isinstance(dep, dict) and isinstance(dep.get("task_key"), str):
                yield j, dep


class TaskGraph:
    """Task entries of raw settings (those with a text ``task_key``) and the edges between existing tasks."""

    def __init__(self, raw: dict[str, Any]) -> None:
        tasks = raw.get("tasks")
        self.entries = [TaskEntry(i, t["task_key"], t) for i, t in enumerate(tasks if isinstance(tasks, list)
                                                                             else [])
                        if isinstance(t, dict) and isinstance(t.get("task_key"), str)]
        self.by_key: dict[str, TaskEntry] = {}
        for e in self.entries:
            self.by_key.setdefault(e.key, e)
        # upstream → downstream edges between existing tasks
        self.upstream: dict[str, set[str]] = {k: set() for k in self.by_key}
        for e in self.entries:
            for _, dep in e.deps():
                if dep["task_key"] in self.by_key:
                    self.upstream[e.key].add(dep["task_key"])

    def ancestors(self, key: str) -> set[str]:
        """Every task ``key`` runs after, directly or through others."""
        seen: set[str] = set()
        todo = list(self.upstream.get(key, ()))
        while todo:
            k = todo.pop()
            if k not in seen:
                seen.add(k)
                todo.extend(self.upstream.get(k, ()))
        return seen


def strongly_connected(upstream: dict[str, set[str]]) -> list[set[str]]:
    """Kosaraju, iteratively (a job may have 1000 tasks, deeper than Python's recursion limit)."""
    order: list[str] = []
    seen: set[str] = set()
    for root in upstream:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(sorted(upstream[root])))]
        while stack:
            node, children = stack[-1]
            nxt = next((c for c in children if c not in seen), None)
            if nxt is None:
                order.append(node)
                stack.pop()
            else:
                seen.add(nxt)
                stack.append((nxt, iter(sorted(upstream[nxt]))))
    downstream: dict[str, set[str]] = {k: set() for k in upstream}
    for k, ups in upstream.items():
        for up in ups:
            downstream[up].add(k)
    components: list[set[str]] = []
    assigned: set[str] = set()
    for root in reversed(order):
        if root in assigned:
            continue
        component, todo = set(), [root]
        while todo:
            node = todo.pop()
            if node not in assigned:
                assigned.add(node)
                component.add(node)
                todo.extend(downstream[node] - assigned)
        components.append(component)
    return components


def cycle_through(start: str, component: set[str], upstream: dict[str, set[str]]) -> list[str]:
    """Shortest cycle start → … → start in run order (upstream before downstream)."""
    downstream: dict[str, list[str]] = {k: [] for k in component}
    for k in component:
        for up in sorted(upstream[k] & component):
            downstream[up].append(k)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for child in downstream[node]:
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if child not in previous:
                    previous[child] = node
                    nxt.append(child)
        frontier = nxt
    return [start, start]

