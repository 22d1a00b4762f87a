"""Day 07 kit: a local Databricks notebook runtime, a local job runner and an autograder.

Importing this package is cheap: nothing here starts Spark or a kernel.
"""

__version__ = "0.1.0"
