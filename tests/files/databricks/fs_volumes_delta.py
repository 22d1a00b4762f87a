# Databricks notebook source
# MAGIC %md
# MAGIC # Files, volumes, Delta and Unity Catalog names
# MAGIC Everything here is plain Databricks code: it must run locally without a change.

# COMMAND ----------

# DBTITLE 1,A schema and a volume
# MAGIC %sql
# MAGIC CREATE SCHEMA IF NOT EXISTS workspace.fidelity_files;
# MAGIC CREATE VOLUME IF NOT EXISTS workspace.fidelity_files.landing

# COMMAND ----------

# DBTITLE 1,dbutils.fs on the volume
import os

vol = "/Volumes/workspace/fidelity_files/landing"
dbutils.fs.rm(vol + "/in", recurse=True)
assert dbutils.fs.mkdirs(vol + "/in")
dbutils.fs.cp("/Volumes/workspace/ecommerce/ecommerce_data/2019-Oct.csv", vol + "/in/events.csv")
dbutils.fs.put(vol + "/in/notes.txt", "first line\nsecond line", overwrite=True)
listing = dbutils.fs.ls(vol + "/in")
assert [f.name for f in listing] == ["events.csv", "notes.txt"], listing
assert listing[0].path == "dbfs:/Volumes/workspace/fidelity_files/landing/in/events.csv", listing[0]
assert listing[1].size == len("first line\nsecond line"), listing[1]
assert dbutils.fs.head(vol + "/in/notes.txt", 10) == "first line"
top = dbutils.fs.ls(vol)
assert top[0].name == "in/" and top[0].path.endswith("/landing/in/"), top

# COMMAND ----------

# DBTITLE 1,Plain Python sees volume paths
import pandas as pd

with open(vol + "/in/notes.txt") as fh:
    assert fh.read().startswith("first")
assert os.path.exists(vol + "/in/events.csv")
assert sorted(os.listdir(vol + "/in")) == ["events.csv", "notes.txt"]
raw = pd.read_csv(vol + "/in/events.csv")

# COMMAND ----------

# DBTITLE 1,Spark reads the volume and writes Delta tables with three-part names
df = spark.read.option("header", True).csv(vol + "/in/events.csv")
assert df.count() == len(raw)
df.write.format("delta").mode("overwrite").saveAsTable("workspace.fidelity_files.events")
assert spark.catalog.tableExists("workspace.fidelity_files.events")
assert spark.read.table("workspace.fidelity_files.events").count() == len(raw)
df.limit(5).write.insertInto("workspace.fidelity_files.events")
assert spark.table("workspace.fidelity_files.events").count() == len(raw) + 5
df.limit(3).writeTo("workspace.fidelity_files.small").using("delta").createOrReplace()
df.limit(4).writeTo("workspace.fidelity_files.small").using("delta").createOrReplace()
assert spark.table("workspace.fidelity_files.small").count() == 4

# COMMAND ----------

# DBTITLE 1,Delta files in the volume
out = vol + "/delta/purchases"
df.where("event_type = 'purchase'").write.format("delta").mode("overwrite").save(out)
purchases = spark.read.format("delta").load(out).count()
assert purchases == int((raw.event_type == "purchase").sum()) > 0
assert spark.sql(f"SELECT count(*) AS n FROM delta.`{out}`").first().n == purchases
assert os.path.isdir(out)

# COMMAND ----------

# DBTITLE 1,Auto Loader lands the volume's CSV files in a table, once
dbutils.fs.rm(vol + "/_checkpoints", recurse=True)
spark.sql("DROP TABLE IF EXISTS workspace.fidelity_files.streamed")
query = (spark.readStream.format("cloudFiles")
         .option("cloudFiles.format", "csv")
         .option("cloudFiles.schemaLocation", vol + "/_schemas/events")
         .option("pathGlobFilter", "*.csv")
         .option("header", "true")
         .load(vol + "/in")
         .writeStream.format("delta")
         .option("checkpointLocation", vol + "/_checkpoints/events")
         .trigger(availableNow=True)
         .toTable("workspace.fidelity_files.streamed", outputMode="append", queryName="landing"))
