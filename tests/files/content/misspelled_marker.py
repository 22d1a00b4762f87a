# Databricks notebook source
# BEGIN SOLUTIONS demo.typo: Set y to two.
y = 2
# END SOLUTION
