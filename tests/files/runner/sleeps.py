# Databricks notebook source
# Never ends on its own: only a timeout stops it.
import time

while True:
    time.sleep(0.2)
