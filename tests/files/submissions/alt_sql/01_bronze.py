# Databricks notebook source
# MAGIC %md
# MAGIC # 01 Bronze, in Spark SQL: read_files lands the file (inferred column types and its _rescued_data are fine in bronze)

# COMMAND ----------

dbutils.widgets.text("schema", "day07")
dbutils.widgets.text("source_path", "/Volumes/workspace/day07/raw/events.csv")
schema = dbutils.widgets.get("schema")

# COMMAND ----------

# MAGIC %sql
# MAGIC CREATE SCHEMA IF NOT EXISTS IDENTIFIER(:schema);
# MAGIC CREATE OR REPLACE TABLE IDENTIFIER(:schema || '.bronze_events') AS
# MAGIC SELECT *, current_timestamp() AS ingestion_ts, _metadata.file_path AS source_file
# MAGIC FROM read_files(:source_path, format => 'csv', header => true)

# COMMAND ----------

rows = spark.sql(f"SELECT count(*) AS n FROM {schema}.bronze_events").first()["n"]
dbutils.jobs.taskValues.set("bronze_rows", rows)
