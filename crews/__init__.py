"""Role-based CrewAI crews whose every LLM call is tracked in MLflow.

Importing this package switches CrewAI's telemetry and cloud tracing off for the
whole process before crewai itself is imported. (Not with ``OTEL_SDK_DISABLED``:
that also turns MLflow tracing into a no-op.) It imports nothing heavy, so DAG
files may import constants from it.
"""

import os

QUIET_CREWAI = {
    "CREWAI_DISABLE_TELEMETRY": "true",
    "CREWAI_DISABLE_TRACKING": "true",
    "CREWAI_TRACING_ENABLED": "false",
    "CREWAI_TESTING": "true",
}
for _key, _value in QUIET_CREWAI.items():
    os.environ.setdefault(_key, _value)
