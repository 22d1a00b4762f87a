"""``day07 docs``: build or serve the guide, regenerate its screenshots from real runs, and its rubric."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from checkers.cli import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE, console
from checkers.config import PROJECT_ROOT


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("docs", help="build or serve the guide; regenerate its screenshots",
                                   description="The guide is a mkdocs-material site (mkdocs.yml, docs/). "
                                               "Its reference pages are generated from the code at build time.")
    parser.set_defaults(func=lambda _args: _usage(parser))
    sub = parser.add_subparsers(dest="docs_command", metavar="ACTION")

    build = sub.add_parser("build", help="build the site into a folder (strict: any warning fails)")
    build.add_argument("--site-dir", type=Path, metavar="DIR", help="where to write the HTML (default: site/)")
    build.add_argument("--no-strict", dest="strict", action="store_false",
                       help="let warnings (e.g. a broken link) pass")
    build.set_defaults(func=_build)

    serve = sub.add_parser("serve", help="serve the site on 127.0.0.1 and rebuild on every change")
    serve.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default 8000)")
    serve.set_defaults(func=_serve)

    rubric = sub.add_parser("rubric", help="write the rubric (points per check) into docs/contract.md",
                            description="The contract page carries the rubric between its rubric markers, so GitHub "
                                        "shows it too. This rewrites it from the grader's check registry.")
    rubric.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 when the committed rubric differs from the registry")
    rubric.set_defaults(func=_rubric)

    shots = sub.add_parser("screenshots", help="run the solutions for real and redraw the docs' images",
                           description="Runs the solution job locally (tables go to schema day07, as the docs "
                                       "teach), draws each image from that run and captures it with headless "
                                       "Chromium; the widget bar is captured from 00_widgets in a real JupyterLab.")
    shots.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "images", metavar="DIR",
                       help="folder for the PNG files (default: docs/images)")
    shots.add_argument("--only", action="append", metavar="NAME",
                       help="draw only this image, e.g. job_workflow.png (repeatable)")
    shots.set_defaults(func=_screenshots)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return EXIT_UNUSABLE


def _build(args: argparse.Namespace) -> int:
    from checkers.authoring.site_build import build_site

    with console.status("Building the site…"):
        result = build_site(root=PROJECT_ROOT, site_dir=args.site_dir, strict=args.strict)
    console.print(f"[green]✓[/green] built {result.pages} pages into {result.site_dir}")
    console.print(f"  open {result.site_dir / 'index.html'}, or serve it with `day07 docs serve`")
    return EXIT_OK


def _rubric(args: argparse.Namespace) -> int:
    from checkers.authoring.rubric import CONTRACT_PAGE, update_rubric

    page = PROJECT_ROOT / "docs" / CONTRACT_PAGE
    stale = update_rubric(page=page, check=args.check)
    if args.check:
        if stale:
            console.print(f"[red]✗[/red] the rubric in {page} differs from the grader's checks; "
                          "run `day07 docs rubric` to rewrite it")
            return EXIT_FAILED
        console.print(f"[green]✓[/green] the rubric in {page} matches the grader's checks")
        return EXIT_OK
    console.print(f"[green]✓[/green] {'rewrote' if stale else 'kept (already up to date)'} the rubric in {page}")
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    from checkers.authoring.site_build import require_mkdocs

    require_mkdocs()
    console.print(f"Serving the guide on http://127.0.0.1:{args.port}/ (Ctrl-C stops it)")
    cmd = [sys.executable, "-m", "mkdocs", "serve", "--config-file", str(PROJECT_ROOT / "mkdocs.yml"),
           "--dev-addr", f"127.0.0.1:{args.port}"]
    return subprocess.call(cmd, cwd=PROJECT_ROOT, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})


def _screenshots(args: argparse.Namespace) -> int:
    from checkers.authoring.screenshots import IMAGES, generate_screenshots

    console.print("Running the solutions for real (the job, and 00_widgets in JupyterLab) — about a minute…")
    shots = generate_screenshots(root=PROJECT_ROOT, out_dir=args.out, only=args.only)
    for shot in shots:
        console.print(f"[green]✓[/green] {shot.path.name:<20} {shot.width}×{shot.height}  "
                      f"{IMAGES[shot.path.name]}\n    from {shot.source}", soft_wrap=True)
    return EXIT_OK
