"""Unity Catalog volumes on local disk: ``/Volumes/<catalog>/<schema>/<volume>/...`` → the kit's volumes folder.

Databricks notebooks read raw files from volume paths (a widget default like
``/Volumes/workspace/ecommerce/ecommerce_data/2019-Oct.csv``). Mapping that prefix to
``settings().volumes_dir`` lets the same text work locally for Spark (see :mod:`checkers.runtime.compat`),
``dbutils.fs`` and plain Python file calls inside the kernel (:func:`install_python_hooks`).
"""

from __future__ import annotations

import _io
import builtins
import gzip
import io
import os
import posixpath
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checkers.config import settings
from checkers.errors import CheckersError, DataError
from checkers.signals import VOLUMES_ROOT

VOLUMES_PREFIX = "/Volumes"
"""Where Databricks mounts Unity Catalog volumes."""
SAMPLE_VOLUME = "/Volumes/workspace/ecommerce/ecommerce_data"
"""The volume the lessons (and participants' Day 6/7 notebooks) read the raw events from."""
SAMPLE_FILE_NAME = "2019-Oct.csv"
"""The sample's name in that volume: the real data set's file name."""
NOVEMBER_FILE_NAME = "2019-Nov.csv"
"""The data set's second month, generated beside the sample the first time a kernel starts (notebooks read both)."""
_DBFS_VOLUMES = "dbfs:/Volumes"


class VolumePathError(CheckersError):
    """A ``/Volumes`` path that cannot be mapped (it climbs out of ``/Volumes`` or names too little)."""


@dataclass(frozen=True)
class VolumeInfo:
    """One local volume folder, as ``day07 volumes`` lists it."""

    path: str
    """The Databricks path, ``/Volumes/<catalog>/<schema>/<volume>``."""
    local: Path
    """The folder that stands in for it."""
    files: int
    """Number of files inside (recursively)."""
    size: int
    """Total bytes of those files."""


def is_volume_path(path: object) -> bool:
    """True for ``/Volumes``, ``/Volumes/...`` and ``dbfs:/Volumes/...`` strings (or path-likes)."""
    text = _text(path)
    if text is None:
        return False
    if text.startswith(_DBFS_VOLUMES):
        text = text[len("dbfs:"):]
    return text == VOLUMES_PREFIX or text.startswith(VOLUMES_PREFIX + "/")


def volumes_root() -> Path:
    """The folder ``/Volumes`` stands for here: the kit's volumes folder, or a grading's private mirror of it (the
    grader tells its kernels with :data:`~checkers.signals.VOLUMES_ROOT`)."""
    private = os.environ.get(VOLUMES_ROOT)
    return Path(private) if private else settings().volumes_dir


def local_path(path: str, *, root: Path | None = None) -> Path:
    """The local file or folder for a volume path; raises :class:`VolumePathError` for anything else."""
    text = _text(path)
    if text is None or not is_volume_path(text):
        raise VolumePathError(f"'{path}' is not a volume path.",
                              hint="Volume paths look like /Volumes/<catalog>/<schema>/<volume>/<file>.")
    if text.startswith("dbfs:"):
        text = text[len("dbfs:"):]
    normal = posixpath.normpath(text)
    if normal != VOLUMES_PREFIX and not normal.startswith(VOLUMES_PREFIX + "/"):
        raise VolumePathError(f"'{path}' climbs out of /Volumes.",
                              hint="Remove the '..' parts: volume paths stay under /Volumes/<catalog>/.")
    relative = normal[len(VOLUMES_PREFIX):].lstrip("/")
    base = root if root is not None else volumes_root()
    return base / relative if relative else base


def volume_path(local: Path, *, root: Path | None = None) -> str | None:
    """The ``/Volumes/...`` path for a local file under the volumes folder, else None (the reverse mapping)."""
    base = (root if root is not None else volumes_root()).resolve()
    try:
        relative = Path(local).resolve().relative_to(base)
    except ValueError:
        return None
    parts = relative.as_posix()
    return VOLUMES_PREFIX if parts in ("", ".") else f"{VOLUMES_PREFIX}/{parts}"


def translate(path: Any) -> Any:
    """A volume path as its local path string; anything else unchanged (same object)."""
    if is_volume_path(path):
        return str(local_path(_text(path) or ""))
    return path


def list_volumes(*, root: Path | None = None) -> list[VolumeInfo]:
    """Every ``<catalog>/<schema>/<volume>`` folder under the volumes folder, sorted by path."""
    base = root if root is not None else volumes_root()
    found: list[VolumeInfo] = []
    if not base.is_dir():
        return found
    for folder in sorted(p for p in base.glob("*/*/*") if p.is_dir()):
        files = [f for f in folder.rglob("*") if f.is_file()]
        found.append(VolumeInfo(path=f"{VOLUMES_PREFIX}/{folder.relative_to(base).as_posix()}", local=folder,
                                files=len(files), size=sum(f.stat().st_size for f in files)))
    return found


