# Databricks notebook source
y = 2
# END SOLUTION
