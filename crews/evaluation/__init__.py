"""Evaluation and drift tracking for the crews (golden sets, scorers, drift statistics)."""
