# Databricks notebook source
# MAGIC %md
# MAGIC # 02 Silver, one SQL statement

# COMMAND ----------

dbutils.widgets.text("schema", "day07")
schema = dbutils.widgets.get("schema")

# COMMAND ----------

spark.sql(f"DROP TABLE IF EXISTS {schema}.silver_events")
spark.sql(f"""
CREATE TABLE {schema}.silver_events AS
WITH typed AS (
  SELECT try_cast(event_time AS TIMESTAMP) AS event_time,  -- a timestamp already when bronze inferred types
         lower(trim(CAST(event_type AS STRING))) AS event_type,
         try_cast(product_id AS BIGINT) AS product_id,
         try_cast(category_id AS BIGINT) AS category_id,
         category_code, brand,
         try_cast(price AS DOUBLE) AS price,
         try_cast(user_id AS BIGINT) AS user_id,
         user_session
  FROM {schema}.bronze_events
),
valid AS (
  SELECT * FROM typed
  WHERE event_time IS NOT NULL AND event_type IS NOT NULL AND product_id IS NOT NULL
    AND user_id IS NOT NULL AND user_session IS NOT NULL
    AND event_type IN ('view', 'cart', 'remove_from_cart', 'purchase')
    AND price > 0 AND price < 10000
),
ranked AS (
  SELECT *, row_number() OVER (PARTITION BY user_session, event_time, event_type, product_id
                               ORDER BY price) AS copy
  FROM valid
)
SELECT event_time, event_type, product_id, category_id,
       coalesce(category_code, 'unknown') AS category_code,
       coalesce(brand, 'unknown') AS brand,
       price, user_id, user_session,
       CAST(event_time AS DATE) AS event_date,
       CASE WHEN price < 10 THEN 'budget' WHEN price < 50 THEN 'mid' ELSE 'premium' END AS price_tier
FROM ranked
WHERE copy = 1
""")

# COMMAND ----------

dbutils.jobs.taskValues.set(key="silver_rows", value=spark.table(f"{schema}.silver_events").count())
