# Databricks notebook source
# BEGIN SOLUTION demo.first: Set y to two.
y = 2
# END SOLUTION
# BEGIN SOLUTION demo.second: Set z to three.
z = 3
# END SOLUTION
