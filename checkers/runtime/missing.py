"""A clear message for the parts of Databricks' utilities the local runtime does not provide.

A notebook written on Databricks may call ``dbutils.fs.mount`` or ``getContext().sparkVersion()``. Python's own
``'LocalFS' object has no attribute 'mount'`` names a class the learner never wrote; this names the call, what the
local runtime has instead, and where the docs say more. It stays an ``AttributeError``, so ``hasattr`` still works.
"""

from __future__ import annotations

DOCS_HINT = "The docs page 'What is emulated' (emulation.md) lists what runs locally and how it differs."


class ReportsMissing:
    """Mixin: an unknown public attribute raises an ``AttributeError`` that names the Databricks call."""

    _OWNER = "dbutils"
    _PROVIDES = ""

    def __getattr__(self, name: str) -> object:
        if name.startswith("_"):
            raise AttributeError(name)
        raise AttributeError(f"{self._OWNER}.{name} is not part of the kit's local Databricks runtime "
                             f"(it provides {self._PROVIDES}). {DOCS_HINT}", name=name, obj=self)


class NoSparkContext:
    """``sc`` in a notebook: Spark Connect (serverless, Free Edition, this kit) has no SparkContext. Any use raises
    the error ``spark.sparkContext`` raises there, instead of a bare ``NameError``."""

    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        from pyspark.errors import PySparkAttributeError

        raise PySparkAttributeError(errorClass="JVM_ATTRIBUTE_NOT_SUPPORTED",
                                    messageParameters={"attr_name": f"sparkContext (sc.{name})"})

    def __repr__(self) -> str:
        return ("<sc: no SparkContext with Spark Connect, as on serverless; use spark (for example "
                "spark.createDataFrame instead of sc.parallelize)>")
