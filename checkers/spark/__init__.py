"""The host side of Spark: finding Java, starting and stopping the Spark Connect servers, sizing them, clusters.

Nothing here runs inside a notebook kernel's user code. May import: ``checkers.errors``, ``checkers.config``,
``checkers.signals``, ``checkers.files``.
"""
