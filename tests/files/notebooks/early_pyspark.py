# Databricks notebook source
# On Databricks the session exists before the first cell: PySpark used before `spark` works.
import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.functions import pandas_udf, udf

not_null = F.col("id").isNotNull()


@udf("long")
def plus_one(x):
    return x + 1


@pandas_udf("long")
def plus_two(s: pd.Series) -> pd.Series:
    return s + 2

# COMMAND ----------

same = SparkSession.builder.appName("mine").getOrCreate()
assert same is spark and SparkSession.getActiveSession() is spark
rows = spark.range(2).where(not_null).select(plus_one("id").alias("a"), plus_two("id").alias("b")).collect()
assert [(r.a, r.b) for r in rows] == [(1, 2), (2, 3)], rows
