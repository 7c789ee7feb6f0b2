"""Fact-checking crew: checks each claim of marketing copy against a fact sheet and revises the copy."""
