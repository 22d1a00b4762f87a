"""What runs inside a notebook kernel: what Databricks injects into a notebook (``spark``, ``dbutils``, ``display``,
the magics), reproduced locally, and the emulation that lets Databricks code run on local Spark (Unity Catalog
names, volumes, Delta).

Nothing here starts Spark on import; :mod:`checkers.runtime.kernel` wires it up as the kernel starts.

May import: the foundation modules (``checkers.errors``, ``checkers.config``, ``checkers.signals``,
``checkers.files``), ``checkers.data`` and ``checkers.spark`` (to connect; a kernel started without an endpoint
starts the shared server). Never ``checkers.notebooks`` or anything above it: the executor starts the kernels this
package runs in, and hands it what it needs from above (running other notebooks) as a
:class:`checkers.runtime.notebook_host.NotebookHost`.
"""
