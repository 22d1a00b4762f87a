# Databricks notebook source
# MAGIC %md
# MAGIC # 01 Bronze, in Spark SQL (inferred column types are fine in bronze)

# COMMAND ----------

dbutils.widgets.text("schema", "day07")
dbutils.widgets.text("source_path", "/Volumes/workspace/day07/raw/events.csv")
schema = dbutils.widgets.get("schema")

# COMMAND ----------

(spark.read.option("header", "true").option("inferSchema", "true")
 .csv(dbutils.widgets.get("source_path"))
 .selectExpr("*", "_metadata.file_path AS source_file")
 .createOrReplaceTempView("raw_events"))

# COMMAND ----------

spark.sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
spark.sql(f"DROP TABLE IF EXISTS {schema}.bronze_events")
spark.sql(f"""
CREATE TABLE {schema}.bronze_events AS
SELECT event_time, event_type, product_id, category_id, category_code, brand, price, user_id, user_session,
       current_timestamp() AS ingestion_ts, source_file
FROM raw_events
""")

# COMMAND ----------

rows = spark.sql(f"SELECT count(*) AS n FROM {schema}.bronze_events").first()["n"]
dbutils.jobs.taskValues.set("bronze_rows", rows)
