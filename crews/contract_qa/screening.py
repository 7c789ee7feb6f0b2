"""Moved to :mod:`crews.screening` (shared with the fact-check crew); kept for importers."""

from crews.screening import WITHHELD, screen

__all__ = ["WITHHELD", "screen"]