def copy_to_volume(*, source: Path, dest: str, overwrite: bool = True) -> Path:
    """Copy a local file or folder into a volume (``dest`` is a ``/Volumes/...`` path); returns the local target.

    A ``dest`` that names an existing folder, or ends with ``/``, receives the source under its own name.
    """
    source = Path(source)
    if not source.exists():
        raise DataError(f"{source}: no such file or folder to copy.", hint="Check the path and try again.")
    if not is_volume_path(dest):
        raise VolumePathError(f"'{dest}' is not a volume path.",
                              hint=f"Copy into /Volumes/<catalog>/<schema>/<volume>/..., e.g. {SAMPLE_VOLUME}/")
    if len(volume_parts(dest)) < 3:
        raise VolumePathError(f"'{dest}' does not name a volume.",
                              hint="Copy into /Volumes/<catalog>/<schema>/<volume>/..., e.g. "
                                   f"{SAMPLE_VOLUME}/")
    target = local_path(dest)
    if dest.endswith("/") or target.is_dir():
        target = target / source.name
    if target.exists() and not overwrite:
        raise DataError(f"{dest} already exists.", hint="Pass overwrite=True (CLI: --force) to replace it.")
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target)
    else:
        _place(target, lambda tmp: shutil.copyfile(source, tmp))
    return target


def volume_parts(path: str) -> list[str]:
    """The parts of a volume path after ``/Volumes`` (catalog, schema, volume, ...)."""
    text = path[len("dbfs:"):] if path.startswith("dbfs:") else path
    return [p for p in posixpath.normpath(text)[len(VOLUMES_PREFIX):].split("/") if p]


def ensure_sample_volume() -> Path:
    """Place the shipped sample at ``/Volumes/workspace/ecommerce/ecommerce_data/2019-Oct.csv`` if it is missing,
    and a November file of the same shape beside it (``2019-Nov.csv``, generated: the kit ships one file).

    Runs on every kernel start, so it only stats two files when they are already there.
    """
    dest = local_path(f"{SAMPLE_VOLUME}/{SAMPLE_FILE_NAME}")
    if not dest.is_file():
        _place_sample(dest)
    november = dest.with_name(NOVEMBER_FILE_NAME)
    if not november.is_file():
        _place_november(november)
    return dest