query.awaitTermination()
assert query.name == "landing", query.name
streamed = spark.table("workspace.fidelity_files.streamed")
assert streamed.count() == len(raw)
assert dict(streamed.dtypes)["price"] == "string"  # Auto Loader's default for CSV: every column a string
assert streamed.columns[-1] == "_rescued_data" and streamed.where("_rescued_data IS NULL").count() == len(raw)
ops = [r.operation for r in spark.sql("DESCRIBE HISTORY workspace.fidelity_files.streamed").collect()]
assert "STREAMING UPDATE" in ops, ops  # the stream's batches are in the table's history, as Delta logs them

typed = (spark.readStream.format("cloudFiles")
         .options(**{"cloudFiles.format": "csv", "cloudFiles.inferColumnTypes": "true", "header": "true",
                     "pathGlobFilter": "*.csv"})
         .load(vol + "/in"))
assert dict(typed.dtypes)["price"] == "double", typed.dtypes
hinted = (spark.readStream.format("cloudFiles")
          .options(**{"cloudFiles.format": "csv", "cloudFiles.schemaHints": "price DECIMAL(10,2), note STRING",
                      "header": "true", "pathGlobFilter": "*.csv"})
          .load(vol + "/in"))
assert dict(hinted.dtypes)["price"] == "decimal(10,2)" and dict(hinted.dtypes)["event_type"] == "string", hinted.dtypes
assert "note" in hinted.columns  # a hinted column the files lack is added
given = (spark.readStream.format("cloudFiles").option("cloudFiles.format", "csv").option("header", "true")
         .schema("event_type STRING, price DOUBLE").load(vol + "/in"))
assert given.columns == ["event_type", "price"]  # a given schema and no rescuedDataColumn option: no rescue column
try:
    spark.readStream.format("cloudFiles").option("header", "true").load(vol + "/in")
except Exception as exc:
    assert "cloudFiles.format" in str(exc), exc
else:
    raise AssertionError("Auto Loader without cloudFiles.format must say what is missing")

# COMMAND ----------

# MAGIC %sql
# MAGIC DESCRIBE TABLE workspace.fidelity_files.events

# COMMAND ----------

# DBTITLE 1,The SDK's runtime module gives a helper module this notebook's own spark and dbutils
from databricks.sdk.runtime import dbutils as runtime_dbutils
from databricks.sdk.runtime import getArgument as runtime_get_argument
from databricks.sdk.runtime import spark as runtime_spark

assert runtime_dbutils is dbutils
assert runtime_get_argument("no_such_widget", "fallback") == "fallback"  # the legacy global, as on Databricks
assert runtime_spark.range(3).count() == 3

# COMMAND ----------

# DBTITLE 1,pyspark.dbutils gives the same dbutils; data.summarize shows a table; a secret is a clear error
from pyspark.dbutils import DBUtils

assert DBUtils(spark) is dbutils
dbutils.data.summarize(spark.range(4))
try:
    dbutils.secrets.get(scope="day07", key="token")
except Exception as exc:
    assert "secret scopes live in a Databricks workspace" in str(exc), exc
else:
    raise AssertionError("a secret must not resolve locally")
assert dbutils.secrets.listScopes() == []

# COMMAND ----------

# DBTITLE 1,The kernel says it is a Databricks Runtime; the context names the user; a call only a workspace has is clear
import os

assert os.environ["DATABRICKS_RUNTIME_VERSION"].split(".")[0].isdigit()
context = dbutils.notebook.entry_point.getDbutils().notebook().getContext()
assert context.userName().get() == spark.sql("SELECT current_user()").first()[0]
assert context.apiToken().getOrElse(None) is None
assert dbutils.fs.mounts() == []
try:
    dbutils.fs.mount("s3a://bucket", "/mnt/bucket")
except AttributeError as exc:
    assert "dbutils.fs.mount is not part of the kit's local Databricks runtime" in str(exc), exc
else:
    raise AssertionError("dbutils.fs.mount must not exist locally")

