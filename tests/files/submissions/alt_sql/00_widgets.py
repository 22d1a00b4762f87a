# Databricks notebook source
# MAGIC %md
# MAGIC # 00 Widgets (written differently: widgets declared in one cell, values read with getArgument-free gets)

# COMMAND ----------

import json

dbutils.widgets.dropdown("layer", "bronze", ["gold", "silver", "bronze"], "Layer")
dbutils.widgets.text("source_path", "/Volumes/workspace/day07/raw/events.csv", "Source file")

# COMMAND ----------

params = {name: dbutils.widgets.get(name) for name in ("layer", "source_path")}


def run_layer(layer, source_path):
    notebooks = {"bronze": "./01_bronze", "silver": "./02_silver", "gold": "./03_gold"}
    if layer not in notebooks:
        raise ValueError(f"unknown layer {layer}")
    return notebooks[layer]


run_layer(params["layer"], params["source_path"])

# COMMAND ----------

dbutils.notebook.exit(json.dumps(params))
