# Databricks notebook source
# Declares three widgets and echoes every value it received: shows which of run parameter, job parameter,
# base_parameters and widget default won. Sets two task values for downstream tasks.
import json

dbutils.widgets.text("from_job", "widget-default")
dbutils.widgets.text("from_base", "widget-default")
dbutils.widgets.text("only_widget", "widget-default")

# COMMAND ----------

dbutils.jobs.taskValues.set("rows", 42)
dbutils.jobs.taskValues.set("ready", True)
dbutils.notebook.exit(json.dumps(dbutils.widgets.getAll(), sort_keys=True))
