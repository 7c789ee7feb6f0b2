# The two commands of the README are `make run` and `make test`.
PY := .venv/bin/python
# `make up EXECUTOR=celery WORKERS=2`: Airflow on CeleryExecutor with Postgres and Redis (the same for
# run and test); the default is LocalExecutor on SQLite. CREWS_EXECUTOR/CREWS_WORKERS work as well.
ifdef EXECUTOR
export CREWS_EXECUTOR := $(EXECUTOR)
endif
ifdef WORKERS
export CREWS_WORKERS := $(WORKERS)
endif

.PHONY: install run up trigger stop status test test-fast lint bench

install:            ## create .venv and install the pinned dependencies (no-op when current)
	bash scripts/install.sh

run: install        ## start LLM + MLflow + Airflow, trigger fact_check_copy over REST, print results
	$(PY) scripts/stack.py up
	$(PY) scripts/stack.py trigger fact_check_copy

up: install
	$(PY) scripts/stack.py up

trigger: up         ## make trigger DAG=fact_check_copy CONF='{"drafts": [...]}' (starts the stack if needed)
	$(PY) scripts/stack.py trigger $(or $(DAG),fact_check_copy) --conf '$(or $(CONF),{})'

stop:               ## stop every server of the local stack
	$(PY) scripts/stack.py down

status:
	$(PY) scripts/stack.py status

test: install       ## the whole suite: unit, DAG (dag.test), and end-to-end against the real stack
	$(PY) -m pytest

test-fast: install  ## everything except the end-to-end tests
	$(PY) -m pytest -m "not e2e"

lint:
	$(PY) -m ruff check crews dags plugins scripts tests benchmarks

bench: install      ## benchmarks (not part of `make test`): table in benchmarks/results/latest.md; ARGS='--only 1,3 --quick'
	$(PY) -m benchmarks $(ARGS)
