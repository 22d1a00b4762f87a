"""Spark 3 notebooks' names in a Spark 4 kernel: ``countDistinct`` from the star-import, the ``getArgument`` global
(that one is checked where widgets are, in tests/notebooks/test_execute.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from checkers.runtime.legacy_names import STAR_ALIASES

STAR = "ns = {}; exec('from pyspark.sql.functions import *', ns); print(sorted(n for n in ns if n in ALIASES))"


@pytest.mark.parametrize("order", ["install_then_import", "import_then_install"])
def test_the_star_import_gives_spark_3s_camel_case_aliases(order: str) -> None:
    steps = ["from checkers.runtime import legacy_names", "import pyspark.sql.functions"]
    if order == "install_then_import":
        steps.insert(1, "legacy_names.install()")
    else:
        steps.append("legacy_names.install()")
    code = "\n".join([*steps, f"ALIASES = {STAR_ALIASES!r}", STAR,
                      "import pyspark.sql.functions as F",
                      "print('chr' in F.__all__, ns['countDistinct'] is F.countDistinct)"])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] == str(sorted(STAR_ALIASES))
    assert out[1] == "False True"  # chr stays out (it would hide Python's own); the alias is PySpark's function


def test_without_the_kernel_the_star_import_is_spark_4s() -> None:
    code = "\n".join([f"ALIASES = {STAR_ALIASES!r}", STAR])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"  # what the kernel adds is really missing from PySpark as installed
