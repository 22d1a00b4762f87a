# Databricks notebook source
# BEGIN SOLUTION demo.twice: Set y to two.
y = 2
# END SOLUTION

# COMMAND ----------

# BEGIN SOLUTION demo.twice: Set z to three.
z = 3
# END SOLUTION
