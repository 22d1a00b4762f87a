# Databricks notebook source
# Hangs on its first attempt (so the task's timeout stops it) and succeeds on the next. The attempt number
# comes from {{task.execution_count}}, so this holds even when the first attempt times out before any cell.
import time

if dbutils.widgets.get("attempt") == "1":
    while True:
        time.sleep(0.2)
dbutils.notebook.exit("succeeded after a timeout")
