"""Segments: keep the raw recency-weighted satisfaction and its evidence beside the shrunk one."""

VERSION = 31
NAME = "satisfaction_evidence"

SQL = """
ALTER TABLE customer_features ADD COLUMN satisfaction_raw REAL;
ALTER TABLE customer_features ADD COLUMN satisfaction_weight REAL;
"""
