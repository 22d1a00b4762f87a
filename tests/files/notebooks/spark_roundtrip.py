# Databricks notebook source
dbutils.widgets.text("schema", "demo")
schema = dbutils.widgets.get("schema")
spark.sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")

# COMMAND ----------

df = spark.createDataFrame([(1, "a"), (2, "b"), (3, "c")], "id INT, letter STRING")
df.write.mode("overwrite").saveAsTable(f"{schema}.letters")
display(spark.table(f"{schema}.letters").orderBy("id"))

# COMMAND ----------

dbutils.jobs.taskValues.set("rows", spark.table(f"{schema}.letters").count())
dbutils.notebook.exit(spark.conf.get("spark.sql.session.timeZone"))
