# Databricks notebook source
# Reads the upstream task value two ways: with taskValues.get, and as a parameter resolved from
# {{tasks.producer.values.rows}} before the task started.
import json

from_api = dbutils.jobs.taskValues.get("producer", "rows", default=-1)
dbutils.notebook.exit(json.dumps({"from_api": from_api, "params": dbutils.widgets.getAll()}, sort_keys=True))
