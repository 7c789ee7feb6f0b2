"""The Airflow side of the crews: task helpers the crew DAGs share. Every call into the crews goes through
:mod:`crews.service`. No DAGs here (see ``dags/.airflowignore``); a uniquely named package, importable
wherever Airflow puts the DAGs folder on ``sys.path`` (local stack, ``astro dev start``, a hosted deployment).
"""
