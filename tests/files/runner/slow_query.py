# Databricks notebook source
# One Spark query that runs for a few seconds (four partitions, each held for a second and a half), with the
# server reporting progress every 200 ms instead of every 2 s, so the test sees several updates.
import time

spark.conf.set("spark.connect.progress.reportInterval", "200ms")


def held(batches):
    for batch in batches:
        time.sleep(1.5)
        yield batch


rows = spark.range(0, 4, 1, 4).mapInPandas(held, "id long").count()
dbutils.notebook.exit(str(rows))
