# Databricks notebook source
# MAGIC %md
# MAGIC # Day 7 - Incremental Silver layer with MERGE
# MAGIC Loads the first day, then upserts everything with `DeltaTable.merge`, looks at the history and goes back in time.

# COMMAND ----------

# DBTITLE 1,Imports
from delta.tables import *
from pyspark.sql.functions import *

# COMMAND ----------

# DBTITLE 1,Parameters
dbutils.widgets.text("source_path", "/Volumes/workspace/ecommerce/ecommerce_data/2019-Oct.csv", "Source file")
dbutils.widgets.dropdown("load_mode", "incremental", ["full", "incremental"], "Load mode")
source_path = dbutils.widgets.get("source_path")
load_mode = dbutils.widgets.get("load_mode")
silver_table = "workspace.day7_bob.silver_events"
print(f"Reading {source_path} in {load_mode} mode")

# COMMAND ----------

# MAGIC %sql
# MAGIC CREATE SCHEMA IF NOT EXISTS workspace.day7_bob

# COMMAND ----------

# DBTITLE 1,Read and clean
raw = spark.read.option("header", "true").csv(source_path)
events = (
    raw.withColumn("event_ts", to_timestamp(regexp_replace(col("event_time"), " UTC", ""), "yyyy-MM-dd HH:mm:ss"))
    .withColumn("price", col("price").cast("double"))
    .filter(col("event_ts").isNotNull())
    .withColumn("event_date", to_date("event_ts"))
    .dropDuplicates(["user_session", "event_ts", "product_id", "event_type"])
    .drop("event_time")
)
first_day = events.filter(col("event_date") == lit("2019-10-01"))

# COMMAND ----------

# DBTITLE 1,Initial load (first day only)
if not spark.catalog.tableExists(silver_table):
    first_day.write.format("delta").partitionBy("event_date").saveAsTable(silver_table)
print(spark.table(silver_table).count(), "rows after the initial load")

# COMMAND ----------

# DBTITLE 1,Upsert all days
silver = DeltaTable.forName(spark, silver_table)
key = ("t.user_session = s.user_session AND t.event_ts = s.event_ts AND t.product_id = s.product_id "
       "AND t.event_type = s.event_type")
result = (silver.alias("t")
          .merge(events.alias("s"), key)
          .whenMatchedUpdateAll()
          .whenNotMatchedInsertAll()
          .execute())
display(result)

# COMMAND ----------

display(silver.history().select("version", "timestamp", "operation", "operationMetrics"))

# COMMAND ----------

# MAGIC %sql
# MAGIC DESCRIBE HISTORY workspace.day7_bob.silver_events

# COMMAND ----------

# DBTITLE 1,Time travel
v0 = spark.read.option("versionAsOf", 0).table(silver_table).count()
now = spark.table(silver_table).count()
print(f"version 0: {v0} rows, now: {now} rows")
dbutils.jobs.taskValues.set("silver_rows", now)

# COMMAND ----------

# MAGIC %sql
# MAGIC OPTIMIZE workspace.day7_bob.silver_events ZORDER BY (user_id);
# MAGIC VACUUM workspace.day7_bob.silver_events

# COMMAND ----------

# DBTITLE 1,Only purchases and carts stay in silver (reads and overwrites the same table)
(spark.table(silver_table)
 .filter(col("event_type").isin("purchase", "cart"))
 .write.mode("overwrite").option("overwriteSchema", "true")
 .saveAsTable(silver_table))
