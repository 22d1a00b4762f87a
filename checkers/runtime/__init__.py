"""What Databricks injects into a notebook (``spark``, ``dbutils``, ``display``), reproduced locally.

Nothing here starts Spark on import; the kernel extension (:mod:`checkers.runtime.kernel`) wires it up.
"""
