"""``dbutils.fs`` on local disk, with Databricks' signatures and return shapes.

Path schemes as on Databricks: ``/Volumes/...`` and ``dbfs:/Volumes/...`` are volumes (the kit's volumes
folder), ``file:/...`` is the local file system as it is, and any other bare path or ``dbfs:/...`` path is DBFS
(a ``dbfs`` folder in the kit home). Listings name entries the way Databricks does (``dbfs:/Volumes/.../x.csv``,
folders ending in ``/``).
"""

from __future__ import annotations

import posixpath
import shutil
from collections import namedtuple
from pathlib import Path
from typing import Any

from checkers.config import settings
from checkers.runtime.missing import ReportsMissing
from checkers.runtime.volumes import SampleDatasetsError, is_sample_datasets, is_volume_path, local_path

DBFS_FOLDER = "dbfs"
"""Folder in the kit home that stands in for the DBFS root."""


class FileInfo(namedtuple("FileInfo", ["path", "name", "size", "modificationTime"])):
    """One ``dbutils.fs.ls`` entry (same fields as Databricks' and the SDK's ``FileInfo``)."""

    __slots__ = ()

    def isDir(self) -> bool:  # noqa: N802 - Databricks' name
        return self.name.endswith("/")

    def isFile(self) -> bool:  # noqa: N802 - Databricks' name
        return not self.isDir()


def dbfs_root() -> Path:
    """The local folder behind ``dbfs:/``."""
    return settings().home / DBFS_FOLDER


def _checksum(name: str) -> bool:
    """``.part-0000.parquet.crc``, ``._SUCCESS.crc``: the local disk's checksums of what Spark wrote, which a volume on
    Databricks does not have."""
    return name.startswith(".") and name.endswith(".crc")


def resolve(path: str) -> tuple[Path, str]:
    """A ``dbutils.fs`` path → (local path, Databricks-style prefix used to name entries below it)."""
    if not isinstance(path, str) or not path:
        raise ValueError(f"dbutils.fs needs a path string, got {path!r}.")
    if is_sample_datasets(path):
        raise SampleDatasetsError(path)
    if is_volume_path(path):
        text = path[len("dbfs:"):] if path.startswith("dbfs:") else path
        return local_path(text), "dbfs:" + _clean(text)
    if path.startswith("file:"):
        text = "/" + path[len("file:"):].lstrip("/")
        return Path(text), "file:" + _clean(text)
    text = path[len("dbfs:"):] if path.startswith("dbfs:") else path
    if not text.startswith("/"):
        raise ValueError(f"'{path}' is not an absolute path: dbutils.fs paths start with /, dbfs:/, file:/ "
                         "or /Volumes/.")
    clean = _clean(text)
    local = (dbfs_root() / clean.lstrip("/")) if clean != "/" else dbfs_root()
    root = dbfs_root().resolve()
    resolved = local.resolve()
    if resolved != root and root not in resolved.parents:
        raise ValueError(f"'{path}' climbs out of DBFS.")
    return local, "dbfs:" + clean


def resolve_for_reading(path: str) -> tuple[Path, str]:
    """:func:`resolve`, except that a bare absolute path missing from the DBFS stand-in but present on local disk is
    that local file, named as given.

    The kit's Spark reads a bare path from local disk, and a local job passes such paths to widgets (the grader's
    unseen data, a ``--param source_path=...``): ``dbutils.fs.ls(source_path)`` before ``spark.read`` must see the file
    Spark will read. Only reads: nothing writes outside the kit's folders through a bare path.
    """
    local, prefix = resolve(path)
    bare = isinstance(path, str) and path.startswith("/") and not is_volume_path(path)
    if bare and not local.exists() and Path(_clean(path)).exists():
        return Path(_clean(path)), _clean(path)
    return local, prefix


def _clean(text: str) -> str:
    clean = posixpath.normpath(text)
    return "/" if clean in ("/", "//") else clean


def _join(prefix: str, name: str) -> str:
    return prefix.rstrip("/") + "/" + name


def _info(local: Path, name_path: str) -> FileInfo:
    stat = local.stat()
    modified = int(stat.st_mtime * 1000)
    if local.is_dir():
        name = local.name + "/"
        return FileInfo(name_path.rstrip("/") + "/", name, 0, modified)
    return FileInfo(name_path, local.name, stat.st_size, modified)


