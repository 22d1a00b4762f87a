# Databricks notebook source
# MAGIC %md
# MAGIC # Tiny source lesson
# MAGIC See [Silver](../docs/silver.md).

# COMMAND ----------

df = spark.range(3)
display(df)
