# Databricks notebook source
# MAGIC %md
# MAGIC Reads a table from the `samples` catalog, which only Databricks has.

# COMMAND ----------

# MAGIC %sql
# MAGIC SELECT * FROM samples.nyctaxi.trips LIMIT 10
