"""The built guide in a real browser: every page, link and image works, search works, the theme toggles.

Headless Chromium (Debian's, driven by Playwright from PyPI) opens the site from a local HTTP server.
Every request to another host is refused and recorded: the site must work offline.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urldefrag, urlsplit

import pytest

from checkers.authoring.site_build import BuildResult

pytestmark = pytest.mark.browser


@pytest.fixture()
def browser_page(cam: Any, site_url: str) -> Iterator[tuple[Any, list[str], list[str]]]:
    """A fresh page; requests leaving 127.0.0.1 are aborted and listed, as are uncaught JS errors."""
    context = cam.browser.new_context(viewport={"width": 1280, "height": 900})
    outside: list[str] = []
    errors: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith((site_url, "data:", "blob:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page, outside, errors
    finally:
        context.close()


def _page_urls(built_site: BuildResult, site_url: str) -> list[str]:
    urls = []
    for html in sorted(built_site.site_dir.rglob("index.html")):
        rel = html.parent.relative_to(built_site.site_dir).as_posix()
        urls.append(site_url if rel == "." else f"{site_url}{rel}/")
    return urls


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own local server
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_every_page_link_and_image_works_offline(browser_page: tuple[Any, list[str], list[str]],
                                                 built_site: BuildResult, site_url: str) -> None:
    page, outside, errors = browser_page
    urls = _page_urls(built_site, site_url)
    assert len(urls) > 20
    ids: dict[str, set[str]] = {}
    links: dict[str, str] = {}  # target → page that links to it
    broken_images = []
    for url in urls:
        page.goto(url, wait_until="load")
        ids[url] = set(page.eval_on_selector_all("[id]", "els => els.map(e => e.id)"))
        for href in page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)"):
            if href.startswith(site_url):
                links.setdefault(href, url)
        images = page.evaluate("Array.from(document.images).map(i => [i.currentSrc || i.src, "
                               "i.complete && i.naturalWidth > 0])")
        broken_images += [f"{url}: {src}" for src, ok in images if not ok]

    broken_links = []
    for href, source in sorted(links.items()):
        target, fragment = urldefrag(href)
        if target in ids:
            if fragment and not fragment.startswith("__") and fragment not in ids[target]:
                broken_links.append(f"{source} → {href} (no #{fragment} there)")
        elif _status(target) != 200:
            broken_links.append(f"{source} → {href} (HTTP {_status(target)})")
    assert broken_links == []
    assert broken_images == []
    assert outside == [], "the site must not load anything from another host"
    assert errors == []


def test_search_finds_depends_on(browser_page: tuple[Any, list[str], list[str]], site_url: str) -> None:
    page, outside, _ = browser_page
    page.goto(site_url, wait_until="load")
    box = page.locator("input.md-search__input")
    box.click()
    box.press_sequentially("depends_on", delay=20)  # the theme searches on key events, not on a pasted value
    first = page.locator(".md-search-result__item").first
    first.wait_for(state="visible", timeout=15_000)
    titles = page.locator(".md-search-result__item").all_inner_texts()
    assert any("depends_on" in text for text in titles)
    assert any("dependencies" in urlsplit(a).path for a in page.eval_on_selector_all(
        ".md-search-result__item a", "els => els.map(a => a.href)"))
    assert outside == []


def test_dark_and_light_palette_toggle(browser_page: tuple[Any, list[str], list[str]], site_url: str) -> None:
    page, _, _ = browser_page
    page.goto(site_url + "widgets/", wait_until="load")

    def scheme() -> str:
        return str(page.evaluate("document.body.getAttribute('data-md-color-scheme')"))

    toggle = page.locator("form[data-md-component=palette] label:visible")
    assert scheme() == "default"
    toggle.click()
    page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'slate'")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.reload(wait_until="load")
    assert scheme() == "slate", "the choice is remembered across pages"
    page.locator("form[data-md-component=palette] label:visible").click()
    page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'default'")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != background
