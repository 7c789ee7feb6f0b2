# Airflow image for docker-compose.yaml: the official Apache Airflow 3.3.2 image (Python 3.12, the
# Python of the Astro image too) plus the project's dependencies. The tag is the apache-airflow pin
# of requirements.txt (tests/deploy check both). dags/, plugins/, include/ and crews/ are mounted at
# run time, so only requirements.txt is copied in.
FROM apache/airflow:3.3.2-python3.12

COPY requirements.txt /requirements.txt
# As in "Extending the image" (Airflow's docker-stack docs): pin Airflow to the image's version so
# pip cannot move it, and keep the Celery, Postgres and Redis providers the compose file needs in
# the same resolution as requirements.txt.
RUN pip install --no-cache-dir "apache-airflow[celery,postgres,redis]==${AIRFLOW_VERSION}" -r /requirements.txt
