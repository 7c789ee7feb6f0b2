# MLflow tracking server (mlflow pinned like requirements.txt) with the Postgres driver, for
# docker-compose.yaml (Postgres backend) and docker-compose.override.yml (SQLite backend).
FROM python:3.12-slim-bookworm
RUN pip install --no-cache-dir "mlflow[auth]==3.17.2" psycopg2-binary==2.9.10
# MLflow's basic-auth app (docker-compose.yaml): users and permissions in the mlflow-auth volume;
# the admin user and password come from MLFLOW_AUTH_ADMIN_USERNAME / MLFLOW_AUTH_ADMIN_PASSWORD.
COPY docker/mlflow_basic_auth.ini /app/basic_auth.ini
EXPOSE 5000
