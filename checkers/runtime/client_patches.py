"""What the kernel's patches on the Spark Connect client share: how they were installed (a notice, whether paths
are translated), the originals they replaced, and the helpers every patch uses. Below both the name and path
patches (:mod:`.readers_writers`, :mod:`.streaming`) and the Delta emulation (:mod:`.delta`), which sits on them."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from checkers.runtime.catalog_names import DELTA_NOTICE, storage_path
from checkers.runtime.sql_inline import inline_sql
from checkers.runtime.volumes import SampleDatasetsError, is_sample_datasets

_PATH_OPTIONS = ("path", "checkpointLocation")


@dataclass
class _State:
    notice: Callable[[str], None] | None = None
    translate_paths: bool = False
    originals: dict[tuple[Any, str], Any] = field(default_factory=dict)


STATE = _State()


def delta_notice() -> None:
    """Show the one-time notice that Delta is emulated (when the kernel gave a way to show it)."""
    if STATE.notice is not None:
        STATE.notice(DELTA_NOTICE)


def is_delta(fmt: Any) -> bool:
    return isinstance(fmt, str) and fmt.strip().lower() == "delta"


def translated_path(value: Any) -> Any:
    """A ``/Volumes`` or ``dbfs:/`` location as the kit's local folder (only when paths are translated);
    ``/databricks-datasets`` is a clear error either way."""
    if isinstance(value, str) and is_sample_datasets(value):
        raise SampleDatasetsError(value)
    if STATE.translate_paths and isinstance(value, str):
        local = storage_path(value)
        if local is not None:
            return local
    return value


def fix_path_options(options: dict[str, Any]) -> None:
    """Translate the location options (``path``, ``checkpointLocation``) of a reader or writer, in place."""
    for key in list(options):
        if key in _PATH_OPTIONS or key.lower() in ("path", "checkpointlocation"):
            options[key] = translated_path(options[key])


def patch(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
    """Replace ``owner.name`` by ``make(original)``, once."""
    key = (owner, name)
    if key in STATE.originals:
        return
    original = owner.__dict__[name]
    STATE.originals[key] = original
    setattr(owner, name, make(original))


def installed() -> bool:
    """True once the client was patched."""
    return bool(STATE.originals)


def original_sql(session: Any) -> Callable[..., Any]:
    """``session.sql`` without the patches (for the emulation's own statements)."""
    from pyspark.sql.connect.session import SparkSession

    original = STATE.originals.get((SparkSession, "sql"), SparkSession.sql)
    return functools.partial(original, session)


def inlined(session: Any, sql: Any, args: Any) -> Any:
    """``sql`` with ``IDENTIFIER(...)`` and ``read_files(...)`` written out (:mod:`.sql_inline`), before anything
    else reads the statement."""
    return inline_sql(sql, args, translate=translated_path,
                      columns_of=lambda query: original_sql(session)(query).columns)