class LocalFS(ReportsMissing):
    """``dbutils.fs``: ls, head, cp, mv, rm, mkdirs, put."""

    _OWNER = "dbutils.fs"
    _PROVIDES = "ls, head, cp, mv, rm, mkdirs, put and mounts (none)"

    def mounts(self) -> list[Any]:
        """No mount points locally (Unity Catalog volumes replace them on Databricks too)."""
        return []

    def ls(self, dir: str) -> list[FileInfo]:  # noqa: A002 - Databricks' parameter name
        local, prefix = resolve_for_reading(dir)
        if not local.exists():
            raise FileNotFoundError(f"File {dir} does not exist.")
        if local.is_file():
            return [_info(local, prefix)]
        return [_info(child, _join(prefix, child.name)) for child in sorted(local.iterdir())
                if not _checksum(child.name)]

    def head(self, file: str, maxBytes: int = 65536) -> str:  # noqa: N803 - Databricks' parameter name
        local, _ = resolve_for_reading(file)
        if local.is_dir():
            raise IsADirectoryError(f"Cannot head a directory: {file}")
        if not local.exists():
            raise FileNotFoundError(f"File {file} does not exist.")
        with open(local, "rb") as handle:
            data = handle.read(maxBytes)
        return data.decode("utf-8", errors="replace")

    def mkdirs(self, dir: str) -> bool:  # noqa: A002
        local, _ = resolve(dir)
        if local.is_file():
            raise FileExistsError(f"Cannot create directory {dir}: a file with that name exists.")
        local.mkdir(parents=True, exist_ok=True)
        return True

    def put(self, file: str, contents: str, overwrite: bool = False) -> bool:
        local, _ = resolve(file)
        if local.is_dir():
            raise IsADirectoryError(f"Cannot write to {file}: it is a directory.")
        if local.exists() and not overwrite:
            raise FileExistsError(f"File {file} already exists; pass overwrite=True to replace it.")
        local.parent.mkdir(parents=True, exist_ok=True)
        data = contents.encode("utf-8")
        local.write_bytes(data)
        print(f"Wrote {len(data)} bytes.")
        return True

    def cp(self, from_: str, to: str, recurse: bool = False) -> bool:
        source, target = self._pair(from_, to, recurse=recurse, verb="copy")
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copyfile(source, target)
        return True

    def mv(self, from_: str, to: str, recurse: bool = False) -> bool:
        source, target = self._pair(from_, to, recurse=recurse, verb="move")
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir() and target.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
            shutil.rmtree(source)
        else:
            shutil.move(str(source), str(target))
        return True

    def rm(self, dir: str, recurse: bool = False) -> bool:  # noqa: A002
        local, _ = resolve(dir)
        if not local.exists() and not local.is_symlink():
            return False
        if local.is_dir() and not local.is_symlink():
            if any(local.iterdir()) and not recurse:
                raise OSError(f"Cannot remove {dir}: it is a non-empty directory; pass recurse=True.")
            shutil.rmtree(local)
        else:
            local.unlink()
        return True

    def _pair(self, from_: str, to: str, *, recurse: bool, verb: str) -> tuple[Path, Path]:
        source, _ = resolve_for_reading(from_) if verb == "copy" else resolve(from_)
        target, _ = resolve(to)
        if not source.exists():
            raise FileNotFoundError(f"File {from_} does not exist.")
        if source.is_dir() and not recurse:
            raise OSError(f"Cannot {verb} directory {from_} unless recurse=True.")
        if target.is_dir() and not source.is_dir():
            target = target / source.name
        if source.resolve() == target.resolve():
            raise OSError(f"Cannot {verb} {from_} onto itself.")
        return source, target

    def help(self, method: str | None = None) -> None:
        print("dbutils.fs (local Day 07 runtime): ls, head, cp, mv, rm, mkdirs, put, mounts. "
              "/Volumes/... and dbfs:/Volumes/... are the kit's volumes folder, dbfs:/... and bare paths are "
              f"{dbfs_root()}, file:/... is the local disk.")

    def __repr__(self) -> str:
        return "<dbutils.fs (local)>"
