# Databricks notebook source
# DBTITLE 1,Free Edition has only the workspace catalog
# MAGIC %run ./helpers/uses_samples
