-- Databricks notebook source
-- DBTITLE 1,Unity Catalog statements a SQL notebook uses: volumes, automatic clustering
CREATE SCHEMA IF NOT EXISTS workspace.fidelity_uc;
CREATE VOLUME IF NOT EXISTS workspace.fidelity_uc.landing;
CREATE OR REPLACE TABLE workspace.fidelity_uc.events (id BIGINT, kind STRING) CLUSTER BY AUTO;
ALTER TABLE workspace.fidelity_uc.events CLUSTER BY AUTO;
INSERT INTO workspace.fidelity_uc.events VALUES (1, 'view'), (2, 'cart')

-- COMMAND ----------

-- MAGIC %python
-- MAGIC assert spark.table("workspace.fidelity_uc.events").count() == 2
-- MAGIC assert [r.catalog for r in spark.sql("SHOW CATALOGS").collect()] == ["workspace"]
-- MAGIC shown = spark.sql("SHOW VOLUMES IN workspace.fidelity_uc").collect()
-- MAGIC assert [(r.database_name, r.volume_name) for r in shown] == [("fidelity_uc", "landing")], shown
-- MAGIC described = spark.sql("DESCRIBE VOLUME workspace.fidelity_uc.landing").first()
-- MAGIC assert described.storage_location == "/Volumes/workspace/fidelity_uc/landing", described
-- MAGIC dbutils.fs.put("/Volumes/workspace/fidelity_uc/landing/a.csv", "id\n1\n", True)
-- MAGIC listed = spark.sql("LIST '/Volumes/workspace/fidelity_uc/landing'").collect()
-- MAGIC assert [(r.name, r.size) for r in listed] == [("a.csv", 5)], listed
-- MAGIC spark.sql("CREATE VOLUME IF NOT EXISTS main.fidelity_uc.other")  # main is the workspace catalog here
-- MAGIC other = spark.sql("DESCRIBE VOLUME main.fidelity_uc.other").first()
-- MAGIC assert other.storage_location == "/Volumes/workspace/fidelity_uc/other", other
-- MAGIC shown = [r.volume_name for r in spark.sql("SHOW VOLUMES IN main.fidelity_uc").collect()]
-- MAGIC assert shown == ["landing", "other"], shown
-- MAGIC assert listed[0].path == "/Volumes/workspace/fidelity_uc/landing/a.csv"
