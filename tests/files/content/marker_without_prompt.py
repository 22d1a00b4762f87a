# Databricks notebook source
# BEGIN SOLUTION demo.no_prompt
y = 2
# END SOLUTION
