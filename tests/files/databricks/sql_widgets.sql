-- Databricks notebook source
-- MAGIC %md
-- MAGIC A SQL notebook, as a Databricks Git folder commits it: widgets declared the SQL way, one Python cell.

-- COMMAND ----------

-- the job passes schema; layer keeps its default
CREATE WIDGET TEXT schema DEFAULT "day07";
CREATE WIDGET DROPDOWN layer DEFAULT 'bronze' CHOICES SELECT * FROM (VALUES ('bronze'), ('silver'), ('gold'))

-- COMMAND ----------

-- DBTITLE 1,Both ways to read a widget in SQL
SELECT '${schema}' AS legacy, :layer AS marker

-- COMMAND ----------

-- MAGIC %python
-- MAGIC row = _sqldf.first()
-- MAGIC assert (row.legacy, row.marker) == ("from_the_job", "bronze"), row
-- MAGIC assert dbutils.widgets.get("schema") == "from_the_job"

-- COMMAND ----------

REMOVE WIDGET layer

-- COMMAND ----------

-- MAGIC %python
-- MAGIC assert "layer" not in dbutils.widgets.getAll()
