"""Tracking layer: CrewAI events -> MLflow runs and traces. Crews never import this."""

from crews.tracking.context import RunContext
from crews.tracking.tracker import CrewRunTracker

__all__ = ["CrewRunTracker", "RunContext"]
