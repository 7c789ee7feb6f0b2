-- A separate database and role for the MLflow tracking server.
-- Change the password together with MLFLOW_DB_PASSWORD in .env.
CREATE ROLE mlflow LOGIN PASSWORD 'mlflow';
CREATE DATABASE mlflow OWNER mlflow;
