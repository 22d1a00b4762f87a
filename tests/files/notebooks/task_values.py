# Databricks notebook source
import json

upstream = dbutils.jobs.taskValues.get("bronze", "bronze_rows", default=-1, debugValue=42)
dbutils.jobs.taskValues.set("silver_rows", upstream + 1)
dbutils.jobs.taskValues.set("info", {"ok": True, "items": [1, 2]})

# COMMAND ----------

dbutils.notebook.exit(json.dumps({"upstream": upstream}))
