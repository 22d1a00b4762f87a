"""``mkdocs build --strict`` of the guide: every page is there, and nothing is loaded from another host."""

from __future__ import annotations

import argparse
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from checkers.authoring.lesson_pages import LESSON_STEMS
from checkers.authoring.markdown_text import DocsError
from checkers.authoring.site import REQUIRED_IMAGES
from checkers.authoring.site_build import BuildResult, build_site
from checkers.config import PROJECT_ROOT


def _nav_pages(nav: list) -> list[str]:
    pages: list[str] = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages += _nav_pages(value) if isinstance(value, list) else [value]
    return pages


def _html_path(site: Path, page: str) -> Path:
    return site / ("index.html" if page == "index.md" else page.removesuffix(".md") + "/index.html")


def test_every_nav_page_is_built(built_site: BuildResult) -> None:
    config = yaml.load((PROJECT_ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    pages = _nav_pages(config["nav"])
    assert {"reference/cli.md", "reference/checks.md", "reference/job-fields.md", "emulation.md"} <= set(pages)
    for page in pages:
        assert _html_path(built_site.site_dir, page).is_file(), f"{page} was not built"
    for name in REQUIRED_IMAGES:
        assert (built_site.site_dir / "images" / name).stat().st_size > 1000
    for stem in LESSON_STEMS:  # the lesson notebooks are offered for download next to their page
        assert list((built_site.site_dir / "lessons").glob(f"{stem}.*"))


def test_generated_cli_page_is_in_the_site(built_site: BuildResult) -> None:
    from checkers.cli import build_parser

    text = (built_site.site_dir / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name in sub.choices:
        assert f"day07 {name}" in text


class _Resources(HTMLParser):
    """URLs a page *loads* (stylesheets, scripts, images, frames), as opposed to links a reader may follow."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "link" and (found.get("rel") or "") in ("stylesheet", "preload", "preconnect", "icon",
                                                           "modulepreload", "manifest"):
            self.loaded.append(found.get("href") or "")
        elif tag in ("script", "img", "iframe", "source", "video", "audio", "embed"):
            self.loaded.append(found.get("src") or "")


def test_nothing_is_loaded_from_another_host(built_site: BuildResult) -> None:
    pages = list(built_site.site_dir.rglob("*.html"))
    assert len(pages) > 20
    external = []
    for page in pages:
        parser = _Resources()
        parser.feed(page.read_text(encoding="utf-8"))
        external += [f"{page.relative_to(built_site.site_dir)}: {url}" for url in parser.loaded
                     if re.match(r"^(https?:)?//", url)]
    for css in built_site.site_dir.rglob("*.css"):  # fonts and images pulled in by stylesheets
        external += [f"{css.name}: {url}" for url in re.findall(r"url\((['\"]?)(https?://[^)'\"]+)\1\)",
                                                             css.read_text(encoding="utf-8"))]
    assert external == []


def test_a_broken_link_fails_the_strict_build_with_its_message(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Home\n\nSee [the missing page](missing.md).\n", encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text("site_name: t\ntheme:\n  name: material\n  font: false\n", encoding="utf-8")

    with pytest.raises(DocsError) as info:
        build_site(root=tmp_path, site_dir=tmp_path / "site", strict=True)
    assert "missing.md" in info.value.message

    result = build_site(root=tmp_path, site_dir=tmp_path / "site", strict=False)
    assert (result.site_dir / "index.html").is_file() and result.pages >= 1
