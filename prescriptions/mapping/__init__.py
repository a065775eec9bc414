"""Stored plans <-> domain values, and plans -> handout snapshots."""
