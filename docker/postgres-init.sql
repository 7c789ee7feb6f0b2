-- Databases and roles for the MLflow tracking server (mlflow) and the crews' results table
-- (crews), next to Airflow's own database. The postgres image runs this file once, when its
-- volume is first initialised (/docker-entrypoint-initdb.d). The passwords are not in this file:
-- psql's \getenv (PostgreSQL 15+) reads them from the container's environment, where
-- docker-compose.yaml puts MLFLOW_DB_PASSWORD and CREWS_DB_PASSWORD from .env. An unset variable
-- leaves :'...' unsubstituted, a syntax error that stops the initialisation.
-- To change a password later: ALTER ROLE mlflow PASSWORD '...'; (or drop the postgres volume).
\getenv mlflow_db_password MLFLOW_DB_PASSWORD
\getenv crews_db_password CREWS_DB_PASSWORD

CREATE ROLE mlflow LOGIN PASSWORD :'mlflow_db_password';
CREATE DATABASE mlflow OWNER mlflow;

CREATE ROLE crews LOGIN PASSWORD :'crews_db_password';
CREATE DATABASE crews OWNER crews;
