# Databricks notebook source
# MAGIC %md
# MAGIC Says which process ran it, where, and whether an earlier notebook left a name behind.

# COMMAND ----------

import json
import os
import sys
from pathlib import Path

dbutils.widgets.text("write_to", "", "Try writing here")
dbutils.widgets.text("also_to", "", "And here")
wrote = {}
for name in ("write_to", "also_to"):
    folder = dbutils.widgets.get(name)
    if folder:
        try:
            (Path(folder) / "written.txt").write_text("hello")
            wrote[name] = "ok"
        except OSError as exc:
            wrote[name] = f"refused ({type(exc).__name__})"

leak = globals().get("LEFT_BEHIND", "nothing")
LEFT_BEHIND = "a name from an earlier notebook"
dbutils.notebook.exit(json.dumps({"pid": os.getpid(), "cwd": os.getcwd(), "leak": leak, "wrote": wrote,
                                 "nice": os.getpriority(os.PRIO_PROCESS, 0), "pyspark": "pyspark" in sys.modules,
                                 "prewarmed": getattr(globals().get("spark"), "_future", None) is not None}))
