"""What the kit's own processes tell each other through the environment: not settings, never set by hand.

A grader, a runner or a kernel pool starts a kernel, a fork server or a Spark server and passes it a few facts in
environment variables. Those names start with ``_DAY07_`` so that none can be mistaken for a knob: every knob a
user sets is a ``DAY07_*`` variable declared in :class:`checkers.config.Settings`.
"""

from __future__ import annotations

RUN_CONTEXT = "_DAY07_RUN_CONTEXT"
"""Path of the JSON run context a kernel reads at start: its job, task, parameters and run ids."""
KERNEL_NICE = "_DAY07_KERNEL_NICE"
"""A niceness the kernel applies to itself at start (the grader lowers the priority of ``00_widgets``)."""
POOLED_KERNEL = "_DAY07_POOLED_KERNEL"
"""``1`` in a kernel started ahead of need by a pool: it binds to its run later, when it is handed out."""
SPARK_PREWARM = "_DAY07_SPARK_PREWARM"
"""``1``: the kernel opens its Spark session while it waits to be handed out."""
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
"""``1`` when ``SPARK_REMOTE`` names a server the kit started itself (so it speaks the kit's local dialect)."""

ALL = (RUN_CONTEXT, KERNEL_NICE, POOLED_KERNEL, SPARK_PREWARM, SPARK_SESSION_CONF, IN_SANDBOX, SANDBOX_ROOT,
       SANDBOX_READONLY, SANDBOX_HIDDEN, KIT_SERVER)
"""Every signal, so a process that starts another can clear the ones it does not mean to pass on."""
