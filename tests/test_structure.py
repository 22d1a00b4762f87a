"""The package's shape: imports point down the layers, no module imports itself in a circle, modules stay small.

Read from the source (``ast``), so function-local imports count as much as the ones at the top of a file: an
import hidden in a function is still an arrow.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

from checkers.config import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "checkers"

LAYERS: dict[str, int] = {
    "checkers": 0, "errors": 0,
    "config": 1, "files": 1, "signals": 1,
    "sandbox": 2,
    "data": 3,
    "spark": 4,
    "runtime": 5,
    "kernelspec": 6,
    "notebooks": 7,
    "jobs": 8,
    "grading": 9, "deploy": 9,
    "feedback": 10,
    "authoring": 11, "workspace": 11,
    "cli": 12,
    "__main__": 13,
}
"""Each top-level package or module of ``checkers`` and its layer. An import may point to a lower layer, or stay
inside its own package; packages on one layer are peers and never import each other. The same list, in words, is
in docs/architecture.md."""

MAX_LINES = 450


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path) -> dict[str, Path]:
    return {module_name(path, root): path for path in sorted(root.rglob("*.py"))}


def imports(path: Path, known: Iterable[str]) -> set[str]:
    """The kit modules one file imports, anywhere in it (a ``from pkg import name`` of a submodule counts)."""
    known = set(known)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # A name that is a submodule is an arrow to that submodule; any other name, to the module it comes from.
            targets = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in known else node.module
                       for alias in node.names]
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in
              ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            targets = [node.args[0].value]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target:
                found.add(target)
    return found


def graph(root: Path) -> dict[str, set[str]]:
    mods = modules(root)
    return {name: imports(path, mods) - {name} for name, path in mods.items()}


def top(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def upward_arrows(edges: dict[str, set[str]], layers: dict[str, int]) -> list[str]:
    """Imports that point up a layer, or sideways to a peer package."""
    wrong = []
    for source, targets in sorted(edges.items()):
        for target in sorted(targets):
            a, b = top(source), top(target)
            if a == b:
                continue
            if a not in layers or b not in layers:
                wrong.append(f"{source} -> {target}: {a if a not in layers else b} has no layer in LAYERS")
            elif layers[b] >= layers[a]:
                wrong.append(f"{source} -> {target}: layer {layers[a]} ({a}) imports layer {layers[b]} ({b})")
    return wrong


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                group.append(item)
                if item == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


# ------------------------------------------------------------------------------------------------------ the rules


def test_imports_point_down_the_layers() -> None:
    assert upward_arrows(graph(PACKAGE), LAYERS) == []


def test_no_module_imports_itself_in_a_circle() -> None:
    assert circles(graph(PACKAGE)) == []


def test_every_top_level_package_has_a_layer() -> None:
    assert {top(name) for name in modules(PACKAGE)} <= set(LAYERS)


def test_no_module_is_too_long_to_hold_in_mind() -> None:
    long = {str(path.relative_to(PROJECT_ROOT)): n for path in PACKAGE.rglob("*.py")
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_every_package_says_what_it_is_for_and_what_it_may_import() -> None:
    silent = [str(init.relative_to(PROJECT_ROOT)) for init in PACKAGE.rglob("__init__.py")
              if init.parent.parent == PACKAGE and not ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))]
    assert silent == []


# ------------------------------------------------------------------------------------ the rules can see a fault


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "checkers" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "checkers"


@pytest.mark.parametrize("code", [
    "from checkers.cli.main import run\n",
    "def f():\n    from checkers.cli import main\n",
    "import checkers.cli.main\n",
    "import importlib\nimportlib.import_module('checkers.cli.main')\n",
])
def test_an_upward_import_is_found_in_any_form(tmp_path: Path, code: str) -> None:
    root = _tree(tmp_path, {"__init__.py": "", "errors.py": "", "cli/__init__.py": "", "cli/main.py": "run = 1\n",
                            "runtime/__init__.py": "", "runtime/kernel.py": code})
    wrong = upward_arrows(graph(root), {"checkers": 0, "errors": 0, "runtime": 5, "cli": 12})
    assert wrong == ["checkers.runtime.kernel -> checkers.cli.main: layer 5 (runtime) imports layer 12 (cli)"]


def test_peers_may_not_import_each_other_and_a_package_without_a_layer_is_named(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"__init__.py": "", "deploy/__init__.py": "", "grading/__init__.py": "",
                            "deploy/plan.py": "from checkers.grading import submission\n",
                            "grading/submission.py": "", "extra.py": "import checkers.grading\n"})
    wrong = upward_arrows(graph(root), {"checkers": 0, "grading": 8, "deploy": 8})
    assert any("deploy.plan -> checkers.grading.submission" in w for w in wrong)
    assert any("extra has no layer" in w for w in wrong)


def test_a_circle_inside_a_package_is_found(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"__init__.py": "", "jobs/__init__.py": "",
                            "jobs/load.py": "def f():\n    from checkers.jobs.validate import check\n",
                            "jobs/validate.py": "from checkers.jobs.load import f\ncheck = f\n",
                            "jobs/run.py": "from checkers.jobs.load import f\n"})
    assert circles(graph(root)) == [["checkers.jobs.load", "checkers.jobs.validate"]]
