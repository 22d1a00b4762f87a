# Databricks notebook source
raise ValueError("this notebook always fails")
