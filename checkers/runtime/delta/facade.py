"""What the emulated ``delta``, ``delta.exceptions`` and ``delta.pip_utils`` modules hold."""

from __future__ import annotations

from typing import Any

from checkers.runtime.delta.errors import DeltaAnalysisException, DeltaUnsupportedOperationException
from checkers.runtime.delta.tables import DeltaTable


class DeltaConcurrentModificationException(Exception):  # noqa: N818 - delta's name
    """Never raised locally: one kernel writes at a time."""


ConcurrentWriteException = ConcurrentAppendException = ConcurrentDeleteReadException = \
    ConcurrentDeleteDeleteException = ConcurrentTransactionException = MetadataChangedException = \
    ProtocolChangedException = DeltaConcurrentModificationException


def configure_spark_with_delta_pip(spark_session_builder: Any, extra_packages: list[str] | None = None) -> Any:
    """Locally Delta needs no package: the builder is returned as is."""
    return spark_session_builder


__all__ = ["ConcurrentAppendException", "ConcurrentDeleteDeleteException", "ConcurrentDeleteReadException",
           "ConcurrentTransactionException", "ConcurrentWriteException", "DeltaAnalysisException",
           "DeltaConcurrentModificationException", "DeltaTable", "DeltaUnsupportedOperationException",
           "MetadataChangedException", "ProtocolChangedException", "configure_spark_with_delta_pip"]

EXPORTS = {
    "delta": ["DeltaTable", "configure_spark_with_delta_pip"],
    "delta.pip_utils": ["configure_spark_with_delta_pip"],
    "delta.exceptions": ["DeltaConcurrentModificationException", "ConcurrentWriteException",
                         "ConcurrentAppendException", "ConcurrentDeleteReadException",
                         "ConcurrentDeleteDeleteException", "ConcurrentTransactionException",
                         "MetadataChangedException", "ProtocolChangedException", "DeltaAnalysisException",
                         "DeltaUnsupportedOperationException"],
}
