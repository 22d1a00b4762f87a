# Databricks notebook source
# BEGIN SOLUTION demo.outer: Set y to two.
# BEGIN SOLUTION demo.inner: Set z to three.
z = 3
# END SOLUTION
# END SOLUTION
