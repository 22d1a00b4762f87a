# Databricks notebook source
# BEGIN SOLUTION demo.empty: Set y to two.
# END SOLUTION
