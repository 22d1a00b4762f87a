"""A real JupyterLab on loopback, driven by headless Chromium: the widget bar's screenshot and browser test.

The widget bar is drawn by JupyterLab itself (ipywidgets' lab extension) from the controls the kernel sends, so
the only honest picture of it, and the only honest test that typing into it changes ``dbutils.widgets.get``, come
from a real JupyterLab running the "Day 07 (local Databricks)" kernel. :func:`jupyterlab` starts one on
``127.0.0.1`` with a private config, data and runtime folder (nothing of the user's is read or changed) and the
kernel spec installed into a temporary prefix; :class:`LabNotebook` opens a notebook in it and runs cells the way
a person does (click, Shift+Enter).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checkers import signals
from checkers.authoring.shot import Shot, png_size
from checkers.errors import CheckersError

if TYPE_CHECKING:
    from checkers.authoring.chromium import Camera

START_TIMEOUT = 120.0
"""Seconds JupyterLab may take to answer (two shared cores and a cold start can be slow)."""
CELL_TIMEOUT = 90.0
"""Seconds one cell may take in the browser (the first one waits for the kernel to start)."""
_KERNEL_ENV = signals.ALL
"""Set only for the kit's own headless kernels; a person's kernel has none of them."""


class LabError(CheckersError):
    """JupyterLab did not start, or a notebook in it did not do what was asked."""


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab."""

    url: str
    """``http://127.0.0.1:<port>/``."""
    token: str
    """Its access token."""
    root: Path
    """The folder it serves."""

    def notebook_url(self, name: str) -> str:
        return f"{self.url}lab/tree/{name}?token={self.token}&reset"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def notebook_file(path: Path, cells: Sequence[str]) -> Path:
    """Write a notebook of code ``cells`` that opens with the Day 07 kernel."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "day07", "display_name": "Day 07 (local Databricks)", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


@contextmanager
def jupyterlab(*, root: Path, timeout: float = START_TIMEOUT) -> Iterator[LabServer]:
    """Start JupyterLab serving ``root`` on loopback with the Day 07 kernel; stop it (and its kernels) on exit."""
    from checkers.kernelspec import install_kernel

    port, token = _free_port(), secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="day07-lab-") as scratch:
        private = Path(scratch)
        install_kernel(prefix=str(private / "prefix"))
        # No "get notified about Jupyter news?" prompt over the notebook (and no fetch of the news feed).
        notify = private / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        notify.parent.mkdir(parents=True)
        notify.write_text(json.dumps({"fetchNews": "false"}), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k not in _KERNEL_ENV}
        env.update({"JUPYTER_PATH": str(private / "prefix" / "share" / "jupyter"),
                    "JUPYTER_CONFIG_DIR": str(private / "config"), "JUPYTER_DATA_DIR": str(private / "data"),
                    "JUPYTER_RUNTIME_DIR": str(private / "runtime"), "JUPYTER_PLATFORM_DIRS": "1"})
        argv = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={private / 'settings'}",
                f"--LabApp.workspaces_dir={private / 'workspaces'}",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                "--LabApp.extension_manager=readonly"]  # nothing asks PyPI or GitHub
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            argv.append("--allow-root")  # containers and CI run as root
        log = (private / "lab.log").open("wb")
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(root),
                                start_new_session=True)
        server = LabServer(url=f"http://127.0.0.1:{port}/", token=token, root=root)
        try:
            _wait_ready(server, proc, timeout=timeout, log=private / "lab.log")
            yield server
        finally:
            _stop(proc)
            log.close()


def _wait_ready(server: LabServer, proc: subprocess.Popen[bytes], *, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(encoding="utf-8", errors="replace")[-1500:]
            raise LabError(f"JupyterLab exited with code {proc.returncode} before it answered:\n{tail}",
                           hint="Install the notebooks group: uv sync (or pip install -e '.[notebooks]').")
        with contextlib.suppress(OSError, urllib.error.URLError):
            with urllib.request.urlopen(f"{server.url}api/status?token={server.token}", timeout=5) as reply:  # noqa: S310 - loopback
                if reply.status == 200:
                    return
        time.sleep(0.5)
    raise LabError(f"JupyterLab did not answer on {server.url} within {timeout:.0f} s.")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server and the kernels it started (its own process group)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, 15)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 9)
        proc.wait(timeout=10)


class LabNotebook:
    """One notebook open in JupyterLab in a Playwright page; cells are run the way a person runs them."""

    def __init__(self, page: Any, server: LabServer, name: str) -> None:
        self.page = page
        self.server = server
        self.name = name
        self.outside: list[str] = []
        """Requests to anything but the server, refused (JupyterLab must need nothing from outside)."""

    def open(self) -> LabNotebook:
        def route(r: Any) -> None:
            if r.request.url.startswith((self.server.url, "data:", "blob:")):
                r.continue_()
            else:
                self.outside.append(r.request.url)
                r.abort()

        self.page.route("**/*", route)
        self.page.goto(self.server.notebook_url(self.name), wait_until="domcontentloaded")
        self.page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=START_TIMEOUT * 1000)
        # The kernel is ready when the status bar names it and says "Idle" (before it starts it says "No Kernel").
        self.page.wait_for_function(
            "() => Array.from(document.querySelectorAll('.jp-StatusBar-TextItem'))"
            ".some(e => e.textContent.includes('Day 07') && e.textContent.includes('Idle'))",
            timeout=START_TIMEOUT * 1000)
        return self

    def cell(self, index: int) -> Any:
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    def run(self, index: int) -> str:
        """Run cell ``index`` (click into it, Shift+Enter) and return its output text once it finished."""
        cell = self.cell(index)
        cell.locator(".jp-InputArea-editor").click()
        prompt = cell.locator(".jp-InputPrompt")
        before = prompt.inner_text()
        self.page.keyboard.press("Shift+Enter")
        deadline = time.monotonic() + CELL_TIMEOUT
        while time.monotonic() < deadline:
            text = prompt.inner_text().strip()
            if text != before.strip() and "*" not in text and any(ch.isdigit() for ch in text):
                return cell.locator(".jp-OutputArea").inner_text()
            time.sleep(0.2)
        raise LabError(f"Cell {index} of {self.name} did not finish within {CELL_TIMEOUT:.0f} s "
                       f"(prompt {prompt.inner_text()!r}).")

    def output(self, index: int) -> str:
        return str(self.cell(index).locator(".jp-OutputArea").inner_text())


# ------------------------------------------------------------------------------------------------ the screenshot

SHOT_VALUE = "silver"
"""The layer picked in the bar for the docs image, so the image shows a changed value reaching ``get``."""


def widget_cells(solution: Path) -> list[str]:
    """The code cells of ``00_widgets`` that declare and read its widgets (markers dropped), from the solution."""
    import re

    from checkers.notebooks.formats import read_notebook

    marker = re.compile(r"^[ \t]*#\s*(BEGIN|END) SOLUTION\b.*$\n?", re.MULTILINE)
    cells = [marker.sub("", c.source).strip("\n") for c in read_notebook(solution).cells if c.cell_type == "code"]
    declare = next((i for i, c in enumerate(cells) if "dbutils.widgets.dropdown(" in c), None)
    read = next((i for i, c in enumerate(cells) if 'dbutils.widgets.get("layer")' in c and "print(" in c), None)
    if declare is None or read is None:
        raise LabError(f"{solution.name} has no cell declaring the layer dropdown and one printing what it read.",
                       hint="The widgets screenshot runs those two cells of solutions/00_widgets.ipynb.")
    return [cells[declare], cells[read]]


def capture_widget_bar(*, cam: Camera, solution: Path, out: Path, scale: float = 1.5) -> Shot:
    """Open ``00_widgets``' widget cells in a real JupyterLab, pick a layer in the bar, rerun the reading cell, and
    save the two cells (bar and printed values) as a PNG at ``out``."""
    from checkers.runtime.widget_bar import BAR_CLASS, control_class

    with tempfile.TemporaryDirectory(prefix="day07-lab-root-") as tmp:
        root = Path(tmp)
        notebook_file(root / solution.name, widget_cells(solution))
        with jupyterlab(root=root) as server:
            context = cam.browser.new_context(viewport={"width": 1250, "height": 700}, device_scale_factor=scale)
            try:
                nb = LabNotebook(context.new_page(), server, solution.name).open()
                nb.run(0)
                nb.page.locator(f".{BAR_CLASS} .{control_class('layer')} select").select_option(SHOT_VALUE)
                printed = nb.run(1)
                if SHOT_VALUE not in printed:
                    raise LabError(f"The reading cell printed {printed!r} after {SHOT_VALUE!r} was picked in the bar.")
                nb.page.mouse.click(5, 695)  # focus away from the cells: no cursor or selection in the picture
                first = nb.cell(0).bounding_box()
                second = nb.cell(1).bounding_box()
                top, bottom = first["y"] - 6, second["y"] + second["height"]
                out.parent.mkdir(parents=True, exist_ok=True)
                tmp_png = out.with_name(f".{out.name}.tmp.png")
                nb.page.screenshot(path=str(tmp_png), clip={"x": first["x"] - 6, "y": top,
                                                            "width": first["width"] + 12, "height": bottom - top})
                tmp_png.replace(out)
            finally:
                context.close()
    w, h = png_size(out)
    return Shot(path=out, width=w, height=h, source=f"JupyterLab running solutions/{solution.name}'s widget cells",
                blocked=tuple(nb.outside))

