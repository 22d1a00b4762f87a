"""What a ``day07`` process imports before it does any work: `day07 --help` answers at once, and a grading starts its
kernels before it imports the checks."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("databricks.sdk", "nbformat", "pandas", "pyspark")


def _imported_after(code: str) -> dict[str, bool]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_building_the_command_line_imports_none_of_the_heavy_packages() -> None:
    assert _imported_after("from checkers.cli import build_parser; build_parser()") == dict.fromkeys(HEAVY, False)


def test_the_grading_module_leaves_the_heavy_imports_until_its_kernels_are_starting() -> None:
    # grade_submission imports the checks (pandas, the SDK) after it has asked for its kernels: the fork server
    # imports its own modules on the other core meanwhile.
    imported = _imported_after("import checkers.grading.grade")
    assert not any(imported[m] for m in ("databricks.sdk", "pandas", "pyspark")), imported
