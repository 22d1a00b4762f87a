# Databricks notebook source
# DBTITLE 1,Functions that run in Spark's Python workers call the notebook's own module
from pyspark.sql import functions as F
from worker_helpers import first_of_group, tier

spark.sql("CREATE SCHEMA IF NOT EXISTS workspace.fidelity_workers")
tiers = spark.range(3).select(F.udf(tier, "string")("id").alias("t")).collect()
assert [r.t for r in tiers] == ["budget", "mid", "premium"], tiers
firsts = spark.range(6).withColumn("k", F.col("id") % 2).groupBy("k").applyInPandas(first_of_group, "id long, k long")
assert sorted(r.id for r in firsts.collect()) == [0, 1]

# COMMAND ----------

# DBTITLE 1,foreachBatch writes catalog tables and runs MERGE, as the streaming upsert pattern does
spark.sql("CREATE VOLUME IF NOT EXISTS workspace.fidelity_workers.checkpoints")
dbutils.fs.rm("/Volumes/workspace/fidelity_workers/checkpoints/upsert", True)
spark.sql("DROP TABLE IF EXISTS workspace.fidelity_workers.log")
spark.sql("CREATE OR REPLACE TABLE workspace.fidelity_workers.target (id BIGINT, tier STRING)")
spark.range(5).withColumn("tier", F.lit("new")).write.mode("overwrite") \
    .saveAsTable("workspace.fidelity_workers.source")


def upsert(batch, batch_id):
    batch.createOrReplaceTempView("updates")
    batch.sparkSession.sql("""MERGE INTO workspace.fidelity_workers.target t USING updates s ON t.id = s.id
        WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *""")
    batch.withColumn("batch", F.lit(batch_id)).write.mode("append").saveAsTable("workspace.fidelity_workers.log")


(spark.readStream.table("workspace.fidelity_workers.source").writeStream.foreachBatch(upsert)
    .option("checkpointLocation", "/Volumes/workspace/fidelity_workers/checkpoints/upsert")
    .trigger(availableNow=True).start().awaitTermination())
assert spark.table("workspace.fidelity_workers.target").count() == 5
assert spark.table("workspace.fidelity_workers.log").count() == 5
