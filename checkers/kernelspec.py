"""The kit's Jupyter kernel spec: what it runs, and installing the learner's "Day 07 (local Databricks)" kernel.

Every kit kernel is stock ipykernel plus :data:`EXTENSION` (:mod:`checkers.notebooks.extension`), which sets up
``spark``, ``dbutils``, ``display`` and the magics. The executor writes the same spec into the kit home for its own
kernels (:func:`write_kernelspec`).

By default the spec goes into this environment (``<sys.prefix>/share/jupyter/kernels``, like ``--sys-prefix``), so
``uv run jupyter lab`` finds it and nothing outside the project changes. A user-wide install (``--user``) is
refused when a user-wide kernel of the same name already runs another environment's Python: replacing it would
silently break that environment's notebooks.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from checkers.errors import CheckersError
from checkers.files import atomic_write

KERNEL_NAME = "day07"
DISPLAY_NAME = "Day 07 (local Databricks)"
EXTENSION = "checkers.notebooks.extension"
"""The IPython extension every kit kernel loads: the runtime, given the executor for ``%run`` and nested runs."""


class KernelInstallError(CheckersError):
    """The kernel spec cannot be installed where it was asked to go."""


@dataclass(frozen=True)
class KernelInstall:
    """Where the kernel spec went, and whether Jupyter will find it first."""

    path: Path
    """The kernel's folder (holding ``kernel.json``)."""
    scope: str
    """``environment`` (this environment's prefix), ``user`` or ``prefix`` (a prefix that was named)."""
    shadowed_by: Path | None = None
    """Another kernel of the same name that Jupyter finds first and that runs another Python (None: none)."""


def kernel_argv(python: str | None = None) -> list[str]:
    """The command Jupyter runs for our kernel: stock ipykernel plus the extension."""
    return [python or sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", f"--ext={EXTENSION}"]


def write_kernelspec(folder: Path, *, display_name: str = DISPLAY_NAME, python: str | None = None) -> Path:
    """Write ``kernel.json`` into ``folder`` (which becomes the kernel's directory)."""
    spec = {"argv": kernel_argv(python), "display_name": display_name, "language": "python",
            "metadata": {"debugger": False}}
    text = json.dumps(spec, indent=2)
    target = folder / "kernel.json"
    # Kernels start concurrently: rewrite only when it changed, and atomically, so no reader sees half a file.
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        atomic_write(target, text)
    return folder


def install_kernel(*, user: bool = True, prefix: str | None = None) -> Path:
    """Install the learner-facing kernelspec into Jupyter's kernel folders; returns where it went."""
    import tempfile

    from jupyter_client.kernelspec import KernelSpecManager

    with tempfile.TemporaryDirectory() as tmp:
        source = write_kernelspec(Path(tmp) / KERNEL_NAME)
        dest = KernelSpecManager().install_kernel_spec(str(source), KERNEL_NAME, user=user and prefix is None,
                                                       prefix=prefix, replace=True)
    return Path(dest)


def environment_prefix() -> str:
    """This environment's prefix: the project's ``.venv`` under ``uv run``."""
    return sys.prefix


def kernel_dirs() -> list[Path]:
    """Jupyter's kernel folders, in the order it searches them (from this environment's point of view)."""
    from jupyter_core.paths import jupyter_path

    return [Path(p) for p in jupyter_path("kernels")]


def user_kernel_dir() -> Path:
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "kernels"


def kernel_python(folder: Path) -> str | None:
    """The Python a kernel spec runs (its ``argv[0]``), None when there is no readable spec."""
    try:
        argv = json.loads((folder / "kernel.json").read_text(encoding="utf-8")).get("argv") or []
    except (OSError, ValueError, AttributeError):
        return None
    return str(argv[0]) if argv else None


def _same_python(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b) or os.path.abspath(a) == os.path.abspath(b)


def install(*, user: bool = False, prefix: str | None = None) -> KernelInstall:
    """Install the kernel spec into this environment (default), the user's folder, or ``prefix``."""
    if user and prefix is not None:
        raise KernelInstallError("Choose one place for the kernel: --user or --prefix, not both.",
                                 hint="Leave both out to install it into this environment.")
    if user:
        existing = user_kernel_dir() / KERNEL_NAME
        python = kernel_python(existing)
        if python is not None and not _same_python(python, sys.executable):
            raise KernelInstallError(
                f"A user-wide kernel '{KERNEL_NAME}' already exists in {existing} and runs another Python "
                f"({python}); replacing it would break that environment's notebooks.",
                hint=f"Install into this environment instead (day07 kernel install), or remove that kernel first: "
                     f"jupyter kernelspec remove {KERNEL_NAME}")
        path, scope = install_kernel(user=True), "user"
    else:
        target = prefix if prefix is not None else environment_prefix()
        path, scope = install_kernel(user=False, prefix=target), "prefix" if prefix is not None else "environment"
    shadow = None
    for folder in kernel_dirs():
        candidate = folder / KERNEL_NAME
        python = kernel_python(candidate)
        if python is None:
            continue
        if candidate.resolve() != path.resolve() and not _same_python(python, sys.executable):
            shadow = candidate
        break  # Jupyter uses the first spec of that name it finds
    return KernelInstall(path=path, scope=scope, shadowed_by=shadow)
