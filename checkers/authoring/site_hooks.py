"""What the docs build does inside mkdocs: stop on a missing screenshot, add the generated pages, fix links.

These are mkdocs hook events. ``mkdocs.yml`` loads them through ``checkers/cli/mkdocs_hook.py``, which gives
:func:`add_generated_pages` the CLI's parser (the author tools sit below the CLI and never import it), so
``mkdocs build`` stays one command and ``day07 docs build`` runs that same build.
"""

from __future__ import annotations

import argparse
import posixpath
from pathlib import Path
from typing import Any

from checkers.authoring.lesson_pages import LINK, site_link
from checkers.authoring.rubric import CONTRACT_PAGE, rubric_markdown, with_rubric
from checkers.authoring.site import generated_pages, missing_images
from checkers.errors import CheckersError


def _root(config: Any) -> Path:
    return Path(config.config_file_path).resolve().parent


def on_pre_build(config: Any, **_: Any) -> None:
    """Stop the build when a screenshot is missing: the pages would show a broken image."""
    from mkdocs.exceptions import PluginError  # mkdocs is the docs extra: imported only when it runs this

    missing = missing_images(docs_dir=Path(config.docs_dir))
    if missing:
        raise PluginError(f"Screenshots missing from {Path(config.docs_dir) / 'images'}: {', '.join(missing)}. "
                          "Run `day07 docs screenshots` to generate them from a real run.")


def add_generated_pages(files: Any, *, config: Any, parser: argparse.ArgumentParser) -> Any:
    """The ``on_files`` event: add the generated pages (reference, lessons) to the build; ``parser`` is the CLI's."""
    from mkdocs.exceptions import PluginError
    from mkdocs.structure.files import File

    try:
        pages = generated_pages(root=_root(config), parser=parser)
    except CheckersError as exc:
        raise PluginError(str(exc)) from exc
    for page in pages:
        existing = files.get_file_from_path(page.uri)
        if existing is not None:
            files.remove(existing)
        if page.content is not None:
            files.append(File.generated(config, page.uri, content=page.content))
        else:
            files.append(File.generated(config, page.uri, abs_src_path=str(page.source)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, **_: Any) -> str:
    """Links to lesson files → the lessons' pages; the contract page gets the registry's own rubric."""
    src = page.file.src_uri
    if page.file.generated_by is None:  # hand-written pages only: the generated ones link inside the site already
        page_dir = posixpath.dirname(src)
        markdown = LINK.sub(lambda m: f"]({site_link(m.group('target'), page_dir=page_dir)})", markdown)
    if src == CONTRACT_PAGE:
        from mkdocs.exceptions import PluginError

        try:
            markdown = with_rubric(markdown, rubric_markdown(), name=f"docs/{CONTRACT_PAGE}")
        except CheckersError as exc:
            raise PluginError(str(exc)) from exc
    return markdown


def on_serve(server: Any, config: Any, builder: Any, **_: Any) -> Any:
    """``mkdocs serve`` also rebuilds when a lesson or a solution changes.

    ``checkers/`` is not watched: test runs and editors write there constantly (bytecode caches, temp files),
    and each write would rebuild the site. Restart ``mkdocs serve`` after a code change.
    """
    root = _root(config)
    for folder in ("lessons", "solutions"):
        if (root / folder).is_dir():
            server.watch(str(root / folder))
    return server