# COMMAND ----------

# DBTITLE 1,main and hive_metastore are the local catalog; other catalogs are a clear error
assert spark.table("main.fidelity_files.events").count() == len(raw) + 5
assert spark.table("hive_metastore.fidelity_files.events").count() == len(raw) + 5
try:
    spark.table("samples.default.events").count()
except Exception as exc:
    assert "Catalog 'samples'" in str(exc), exc
else:
    raise AssertionError("samples.default.events must not resolve locally")

# COMMAND ----------

# DBTITLE 1,What the Databricks runtime adds to PySpark: df.display() and shuffle partitions set to auto
shown = spark.createDataFrame([(1, "view")], "n INT, event_type STRING")
assert shown.display() is None  # renders like display(shown); plain Spark Connect reads `display` as a column
before = spark.conf.get("spark.sql.shuffle.partitions")
spark.conf.set("spark.sql.shuffle.partitions", "auto")  # Databricks' auto-optimized shuffle; Spark 4 adapts anyway
assert spark.conf.get("spark.sql.shuffle.partitions") == before
spark.conf.set("spark.sql.shuffle.partitions", "7")
assert spark.conf.get("spark.sql.shuffle.partitions") == "7"
spark.conf.set("spark.sql.shuffle.partitions", before)

# COMMAND ----------

# DBTITLE 1,A CHECK constraint: existing rows are checked, the condition is a table property, dropping it works
from pyspark.errors import AnalysisException

spark.sql("ALTER TABLE workspace.fidelity_files.events DROP CONSTRAINT IF EXISTS positive_price")
rule = "coalesce(try_cast(price AS DOUBLE), 0) < 1000000"  # the raw strings; an empty price counts as 0
spark.sql(f"ALTER TABLE workspace.fidelity_files.events ADD CONSTRAINT positive_price CHECK ({rule})")
props = {r.key: r.value for r in spark.sql("SHOW TBLPROPERTIES workspace.fidelity_files.events").collect()}
assert props["delta.constraints.positive_price"] == rule, props
try:
    spark.sql("ALTER TABLE workspace.fidelity_files.events ADD CONSTRAINT cheap CHECK (try_cast(price AS DOUBLE) < 0)")
except AnalysisException as exc:
    assert "DELTA_NEW_CHECK_CONSTRAINT_VIOLATION" in str(exc), exc
else:
    raise AssertionError("a constraint the rows break must not be added")
spark.sql("ALTER TABLE workspace.fidelity_files.events DROP CONSTRAINT positive_price")
spark.sql("ALTER TABLE workspace.fidelity_files.events ADD CONSTRAINT pk PRIMARY KEY (user_session)")  # informational
assert "delta.constraints.positive_price" not in {
    r.key for r in spark.sql("SHOW TBLPROPERTIES workspace.fidelity_files.events").collect()}
assert spark.sql("DESCRIBE HISTORY workspace.fidelity_files.events").first().operation == "DROP CONSTRAINT"

# COMMAND ----------

# DBTITLE 1,SET NOT NULL checks the rows first; DROP NOT NULL lifts it
spark.range(3).write.mode("overwrite").saveAsTable("workspace.fidelity_files.ids")
spark.sql("ALTER TABLE workspace.fidelity_files.ids ALTER COLUMN id SET NOT NULL")
spark.sql("ALTER TABLE workspace.fidelity_files.ids CHANGE COLUMN id DROP NOT NULL")
assert spark.sql("DESCRIBE HISTORY workspace.fidelity_files.ids").first().operation == "CHANGE COLUMN"
try:
    spark.sql("ALTER TABLE workspace.fidelity_files.events ALTER COLUMN brand SET NOT NULL")  # about 14 % are null
except AnalysisException as exc:
    assert "DELTA_NOT_NULL_CONSTRAINT_VIOLATED" in str(exc), exc
else:
    raise AssertionError("a column with nulls must not become NOT NULL")

# COMMAND ----------

