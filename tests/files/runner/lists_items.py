# Databricks notebook source
# Sets the list a for_each_task iterates over, as a task value.
dbutils.jobs.taskValues.set("items", ["bronze", "silver", "gold"])
