"""Each Delta stand-in table's history: one JSON line per write, and the files of recent versions.

Databricks keeps a transaction log next to every Delta table; ``DESCRIBE HISTORY`` and time travel read it. The
local stand-in is plain parquet, so the kernel keeps a small log of its own for each table it writes, in the kit
home's ``delta/`` folder (or, in a grading sandbox, the grading folder: the only place its kernel may write):

* ``log.jsonl``: one entry per commit (version, timestamp, operation, parameters, metrics, schema, ...);
* ``v<N>/``: hard links to the data files of version N, so ``VERSION AS OF N`` can read them after a later write
  replaced them. A hard link costs no space until the table's own file is deleted; then the kept version holds
  that space until it falls out of the last ``DAY07_DELTA_VERSIONS`` versions.

Only when the kernel shares the Spark server's disk (the kit's own server) are version files kept.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from checkers.signals import SANDBOX_ROOT

COPY_LIMIT_BYTES = 256 * 2**20
"""When hard links are impossible (another filesystem, a sandbox mount), a version is copied only up to this size."""


def logs_root() -> Path:
    """Where the logs live: the kit home, or the grading folder of a sandboxed kernel."""
    sandbox = os.environ.get(SANDBOX_ROOT)
    if sandbox:
        return Path(sandbox) / "delta"
    from checkers.config import settings

    return settings().home / "delta"


def versions_kept() -> int:
    from checkers.config import settings

    return max(0, int(settings().delta_versions))


def local_folder(location: str | None) -> Path | None:
    """A ``file:`` location (as ``DESCRIBE TABLE EXTENDED`` shows it) or a plain path → a local folder, if any."""
    if not location:
        return None
    text = location
    if text.startswith("file://"):
        text = text[len("file://"):]
    elif text.startswith("file:"):
        text = text[len("file:"):]
    elif "://" in text or text.startswith(("dbfs:", "s3:", "abfss:", "gs:")):
        return None
    return Path(unquote(text))


def data_files(folder: Path) -> Iterator[Path]:
    """The files Spark reads in a table folder: not ``_SUCCESS``, ``.crc`` or other ``_``/``.`` names."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")))
        for name in sorted(files):
            if not name.startswith(("_", ".")):
                yield Path(root) / name


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Commit:
    """What one write did, as ``DESCRIBE HISTORY`` shows it."""

    operation: str
    """Databricks' operation name: ``WRITE``, ``MERGE``, ``CREATE OR REPLACE TABLE AS SELECT``, ..."""
    parameters: dict[str, Any]
    metrics: dict[str, Any]
    schema: str | None = None
    """The table's schema after the write (Spark's JSON), to read a kept version back."""
    partition_columns: tuple[str, ...] = ()
    location: str | None = None
    blind_append: bool = False
    new_table: bool = False
    """The write created a table that did not exist: a log left under its name belonged to a dropped table."""


