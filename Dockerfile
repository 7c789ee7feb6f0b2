# The Astro project image (`astro dev start`, `astro dev pytest`, `astro deploy`).
#
# Astro Runtime 3.3-8 carries Apache Airflow 3.3.2, the apache-airflow pin in requirements.txt
# (Astronomer's runtime catalog, https://updates.astronomer.io/astronomer-runtime; see the table
# in tests/deploy/project_files.py). Its default Python is 3.14, which crewai 1.15.30 does
# not support (Requires-Python <3.14), so this is the build's Python 3.12 variant.
FROM astrocrpublic.azurecr.io/runtime:3.3-8-python-3.12

# The base image's ONBUILD steps have run by now: packages.txt and requirements.txt are
# installed and the project is copied to /usr/local/airflow (minus .dockerignore), as user astro.

# crews/ is imported by the DAGs: make the project root importable. CrewAI telemetry and cloud
# tracing off in every process (the same switches as crews.QUIET_CREWAI). OTEL_SDK_DISABLED is
# deliberately not set: it also turns MLflow tracing into a no-op.
# The crews' state (response cache, tracking spool, results DB) lives in /usr/local/airflow/state,
# a volume under `astro dev start` (docker-compose.override.yml).
ENV PYTHONPATH=/usr/local/airflow${PYTHONPATH:+:${PYTHONPATH}} \
    CREWAI_DISABLE_TELEMETRY=true \
    CREWAI_DISABLE_TRACKING=true \
    CREWAI_TRACING_ENABLED=false \
    CREWAI_TESTING=true \
    CREWS_STATE_DIR=/usr/local/airflow/state

USER root
RUN mkdir -p /usr/local/airflow/state && chown astro:0 /usr/local/airflow/state
USER astro
