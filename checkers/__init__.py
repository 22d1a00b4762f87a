"""Day 07 kit: a local Databricks notebook runtime, a local job runner and an autograder.

Importing this package is cheap: nothing here starts Spark or a kernel.

The packages stand on each other in layers, lowest first: ``errors``; ``config``, ``signals``, ``files``;
``sandbox``; ``data``; ``spark``; ``runtime``; ``kernelspec``; ``notebooks``; ``jobs``; ``grading`` and ``deploy``;
``feedback``; ``authoring`` and ``workspace``; ``cli``. A module imports only from lower layers or its own package
(``tests/test_structure.py`` checks it; ``docs/architecture.md`` explains it).
"""

__version__ = "0.1.0"
