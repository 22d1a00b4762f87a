# Databricks notebook source
print("about to die")

# COMMAND ----------

import os

os._exit(1)
