"""One root exception for the kit; each subclass carries what its message needs.

Every message says what failed, where (file, cell, key), and what to do next.
The CLI turns any ``CheckersError`` into that message and exit code 2, never a traceback.
"""

from __future__ import annotations

from pathlib import Path


class CheckersError(Exception):
    """Root of every error the kit raises on purpose."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  → {self.hint}"


class ConfigError(CheckersError):
    """A setting or environment variable is unusable."""


class JavaError(CheckersError):
    """Java is missing or too old for PySpark 4 (needs 17+)."""


class SparkServerError(CheckersError):
    """The local Spark Connect server could not start, or is not reachable."""


class NotebookFormatError(CheckersError):
    """A notebook file cannot be read as .ipynb or Databricks source format."""

    def __init__(self, message: str, *, path: Path | str, hint: str | None = None) -> None:
        super().__init__(f"{path}: {message}", hint=hint)
        self.path = Path(path)


class NotebookExecutionError(CheckersError):
    """A notebook could not be run at all (no kernel, bad path), as opposed to a failing cell."""


class JobDefinitionError(CheckersError):
    """A job file cannot be loaded or is invalid; ``findings`` lists every problem found."""

    def __init__(self, message: str, *, path: Path | str | None = None, findings: list | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message if path is None else f"{path}: {message}", hint=hint)
        self.path = None if path is None else Path(path)
        self.findings = list(findings or [])


class JobRunError(CheckersError):
    """The local runner could not run a job (as opposed to a task that failed)."""


class DataError(CheckersError):
    """Raw data could not be generated or read."""


class GradingError(CheckersError):
    """A submission could not be graded at all (bad folder, no Spark)."""


class DeployError(CheckersError):
    """Deploying to a Databricks workspace failed."""
