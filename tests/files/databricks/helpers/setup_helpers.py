# Databricks notebook source
# MAGIC %md
# MAGIC Shared setup, pulled in with `%run ./helpers/setup_helpers`.

# COMMAND ----------

helper_value = 42
helper_greeting = dbutils.widgets.get("greeting")


def shout(text):
    return text.upper() + "!"

# COMMAND ----------

# MAGIC %sql
# MAGIC CREATE OR REPLACE TEMP VIEW helper_view AS SELECT id FROM range(3)

# COMMAND ----------

# MAGIC %run ./nested_helper
