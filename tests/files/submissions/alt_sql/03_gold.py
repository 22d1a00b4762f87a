# Databricks notebook source
# MAGIC %md
# MAGIC # 03 Gold, in Spark SQL

# COMMAND ----------

dbutils.widgets.text("schema", "day07")
schema = dbutils.widgets.get("schema")

# COMMAND ----------

spark.sql(f"DROP TABLE IF EXISTS {schema}.gold_product_metrics")
spark.sql(f"""
CREATE TABLE {schema}.gold_product_metrics AS
SELECT product_id, views, carts, purchases, revenue,
       CASE WHEN views > 0 THEN round(purchases * 100.0 / views, 2) END AS conversion_rate
FROM (
  SELECT product_id,
         count(DISTINCT IF(event_type = 'view', user_id, NULL)) AS views,
         count(DISTINCT IF(event_type = 'cart', user_id, NULL)) AS carts,
         count(DISTINCT IF(event_type = 'purchase', user_id, NULL)) AS purchases,
         round(sum(IF(event_type = 'purchase', price, 0.0)), 2) AS revenue
  FROM {schema}.silver_events
  GROUP BY product_id
)
""")

# COMMAND ----------

spark.sql(f"DROP TABLE IF EXISTS {schema}.gold_daily_sales")
spark.sql(f"""
CREATE TABLE {schema}.gold_daily_sales AS
SELECT event_date, orders, buyers, revenue, round(revenue / orders, 2) AS avg_order_value
FROM (
  SELECT event_date, count(*) AS orders, count(DISTINCT user_id) AS buyers, round(sum(price), 2) AS revenue
  FROM {schema}.silver_events
  WHERE event_type = 'purchase'
  GROUP BY event_date
)
""")
