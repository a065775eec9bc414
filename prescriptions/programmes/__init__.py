"""Programmes: a course of care in four-week blocks, its timeline, the next block, outcomes."""
