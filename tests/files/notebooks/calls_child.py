# Databricks notebook source
result = dbutils.notebook.run("./child", 60, {"name": "from-parent"})
dbutils.notebook.exit("child said " + result)
