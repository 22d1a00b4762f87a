# Databricks notebook source
# DBTITLE 1,Tables written before the Spark server restarts
# MAGIC %sql
# MAGIC CREATE SCHEMA IF NOT EXISTS workspace.fidelity_persist;
# MAGIC CREATE OR REPLACE TABLE workspace.fidelity_persist.from_sql USING DELTA AS SELECT id FROM range(7)

# COMMAND ----------

spark.range(11).write.format("delta").mode("overwrite").saveAsTable("workspace.fidelity_persist.from_python")