def _place(dest: Path, fill: Callable[[Path], object]) -> None:
    """Write ``dest`` through a temporary file beside it (``fill`` writes that file), so a reader never sees half a
    file and a failed write leaves nothing behind."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.copying")
    try:
        fill(tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _place_november(dest: Path) -> None:
    from checkers.data import NOVEMBER_SEED, NOVEMBER_START, SAMPLE_DAYS, SAMPLE_ROWS
    from checkers.data.generate import generate_events

    _place(dest, lambda tmp: generate_events(out=tmp, rows=SAMPLE_ROWS, seed=NOVEMBER_SEED, start=NOVEMBER_START,
                                             days=SAMPLE_DAYS))


def _place_sample(dest: Path) -> None:
    source = _sample_source()

    def copy(tmp: Path) -> None:
        if source.suffix == ".gz":
            with gzip.open(source, "rb") as src, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out)
        else:
            shutil.copyfile(source, tmp)

    _place(dest, copy)


def _sample_source() -> Path:
    from checkers.data import sample_path

    source = Path(sample_path())
    if not source.is_file():
        raise DataError(f"The kit's sample data is missing: {source}.",
                        hint="Reinstall the kit, or generate data with `day07 data generate`.")
    return source


# --- plain Python file calls inside the kernel ----------------------------------------------------------

def _text(path: object) -> str | None:
    if isinstance(path, str):
        return path
    if isinstance(path, os.PathLike):
        value = os.fspath(path)
        return value if isinstance(value, str) else None
    return None


def _wrap_first_arg(func: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(path: Any, *args: Any, **kwargs: Any) -> Any:
        return func(translate(path), *args, **kwargs)

    wrapper.__wrapped__ = func  # type: ignore[attr-defined]
    wrapper._day07_volumes = True  # type: ignore[attr-defined]
    wrapper.__name__ = getattr(func, "__name__", "wrapper")
    wrapper.__doc__ = func.__doc__
    return wrapper


def _wrap_two_args(func: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(src: Any, dst: Any, *args: Any, **kwargs: Any) -> Any:
        return func(translate(src), translate(dst), *args, **kwargs)

    wrapper.__wrapped__ = func  # type: ignore[attr-defined]
    wrapper._day07_volumes = True  # type: ignore[attr-defined]
    wrapper.__name__ = getattr(func, "__name__", "wrapper")
    wrapper.__doc__ = func.__doc__
    return wrapper


_REAL_OPEN = _io.open
"""The built-in ``open`` (``_io`` is never patched, so this stays the real one even if this module reloads)."""


def volume_open(file: Any, *args: Any, **kwargs: Any) -> Any:
    """``open`` that also takes ``/Volumes`` paths: the notebook's ``open``, ``builtins.open`` and ``io.open``.

    A module-level function, so cloudpickle sends it to Spark's Python workers by name, not by value: a Python UDF,
    pandas UDF or ``mapInPandas`` function that calls ``open`` pickles (see :func:`pickle_open_as`)."""
    return _REAL_OPEN(translate(file), *args, **kwargs)


volume_open.__wrapped__ = _REAL_OPEN  # type: ignore[attr-defined]
volume_open._day07_volumes = True  # type: ignore[attr-defined]


def pickle_open_as(*, kit_server: bool) -> None:
    """How a function that calls ``open`` travels to Spark's Python workers.

    The kit's own server runs its workers with this kit's Python, so they import :func:`volume_open` and
    ``/Volumes`` paths work inside UDFs too. Another server's workers may not have the kit: there ``open`` is
    pickled as the built-in ``io.open`` (the name it replaces)."""
    if kit_server:
        volume_open.__module__, volume_open.__qualname__ = __name__, "volume_open"
    else:
        volume_open.__module__, volume_open.__qualname__ = "io", "open"


def _use_volume_open(func: Callable[..., Any]) -> Callable[..., Any]:
    return volume_open


#: (module, attribute, wrapper) patched by :func:`install_python_hooks`: the calls notebooks use on files.
_HOOKS: tuple[tuple[Any, str, Callable[[Callable[..., Any]], Callable[..., Any]]], ...] = (
    (builtins, "open", _use_volume_open), (io, "open", _use_volume_open),
    (os, "listdir", _wrap_first_arg), (os, "scandir", _wrap_first_arg), (os, "stat", _wrap_first_arg),
    (os, "lstat", _wrap_first_arg), (os, "mkdir", _wrap_first_arg), (os, "makedirs", _wrap_first_arg),
    (os, "remove", _wrap_first_arg), (os, "unlink", _wrap_first_arg), (os, "rmdir", _wrap_first_arg),
    (os, "walk", _wrap_first_arg), (os, "rename", _wrap_two_args), (os, "replace", _wrap_two_args),
    (os.path, "exists", _wrap_first_arg), (os.path, "isfile", _wrap_first_arg),
    (os.path, "isdir", _wrap_first_arg), (os.path, "getsize", _wrap_first_arg),
    (os.path, "getmtime", _wrap_first_arg),
)


def install_python_hooks(namespace: dict[str, Any] | None = None) -> bool:
    """Make ``open``, ``os`` and ``os.path`` calls (and so ``pathlib``, ``pandas``) see volume paths locally.

    ``namespace`` is a notebook's globals: IPython puts its own ``open`` there, which is replaced too.
    Only paths under ``/Volumes`` are changed. Idempotent; returns False when already installed.
    """
    if namespace is not None and callable(namespace.get("open")) and not _hooked(namespace["open"]):
        namespace["open"] = volume_open  # not a wrapper of IPython's own: that one cannot be pickled for UDFs
    if _hooked(builtins.open):
        return False
    for module, name, wrap in _HOOKS:
        setattr(module, name, wrap(getattr(module, name)))
    return True


def _hooked(func: Any) -> bool:
    return bool(getattr(func, "_day07_volumes", False))


def uninstall_python_hooks() -> None:
    """Undo :func:`install_python_hooks` (tests)."""
    for module, name, _ in _HOOKS:
        current = getattr(module, name)
        if _hooked(current):
            setattr(module, name, current.__wrapped__)


class SampleDatasetsError(CheckersError):
    """``/databricks-datasets``: the sample data every Databricks workspace mounts, which does not exist locally."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"'{path}' is in /databricks-datasets, the sample data sets every Databricks workspace has; they are not "
            "available locally.",
            hint="Read the kit's data instead: the sample under /Volumes/workspace/ecommerce/ecommerce_data/, or "
                 "files you write under /Volumes. See docs/emulation.md#catalogs.")
        self.path = path


def is_sample_datasets(path: str) -> bool:
    text = path[len("dbfs:"):] if path.startswith("dbfs:") else path
    return text.rstrip("/") == "/databricks-datasets" or text.startswith("/databricks-datasets/")
