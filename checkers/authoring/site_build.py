"""Running mkdocs for the site: ``day07 docs build`` and the docs tests build exactly what ``mkdocs build`` does.

The build runs in a subprocess with the repository's ``mkdocs.yml``, whose hook adds the generated pages, so this
module imports none of the page generators: ``day07 docs build`` and ``serve`` start fast.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from checkers.authoring.markdown_text import DocsError


@dataclass(frozen=True)
class BuildResult:
    """A finished site build."""

    site_dir: Path
    """Where the HTML was written."""
    pages: int
    """Number of HTML pages in the site."""
    output: str
    """What mkdocs printed."""


def build_site(*, root: Path, site_dir: Path | None = None, strict: bool = True) -> BuildResult:
    """Run ``mkdocs build`` for the repository at ``root``; a failed build is a :class:`DocsError` with its log."""
    require_mkdocs()
    site_dir = Path(site_dir) if site_dir else root / "site"
    cmd = [sys.executable, "-m", "mkdocs", "build", "--clean", "--config-file", str(root / "mkdocs.yml"),
           "--site-dir", str(site_dir)]
    if strict:
        cmd.append("--strict")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # mkdocs-material's banner about its successor
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False, env=env)
    output = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0:
        tail = "\n".join(output.splitlines()[-25:])
        raise DocsError(f"mkdocs build failed (exit {proc.returncode}):\n{tail}",
                        hint="Fix the first WARNING or ERROR above; --strict turns warnings into failures.")
    pages = sum(1 for _ in site_dir.rglob("*.html"))
    return BuildResult(site_dir=site_dir, pages=pages, output=output)


def require_mkdocs() -> None:
    try:
        importlib.import_module("material")
    except ModuleNotFoundError:
        raise DocsError("mkdocs-material is not installed.",
                        hint="Install the docs extra: pip install -e '.[docs]'.") from None

