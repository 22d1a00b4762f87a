"""Notebooks on the host side: reading both formats, and running them in real Jupyter kernels.

:mod:`.execute` runs one notebook and returns a structured result; :mod:`.kernels` starts, pools and stops the
kernels it runs in (:mod:`.forkserver` forks them from a process that has already imported everything;
:mod:`.confine` and :mod:`.sandbox_folders` sandbox a grading's; :mod:`.limits` caps their memory and output).
:mod:`.extension` is the IPython extension every kit kernel loads: the in-kernel runtime, given this package's
executor for ``%run`` and ``dbutils.notebook.run``.

May import: the foundation modules, ``checkers.sandbox``, ``checkers.data``, ``checkers.spark``,
``checkers.runtime`` and ``checkers.kernelspec``.
"""
