# Databricks notebook source
# MAGIC %md
# MAGIC # 00 Widgets (written differently: widgets declared in one cell, and run_layer really runs the layer's notebook)

# COMMAND ----------

import json

dbutils.widgets.dropdown("layer", "bronze", ["gold", "silver", "bronze"], "Layer")
dbutils.widgets.text("source_path", "/Volumes/workspace/day07/raw/events.csv", "Source file")

# COMMAND ----------

params = {name: dbutils.widgets.get(name) for name in ("layer", "source_path")}


def run_layer(layer, source_path):
    """Run the layer's notebook, as a person would from here on Databricks once bronze is landed: silver and gold
    read the tables that the layers before them left in the default schema."""
    notebooks = {"bronze": "./01_bronze", "silver": "./02_silver", "gold": "./03_gold"}
    if layer not in notebooks:
        raise ValueError(f"unknown layer {layer}")
    if layer == "bronze":
        return notebooks[layer]  # the job lands bronze from source_path
    return dbutils.notebook.run(notebooks[layer], 600)


run_layer(params["layer"], params["source_path"])

# COMMAND ----------

dbutils.notebook.exit(json.dumps(params))
