# Databricks notebook source
x = 1

# COMMAND ----------

print("before the error")

# COMMAND ----------

raise ValueError("bad value in cell three")

# COMMAND ----------

print("never printed")
