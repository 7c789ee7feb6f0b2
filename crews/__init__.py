"""Role-based CrewAI crews whose every LLM call is tracked in MLflow.

Importing this package switches CrewAI's telemetry and cloud tracing off for the
whole process before crewai itself is imported. (Not with ``OTEL_SDK_DISABLED``:
that also turns MLflow tracing into a no-op.) It imports nothing heavy, so DAG
files may import constants from it. Records logged by ``crews.*`` loggers pass
through :class:`crews.tracking.redaction.RedactingFilter` (PII redaction).
"""

import logging
import os

QUIET_CREWAI = {
    "CREWAI_DISABLE_TELEMETRY": "true",
    "CREWAI_DISABLE_TRACKING": "true",
    "CREWAI_TRACING_ENABLED": "false",
    "CREWAI_TESTING": "true",
}
for _key, _value in QUIET_CREWAI.items():
    os.environ.setdefault(_key, _value)


def _redacting(make_record):
    """Wrap the log record factory so ``crews.*`` records are redacted as they are made.

    (A filter on the ``crews`` logger would not see its children's records.) The
    filter module loads with the first such record; with ``CREWS_REDACT_PII=false``
    it still redacts credentials in URLs.
    """

    def factory(*args, **kwargs):
        record = make_record(*args, **kwargs)
        name = record.name or ""  # logging.makeLogRecord() makes a blank record first
        if name == "crews" or name.startswith("crews."):
            try:
                from crews.tracking.redaction import RedactingFilter

                RedactingFilter().filter(record)
            except Exception as exc:  # fail closed, and never break the caller
                record.msg, record.args = f"<log message withheld: PII redaction failed: {exc!r}>", None
        return record

    factory.crews_redacting = True
    return factory


if not getattr(logging.getLogRecordFactory(), "crews_redacting", False):
    logging.setLogRecordFactory(_redacting(logging.getLogRecordFactory()))
