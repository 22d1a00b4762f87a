# Databricks notebook source
# Fails until the marker file exists (a test creates it between a run and its repair).
import pathlib

marker = pathlib.Path(dbutils.widgets.get("marker"))
if not marker.exists():
    raise FileNotFoundError(f"{marker} is not there yet")
dbutils.notebook.exit("marker found")
