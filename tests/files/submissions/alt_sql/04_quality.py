# Databricks notebook source
# MAGIC %md
# MAGIC # 04 Quality, in Spark SQL: fail the task when too many bronze rows miss a required value

# COMMAND ----------

dbutils.widgets.text("schema", "day07")
dbutils.widgets.text("max_bad_pct", "5")
schema = dbutils.widgets.get("schema")
limit = float(dbutils.widgets.get("max_bad_pct"))

# COMMAND ----------

counts = spark.sql(f"""
SELECT count(*) AS total,
       count_if(event_time IS NULL OR event_type IS NULL OR product_id IS NULL OR user_id IS NULL
                OR user_session IS NULL) AS bad
FROM {schema}.bronze_events
""").first()
dbutils.jobs.taskValues.set("bad_rows", counts["bad"])

# COMMAND ----------

if counts["total"] == 0 or 100.0 * counts["bad"] / counts["total"] > limit:
    raise RuntimeError(f"{counts['bad']} of {counts['total']} bronze rows miss a required value (limit {limit} %)")
