# MLflow tracking server (mlflow pinned like requirements.txt) with the Postgres driver, for
# docker-compose.yaml (Postgres backend) and docker-compose.override.yml (SQLite backend).
FROM python:3.12-slim-bookworm
RUN pip install --no-cache-dir mlflow==3.17.2 psycopg2-binary==2.9.10
EXPOSE 5000
