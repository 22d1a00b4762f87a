# Databricks notebook source
# BEGIN SOLUTION
y = 2
# END SOLUTION
