# Databricks notebook source
x = 1

# COMMAND ----------

# BEGIN SOLUTION demo.unclosed: Set y to two.
y = 2
