# Databricks notebook source
# One iteration of a for_each_task: echoes the values it received and fails for the item "bad".
import json

dbutils.widgets.text("item", "")
dbutils.widgets.text("day", "")
item = dbutils.widgets.get("item")

# COMMAND ----------

if item == "bad":
    raise ValueError(f"item {item!r} fails on purpose")
dbutils.jobs.taskValues.set("last_item", item)
dbutils.notebook.exit(json.dumps(dbutils.widgets.getAll(), sort_keys=True))
