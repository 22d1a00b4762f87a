"""Grading a submission: expectations from the raw data, checks, reports."""
