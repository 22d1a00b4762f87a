"""What the kit's own processes tell each other through the environment: not settings, never set by hand.

A grader, a runner or a kernel pool starts a kernel, a fork server or a Spark server and passes it a few facts in
environment variables. Those names start with ``_DAY07_`` so that none can be mistaken for a knob: every knob a
user sets is a ``DAY07_*`` variable declared in :class:`checkers.config.Settings`.
"""

from __future__ import annotations

RUN_CONTEXT = "_DAY07_RUN_CONTEXT"
"""Path of the JSON run context a kernel reads at start: its job, task, parameters and run ids."""
KERNEL_NICE = "_DAY07_KERNEL_NICE"
"""A niceness the kernel takes as it starts (e.g. ``10``): work off the critical path yields the CPU to the rest."""
POOLED_KERNEL = "_DAY07_POOLED_KERNEL"
"""``1`` in a kernel started ahead of need by a pool: it gets its run context later, from ``bind``. A kernel does
not pass it on to the kernels it starts."""
SPARK_PREWARM = "_DAY07_SPARK_PREWARM"
"""``0``: a pooled kernel does not connect to Spark while it waits (its notebook is not expected to use it)."""
SPARK_SESSION_CONF = "_DAY07_SPARK_SESSION_CONF"
"""JSON object of Spark SQL confs the kernel sets on its session (the grader's small-data confs)."""
IN_SANDBOX = "_DAY07_IN_SANDBOX"
"""``1`` inside the bubblewrap sandbox, so code there knows it already runs confined (nested kernels inherit it)."""
SANDBOX_ROOT = "_DAY07_SANDBOX_ROOT"
"""The one folder a sandboxed kernel may write (its grading folder)."""
SANDBOX_READONLY = "_DAY07_SANDBOX_READONLY"
"""Folders shown read-only inside the sandbox even when under its writable root (``os.pathsep``-separated)."""
SANDBOX_HIDDEN = "_DAY07_SANDBOX_HIDDEN"
"""Folders the sandboxed kernel must not see at all (``os.pathsep``-separated)."""
KIT_SERVER = "_DAY07_KIT_SERVER"
"""``1`` in a kernel whose ``SPARK_REMOTE`` is one of the kit's own servers: they share this machine's disk, so
``/Volumes`` paths may become local paths there."""

SCHEMA_ALIASES = "_DAY07_SCHEMA_ALIASES"
"""JSON object of schema names that stand for other schemas in this kernel's SQL and table names (a grading's
``00_widgets`` runs: the contract's default schema names the grading's own widget schema)."""

VOLUMES_ROOT = "_DAY07_VOLUMES_ROOT"
"""The folder ``/Volumes`` stands for in this kernel instead of the kit's volumes folder: a grading's private mirror
of it, where the submission may write as it would in its own volumes on Databricks."""
SANDBOX_WRITABLE = "_DAY07_SANDBOX_WRITABLE"
"""More folders a sandboxed kernel may write besides its root (``os.pathsep``-separated): a grading worker's volumes
mirror, which its Spark server writes too."""

ALL = (RUN_CONTEXT, KERNEL_NICE, POOLED_KERNEL, SPARK_PREWARM, SPARK_SESSION_CONF, IN_SANDBOX, SANDBOX_ROOT,
       SANDBOX_READONLY, SANDBOX_HIDDEN, KIT_SERVER, SCHEMA_ALIASES, VOLUMES_ROOT, SANDBOX_WRITABLE)
"""Every signal, so a process that starts another can clear the ones it does not mean to pass on."""
