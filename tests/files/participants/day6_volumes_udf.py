# Databricks notebook source
# MAGIC %md
# MAGIC ## Day 6: Day 0's parquet, a lookup file in a volume, UDFs

# COMMAND ----------

import json
import os

import pandas as pd
from pyspark.sql import functions as F
from pyspark.sql.functions import pandas_udf, udf
from pyspark.sql.types import StringType, StructField, StructType
from delta.tables import DeltaTable

volume = "/Volumes/workspace/day6_dave/files"
lookup_path = f"{volume}/brand_segments.json"

# COMMAND ----------

# DBTITLE 1,Files in the volume (Python and dbutils)
print([f.name for f in dbutils.fs.ls(volume)])
with open(lookup_path) as fh:
    segments = json.load(fh)
print(len(segments), "brands in the lookup;", os.path.getsize(lookup_path), "bytes")

# COMMAND ----------

# DBTITLE 1,Day 0's parquet folder
events = spark.read.parquet(f"{volume}/day0_events")
events = events.withColumn("event_ts", F.to_timestamp(F.regexp_replace("event_time", " UTC", ""), "yyyy-MM-dd HH:mm:ss"))
print(events.count(), "events from day 0")

# COMMAND ----------

# DBTITLE 1,A Python UDF that opens the lookup file
@udf("string")
def segment_of(brand):
    with open(lookup_path) as fh:
        return json.load(fh).get(brand or "", "other")

# COMMAND ----------

# DBTITLE 1,A pandas UDF and mapInPandas that open it too
@pandas_udf("string")
def segment_pandas(brands: pd.Series) -> pd.Series:
    with open(lookup_path) as fh:
        table = json.load(fh)
    return brands.fillna("").map(lambda b: table.get(b, "other"))


def add_segment(batches):
    with open(lookup_path) as fh:
        table = json.load(fh)
    for batch in batches:
        batch["segment_map"] = batch["brand"].fillna("").map(lambda b: table.get(b, "other"))
        yield batch


segmented = (events.withColumn("segment_udf", segment_of("brand"))
             .withColumn("segment_pandas", segment_pandas("brand")))
out_schema = StructType(segmented.schema.fields + [StructField("segment_map", StringType())])
segmented = segmented.mapInPandas(add_segment, schema=out_schema)

# COMMAND ----------

# DBTITLE 1,Delta files in the volume
out = f"{volume}/delta/segmented_events"
segmented.write.format("delta").mode("overwrite").save(out)
print(DeltaTable.forPath(spark, out).toDF().count(), "rows written as Delta")
display(spark.read.format("delta").load(out).groupBy("segment_udf").count())

# COMMAND ----------

# DBTITLE 1,pandas reads the raw CSV from the volume too
raw = pd.read_csv(f"{volume}/2019-Oct.csv")
print(raw.shape)