# DBTITLE 1,COPY INTO a schemaless table: loads each file once, force loads it again
spark.sql("DROP TABLE IF EXISTS workspace.fidelity_files.copied")
spark.sql("CREATE TABLE IF NOT EXISTS workspace.fidelity_files.copied")
copy = f"""COPY INTO workspace.fidelity_files.copied
FROM (SELECT *, current_timestamp() AS ingestion_ts, _metadata.file_path AS source_file FROM '{vol}/in')
FILEFORMAT = CSV PATTERN = '*.csv'
FORMAT_OPTIONS ('header' = 'true', 'inferSchema' = 'true') COPY_OPTIONS ('mergeSchema' = 'true')"""
loaded = spark.sql(copy).first()
total = spark.read.option("header", True).csv(vol + "/in/events.csv").count()
assert loaded.num_inserted_rows == loaded.num_affected_rows == total, (loaded, total)
copied = spark.table("workspace.fidelity_files.copied")
assert copied.columns[-2:] == ["ingestion_ts", "source_file"] and "event_time" in copied.columns, copied.columns
assert dict(copied.dtypes)["price"] == "double", copied.dtypes  # inferSchema
assert copied.where("source_file LIKE '%/in/events.csv'").count() == total
assert spark.sql(copy).first().num_inserted_rows == 0  # already loaded: skipped
again = spark.sql(copy.replace("('mergeSchema' = 'true')", "('force' = 'true')")).first()
assert again.num_inserted_rows == total and copied.count() == 2 * total, again
assert spark.sql("DESCRIBE HISTORY workspace.fidelity_files.copied").first().operation == "COPY INTO"

# COMMAND ----------

# DBTITLE 1,COPY INTO a table with columns: matched by name and cast; new columns need mergeSchema
spark.sql("""CREATE OR REPLACE TABLE workspace.fidelity_files.typed
  (user_id BIGINT, price DOUBLE, event_type STRING, note STRING)""")
spark.sql(f"""COPY INTO workspace.fidelity_files.typed
  FROM (SELECT event_type, user_id, price FROM '{vol}/in/events.csv')
  FILEFORMAT = CSV FORMAT_OPTIONS ('header' = 'true')""")
typed = spark.table("workspace.fidelity_files.typed")
assert typed.dtypes == [("user_id", "bigint"), ("price", "double"), ("event_type", "string"), ("note", "string")]
assert typed.count() == total and typed.where("note IS NOT NULL").count() == 0
spark.sql("TRUNCATE TABLE workspace.fidelity_files.typed")
try:
    spark.sql(f"COPY INTO workspace.fidelity_files.typed FROM '{vol}/in/events.csv' FILEFORMAT = CSV "
              "FORMAT_OPTIONS ('header' = 'true') COPY_OPTIONS ('force' = 'true')")
except AnalysisException as exc:
    assert "DELTA_METADATA_MISMATCH" in str(exc) and "mergeSchema" in str(exc), exc
else:
    raise AssertionError("columns the table lacks need mergeSchema")

# COMMAND ----------

# DBTITLE 1,A clone is a copy of the source's rows (or of one of its versions)
spark.sql("CREATE OR REPLACE TABLE workspace.fidelity_files.copied_clone DEEP CLONE workspace.fidelity_files.copied")
assert spark.table("workspace.fidelity_files.copied_clone").count() == 2 * total
spark.sql("CREATE OR REPLACE TABLE workspace.fidelity_files.first_load SHALLOW CLONE "
          "workspace.fidelity_files.copied VERSION AS OF 1")
assert spark.table("workspace.fidelity_files.first_load").count() == total
spark.sql("CREATE OR REPLACE TABLE workspace.fidelity_files.clone AS SELECT 1 AS x")  # a table named clone is a table
assert spark.table("workspace.fidelity_files.clone").first().x == 1

# COMMAND ----------

