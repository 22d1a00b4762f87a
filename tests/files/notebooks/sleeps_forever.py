# Databricks notebook source
import time

print("going to sleep")

# COMMAND ----------

while True:
    time.sleep(0.1)
