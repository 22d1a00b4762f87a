# Databricks notebook source
 indented = "ran"

assert indented == "ran"

# COMMAND ----------

dbutils.fs.put("/tmp/day07_cell_quirks/a.txt", "x", True)

# COMMAND ----------

# MAGIC %fs
# MAGIC ls dbfs:/tmp/day07_cell_quirks

# COMMAND ----------

!pip install surely-not-installed-xyz

# COMMAND ----------

# MAGIC %restart_python

# COMMAND ----------

display(dbutils.fs.ls("dbfs:/tmp/day07_cell_quirks"))
print("still here:", indented)
