"""Delta Lake on the kit's Delta stand-in (the local parquet format), as Spark operations.

No Delta jars exist here (Maven is unreachable, the ``delta-spark`` wheel only points Spark at Maven), so the
kernel emulates what Databricks notebooks use of Delta on top of plain Spark Connect:

* :mod:`.importer` makes ``from delta.tables import DeltaTable`` work in a kit kernel (only when no real
  ``delta-spark`` is installed);
* :mod:`.tables` and :mod:`.merge` are the Python API (``forName``, ``history``, ``merge``, ...);
* :mod:`.sql` runs the matching SQL (``MERGE INTO``, ``DESCRIBE HISTORY``, ``VERSION AS OF``, ...);
* :mod:`.hooks` patches the Spark Connect client's writers so each write is recorded in :mod:`.log`, and a query
  may overwrite the table it reads (:mod:`.storage` materializes first, then swaps);
* :mod:`.log` keeps each table's history and, for time travel, hard links to each version's files.

Nothing here imports PySpark or starts Spark at import time. docs/emulation.md lists what differs.
"""
