# Databricks notebook source
# DBTITLE 1,Read CSV
df = spark.read.option("header", "true").option("inferSchema", "true").csv("/Volumes/workspace/ecommerce/ecommerce_data/2019-Oct.csv")
# COMMAND ----------
df.write.format("delta").mode("append").saveAsTable("workspace.ecommerce.bronze_events")
# COMMAND ----------
# MAGIC %sql
# MAGIC SELECT event_type, count(*) FROM workspace.ecommerce.bronze_events GROUP BY event_type
