# Databricks notebook source
# Waits until `peers` notebooks (itself included) have checked in: it only finishes when its peers run at
# the same time, so a runner that ran them one after the other would time out here.
import pathlib
import time

folder = pathlib.Path(dbutils.widgets.get("barrier"))
me = dbutils.widgets.get("name")
peers = int(dbutils.widgets.get("peers"))

# COMMAND ----------

folder.mkdir(parents=True, exist_ok=True)
(folder / me).write_text("here")
deadline = time.monotonic() + 90
while len(list(folder.iterdir())) < peers:
    if time.monotonic() > deadline:
        raise TimeoutError(f"{me}: the other notebooks never arrived, so they did not run in parallel")
    time.sleep(0.1)
dbutils.jobs.taskValues.set("side", me)
dbutils.notebook.exit(me)
