"""The host side of Spark: finding Java, starting and stopping the Spark Connect servers, sizing them, clusters; and
the client helpers (:mod:`checkers.spark.client`) that connect to them with bounded retries.

Nothing here runs inside a notebook kernel's user code; a kernel may use the client helpers. Lowest first:
``memory``, ``java``, ``ports``, ``client``, ``spec``, ``cluster``, ``launch``, ``state``, ``server`` (the
lifecycle). May import: ``checkers.errors``, ``checkers.config``, ``checkers.files``, ``checkers.sandbox``,
``checkers.signals``.
"""