# DBTITLE 1,A catalog of your own is the one local catalog; GRANT and friends check their object and do nothing else
spark.sql("CREATE CATALOG IF NOT EXISTS fidelity_dev")
spark.sql("USE CATALOG fidelity_dev")
spark.sql("CREATE SCHEMA IF NOT EXISTS fidelity_dev.fidelity_files")
spark.sql("CREATE VOLUME IF NOT EXISTS fidelity_dev.fidelity_files.raw")
dbutils.fs.put("/Volumes/fidelity_dev/fidelity_files/raw/one.csv", "id\n1\n2\n", True)
spark.read.csv("/Volumes/fidelity_dev/fidelity_files/raw/one.csv", header=True) \
    .write.mode("overwrite").saveAsTable("fidelity_dev.fidelity_files.own_catalog")
assert spark.table("workspace.fidelity_files.own_catalog").count() == 2
spark.sql("GRANT SELECT ON TABLE fidelity_dev.fidelity_files.own_catalog TO `account users`")
spark.sql("ALTER TABLE fidelity_files.own_catalog SET OWNER TO `someone@example.com`")
spark.sql("ALTER TABLE fidelity_files.own_catalog SET TAGS ('layer' = 'gold')")
assert spark.sql("SHOW GRANTS ON TABLE fidelity_files.own_catalog").count() == 0
try:
    spark.sql("GRANT SELECT ON TABLE fidelity_dev.fidelity_files.no_such_table TO `account users`")
except AnalysisException as exc:
    assert "TABLE_OR_VIEW_NOT_FOUND" in str(exc), exc
else:
    raise AssertionError("a GRANT on a table that does not exist fails, as on Databricks")
spark.sql("USE CATALOG workspace")

# COMMAND ----------

# DBTITLE 1,Partitioned tables keep their column order; positional inserts, static and dynamic overwrites, SHOW PARTITIONS
spark.sql("DROP TABLE IF EXISTS workspace.fidelity_files.sales")
spark.sql("CREATE TABLE workspace.fidelity_files.sales (id INT, country STRING, amount DOUBLE) USING DELTA "
          "PARTITIONED BY (country)")
spark.sql("INSERT INTO workspace.fidelity_files.sales VALUES (1, 'DE', 2.5), (2, 'FR', 1.0)")
assert spark.table("workspace.fidelity_files.sales").columns == ["id", "country", "amount"]
spark.sql("INSERT OVERWRITE workspace.fidelity_files.sales PARTITION (country = 'DE') VALUES (3, 9.5)")


def rows(table):
    return sorted(tuple(r) for r in spark.table(table).collect())


assert rows("workspace.fidelity_files.sales") == [(2, "FR", 1.0), (3, "DE", 9.5)]
more = spark.createDataFrame([(4, "IT", 4.0), (5, "DE", 5.0)], "id int, country string, amount double")
more.write.mode("overwrite").option("partitionOverwriteMode", "dynamic").saveAsTable("workspace.fidelity_files.sales")
assert rows("workspace.fidelity_files.sales") == [(2, "FR", 1.0), (4, "IT", 4.0), (5, "DE", 5.0)]
spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
spark.sql("INSERT OVERWRITE workspace.fidelity_files.sales SELECT 6, 'FR', 6.0")
spark.conf.set("spark.sql.sources.partitionOverwriteMode", "static")
assert rows("workspace.fidelity_files.sales") == [(4, "IT", 4.0), (5, "DE", 5.0), (6, "FR", 6.0)]
assert [r.country for r in spark.sql("SHOW PARTITIONS workspace.fidelity_files.sales").collect()] == ["DE", "FR", "IT"]
detail = spark.sql("DESCRIBE DETAIL workspace.fidelity_files.sales").first()
assert detail.partitionColumns == ["country"], detail
more.write.mode("overwrite").partitionBy("country").saveAsTable("workspace.fidelity_files.by_country")
more.write.insertInto("workspace.fidelity_files.by_country")  # by position, in the order the table was created with
assert spark.table("workspace.fidelity_files.by_country").columns == ["id", "country", "amount"]
assert rows("workspace.fidelity_files.by_country") == sorted([(4, "IT", 4.0), (5, "DE", 5.0)] * 2)
more.write.mode("overwrite").saveAsTable("workspace.fidelity_files.by_country")  # keeps its partition columns
assert spark.sql("DESCRIBE DETAIL workspace.fidelity_files.by_country").first().partitionColumns == ["country"]
spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
spark.createDataFrame([(7, "DE", 7.0)], "a int, b string, c double").write.insertInto(
    "workspace.fidelity_files.by_country", overwrite=True)  # by position, and only the DE partition
