"""The docs site's mkdocs hook (``mkdocs.yml``: ``hooks: [checkers/cli/mkdocs_hook.py]``).

The hook events live with the author tools (:mod:`checkers.authoring.site_hooks`); the CLI reference page needs
the ``day07`` parser, which only the CLI layer may build, so this module composes the two. Plain ``mkdocs build``
and ``day07 docs build`` both load it.
"""

from __future__ import annotations

from typing import Any

from mkdocs.exceptions import PluginError

from checkers.authoring.markdown_text import DocsError
from checkers.authoring.site_hooks import add_generated_pages, on_page_markdown, on_pre_build, on_serve
from checkers.cli import build_parser


def on_files(files: Any, config: Any, **_: Any) -> Any:
    """Add the generated pages (reference, lessons) to the build, the CLI reference written from ``day07``'s parser."""
    try:
        parser = build_parser()
    except ImportError as exc:
        error = DocsError(f"The CLI reference cannot be generated: `day07` fails to load ({exc}).",
                          hint="Fix the command module named above; `day07 --help` shows the same error.")
        raise PluginError(str(error)) from exc
    return add_generated_pages(files, config=config, parser=parser)


__all__ = ["on_files", "on_page_markdown", "on_pre_build", "on_serve"]
