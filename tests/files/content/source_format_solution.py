# Databricks notebook source
# MAGIC %md
# MAGIC # A source-format solution
# MAGIC Databricks Git folders commit notebooks like this.

# COMMAND ----------

def total(values):
    # BEGIN SOLUTION demo.total: Return the sum of values.
    return sum(values)
    # END SOLUTION

# COMMAND ----------

print(total([1, 2, 3]))
