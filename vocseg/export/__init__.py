"""Exports for pandas and BI tools (documents)."""
