# Databricks notebook source
# Placeholder notebook: job files in this folder point here so their notebook paths resolve.
