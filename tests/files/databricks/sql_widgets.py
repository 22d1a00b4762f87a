# Databricks notebook source
# MAGIC %md
# MAGIC Widgets declared the SQL way, as a SQL-only notebook on Databricks declares them.

# COMMAND ----------

# MAGIC %sql
# MAGIC -- the job passes schema; layer keeps its default
# MAGIC CREATE WIDGET TEXT schema DEFAULT "day07";
# MAGIC CREATE WIDGET DROPDOWN layer DEFAULT 'bronze' CHOICES SELECT * FROM (VALUES ('bronze'), ('silver'), ('gold'))

# COMMAND ----------

assert dbutils.widgets.get("schema") == "from_the_job", dbutils.widgets.get("schema")
assert dbutils.widgets.get("layer") == "bronze"

# COMMAND ----------

# MAGIC %sql
# MAGIC SELECT '${schema}' AS legacy, :layer AS marker

# COMMAND ----------

row = _sqldf.first()
assert (row.legacy, row.marker) == ("from_the_job", "bronze"), row

# COMMAND ----------

# MAGIC %sql
# MAGIC REMOVE WIDGET layer

# COMMAND ----------

assert "layer" not in dbutils.widgets.getAll()
