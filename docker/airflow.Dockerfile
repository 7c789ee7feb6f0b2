# Airflow image for docker-compose.yaml: the official Airflow 3.3.2 image plus the
# project's Python dependencies. DAGs, crews and include/ are mounted at run time.
FROM apache/airflow:3.3.2-python3.11
COPY requirements.txt /requirements.txt
RUN pip install --no-cache-dir -r /requirements.txt
