# Databricks notebook source
# MAGIC %md
# MAGIC Declares widgets and echoes what it received, like the contract's `00_widgets`.

# COMMAND ----------

import json

dbutils.widgets.text("source_path", "/Volumes/workspace/ecommerce/ecommerce_data/2019-Oct.csv", "Source path")
dbutils.widgets.dropdown("layer", "bronze", ["bronze", "silver", "gold"])

# COMMAND ----------

# DBTITLE 1,Read the widgets
layer = dbutils.widgets.get("layer")
source_path = getArgument("source_path")  # the legacy notebook global, still in older notebooks
extra = dbutils.widgets.getAll()

# COMMAND ----------

dbutils.notebook.exit(json.dumps({"layer": layer, "source_path": source_path, "all": extra}))

# COMMAND ----------

raise AssertionError("cells after dbutils.notebook.exit must not run")
