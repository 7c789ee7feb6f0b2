"""Connection arguments for the local Airflow's SQLite metadata database (scripts/stack.py).

Python opens SQLite with a 5 s busy timeout. On 2 cores, with the scheduler, DAG processor,
API server and up to four task processes writing to one file, a writer can wait longer than
that, and the request fails with "database is locked" (the REST API answers HTTP 500
"Database error"). Waiting up to 30 s turns those failures into short delays.
Airflow imports these through ``[database] sql_alchemy_connect_args`` and ``..._async``;
clients of the API must then wait longer than this (stack.py sets the workers' timeout).
"""

BUSY_TIMEOUT_S = 30

CONNECT_ARGS = {"timeout": BUSY_TIMEOUT_S}
CONNECT_ARGS_ASYNC = {"timeout": BUSY_TIMEOUT_S}