spark.conf.set("spark.sql.sources.partitionOverwriteMode", "static")
assert rows("workspace.fidelity_files.by_country") == [(4, "IT", 4.0), (7, "DE", 7.0)]
try:
    spark.read.option("readChangeFeed", "true").option("startingVersion", 0).table("workspace.fidelity_files.sales")
except Exception as exc:
    assert "DELTA_CHANGE_DATA_FEED_NOT_EMULATED" in str(exc) and "databricks-only-sql" in str(exc), exc
else:
    raise AssertionError("the change data feed is a clear error, never the table read as it is")

# COMMAND ----------

# DBTITLE 1,Databricks' sample data sets and the SparkContext are clear errors, as serverless gives for sc
for attempt in (lambda: dbutils.fs.ls("/databricks-datasets/retail-org/"),
                lambda: spark.read.csv("dbfs:/databricks-datasets/retail-org/customers.csv").schema):
    try:
        attempt()
    except Exception as exc:
        assert "not available locally" in str(exc) and "/databricks-datasets" in str(exc), exc
    else:
        raise AssertionError("/databricks-datasets does not exist locally")
try:
    sc.parallelize([1, 2])
except Exception as exc:
    assert "JVM_ATTRIBUTE_NOT_SUPPORTED" in str(exc), exc
else:
    raise AssertionError("sc is Spark Connect's clear error")

# COMMAND ----------

# DBTITLE 1,A streaming aggregation in complete mode replaces its Delta table's rows each batch
spark.createDataFrame([("a",), ("b",), ("a",)], "k string").write.mode("overwrite") \
    .saveAsTable("workspace.fidelity_files.clicks")
dbutils.fs.rm("/Volumes/workspace/fidelity_files/landing/chk_counts", True)
for _ in range(2):
    query = (spark.readStream.table("workspace.fidelity_files.clicks").groupBy("k").count()
             .writeStream.outputMode("complete")
             .option("checkpointLocation", "/Volumes/workspace/fidelity_files/landing/chk_counts")
             .trigger(availableNow=True).toTable("workspace.fidelity_files.click_counts"))
    query.awaitTermination()
    assert query.lastProgress["numInputRows"] >= 1, query.lastProgress  # the total, as Runtime 17's JSON has it
    spark.createDataFrame([("b",)], "k string").write.mode("append").saveAsTable("workspace.fidelity_files.clicks")
assert rows("workspace.fidelity_files.click_counts") == [("a", 2), ("b", 2)]

# COMMAND ----------

# DBTITLE 1,A volume path built from a conf value in SQL (the Academy setup's ${da.paths.working_dir})
spark.conf.set("da.paths.working_dir", "/Volumes/workspace/fidelity_files/landing")
dbutils.fs.put("/Volumes/workspace/fidelity_files/landing/conf_path.csv", "id\n1\n2\n", True)
assert spark.sql("SELECT count(*) AS n FROM csv.`${da.paths.working_dir}/conf_path.csv`").first().n == 3  # header too

# COMMAND ----------

# DBTITLE 1,A Delta folder read as a stream knows its schema
spark.range(3).write.format("delta").mode("overwrite").save("/Volumes/workspace/fidelity_files/landing/ids_delta")
dbutils.fs.rm("/Volumes/workspace/fidelity_files/landing/chk_ids", True)
(spark.readStream.format("delta").load("/Volumes/workspace/fidelity_files/landing/ids_delta")
 .writeStream.option("checkpointLocation", "/Volumes/workspace/fidelity_files/landing/chk_ids")
 .trigger(availableNow=True).toTable("workspace.fidelity_files.ids_copy").awaitTermination())
assert spark.table("workspace.fidelity_files.ids_copy").count() == 3
