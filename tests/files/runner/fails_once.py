# Databricks notebook source
# Fails on its first attempt and succeeds on the next: the marker file remembers the first attempt.
import pathlib

marker = pathlib.Path(dbutils.widgets.get("marker"))
attempt = dbutils.widgets.get("attempt")

# COMMAND ----------

if not marker.exists():
    marker.write_text(attempt)
    raise RuntimeError(f"first attempt ({attempt}) fails on purpose")
dbutils.notebook.exit(f"succeeded on attempt {attempt}")
