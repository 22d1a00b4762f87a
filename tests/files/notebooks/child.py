# Databricks notebook source
dbutils.widgets.text("name", "default-name")
dbutils.notebook.exit("hello " + dbutils.widgets.get("name"))