class DeltaLog:
    """The log of one table (``table:spark_catalog.s.t``) or path (``path:/local/folder``)."""

    def __init__(self, key: str, *, root: Path | None = None) -> None:
        self.key = key
        base = root if root is not None else logs_root()
        kind, _, ident = key.partition(":")
        folder = quote(ident.lower(), safe="._-") if kind == "table" else \
            f"path-{hashlib.sha1(ident.encode()).hexdigest()[:16]}"
        self.folder = base / folder

    @property
    def _file(self) -> Path:
        return self.folder / "log.jsonl"

    def entries(self) -> list[dict[str, Any]]:
        """Every commit, oldest first (an unreadable line is skipped, never fatal)."""
        try:
            lines = self._file.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        found = []
        for line in lines:
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if isinstance(entry, dict) and isinstance(entry.get("version"), int):
                    found.append(entry)
        return found

    def latest(self) -> dict[str, Any] | None:
        entries = self.entries()
        return entries[-1] if entries else None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def commit(self, commit: Commit, *, snapshot_from: Path | None = None, files: list[Path] | None = None,
               user: str | None = None) -> int:
        """Append one version (after the write succeeded); returns its number.

        The version's files are kept from ``snapshot_from`` (the table's folder): ``files`` in it, or every data file
        there. ``files=[]`` keeps an empty version (an empty table); neither keeps nothing."""
        with self._locked():
            entries = self.entries()
            if commit.new_table:  # a new table under an old name starts a new history
                entries = self._reset()
            wait_for_new_millisecond(entries[-1] if entries else None)
            version = entries[-1]["version"] + 1 if entries else 0
            kept = self._snapshot(version, snapshot_from, files) \
                if snapshot_from is not None or files is not None else False
            entry = {"version": version, "timestamp": now_iso(), "operation": commit.operation,
                     "operationParameters": {k: _text(v) for k, v in commit.parameters.items()},
                     "operationMetrics": {k: _text(v) for k, v in commit.metrics.items()},
                     "readVersion": version - 1 if version else None, "isBlindAppend": commit.blind_append,
                     "userName": user or os.environ.get("USER") or "local", "schema": commit.schema,
                     "partitionColumns": list(commit.partition_columns),
                     "location": commit.location, "kept": kept}
            with open(self._file, "a", encoding="utf-8") as out:
                out.write(json.dumps(entry, sort_keys=True) + "\n")
            self._prune()
            return version

    def _reset(self) -> list[dict[str, Any]]:
        for child in list(self.folder.iterdir()):
            if child.name.startswith("v") and child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
        self._file.unlink(missing_ok=True)
        return []

    def version_folder(self, version: int) -> Path | None:
        folder = self.folder / f"v{version}"
        return folder if folder.is_dir() else None

    def kept_versions(self) -> list[int]:
        return sorted(e["version"] for e in self.entries() if self.version_folder(e["version"]) is not None)

    def _snapshot(self, version: int, source: Path | None, files: list[Path] | None) -> bool:
        """Hard-link (or, when impossible and small, copy) the table's data files as ``v<version>/``."""
        if versions_kept() <= 0 or (files is None and (source is None or not source.is_dir())):
            return False
        if files is None:
            files = list(data_files(source))  # type: ignore[arg-type]
        if files and (source is None or not all(p.is_relative_to(source) for p in files)):
            return False
        target = self.folder / f"v{version}"
        shutil.rmtree(target, ignore_errors=True)
        copied = 0
        try:
            target.mkdir(parents=True)
            for path in files:
                dest = target / path.relative_to(source)  # type: ignore[arg-type]
                dest.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(path, dest)
                except OSError:
                    copied += path.stat().st_size
                    if copied > COPY_LIMIT_BYTES:
                        raise
                    shutil.copyfile(path, dest)
        except OSError:
            shutil.rmtree(target, ignore_errors=True)
            return False
        return True

    def _prune(self) -> None:
        keep = versions_kept()
        folders = sorted((int(p.name[1:]), p) for p in self.folder.glob("v*") if p.name[1:].isdigit())
        for _, folder in folders[:max(0, len(folders) - keep)]:
            shutil.rmtree(folder, ignore_errors=True)

    def drop(self) -> None:
        """Forget the table (``DROP TABLE``): a table created later under that name starts at version 0."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def move_to(self, other: DeltaLog) -> None:
        """``ALTER TABLE ... RENAME TO``: the history goes with the table."""
        if not self.folder.exists():
            return
        other.drop()
        other.folder.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.folder, other.folder)


def drop_schema_logs(schema_key_prefix: str, *, root: Path | None = None) -> None:
    """``DROP SCHEMA ... CASCADE``: forget every table of ``spark_catalog.<schema>``."""
    base = root if root is not None else logs_root()
    prefix = quote(schema_key_prefix.lower(), safe="._-") + "."
    if base.is_dir():
        for folder in base.iterdir():
            if folder.name.startswith(prefix):
                shutil.rmtree(folder, ignore_errors=True)


def parse_timestamp(text: str) -> float:
    """An entry's ISO timestamp as epoch seconds."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def wait_for_new_millisecond(entry: dict[str, Any] | None) -> None:
    """Two commits never share a timestamp (``TIMESTAMP AS OF`` must be able to tell them apart)."""
    if entry is not None and entry.get("timestamp") == now_iso():
        time.sleep(0.002)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict | tuple):
        return json.dumps(list(value) if isinstance(value, tuple) else value)
    return str(value)
